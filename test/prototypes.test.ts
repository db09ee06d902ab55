// SupProto's prototype placements (src/losses/prototypes.ts): the released random antipodal pair and the
// paper's fitted one, the latter against float64 optima of the same objectives computed here.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { expectClose, rng } from './reference/check.js';
import { expectRejectedBeforeGpu, normalArr } from './helpers.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(2718);

async function take(make: () => T.Tensor): Promise<number[]> {
  const t = T.scope(make);
  const values = Array.from(await t.read());
  t.dispose();
  return values;
}

const unit = (v: ArrayLike<number>) => {
  const n = Math.hypot(...Array.from(v));
  return Array.from(v, (x) => x / n);
};
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

function expectAntipodalUnit(rows: number[], d: number): void {
  const [p, q] = [rows.slice(0, d), rows.slice(d)];
  expect(Math.hypot(...p)).toBeCloseTo(1, 6);
  expect(q).toEqual(p.map((x) => -x));
}

describe('antipodalPrototypes (released TTC placement)', () => {
  it('is [p, −p] with |p| = 1, the same for the same seed and different for another', async () => {
    const a = await take(() => T.antipodalPrototypes(16, 7));
    expect(a.length).toBe(32);
    expectAntipodalUnit(a, 16);
    expect(await take(() => T.antipodalPrototypes(16, 7))).toEqual(a);
    const b = await take(() => T.antipodalPrototypes(16, 8));
    expect(Math.abs(dot(a.slice(0, 16), b.slice(0, 16)))).toBeLessThan(0.99);
    // Independent of the global random sequence.
    T.manualSeed(123);
    T.scope(() => void T.randn([5]));
    expect(await take(() => T.antipodalPrototypes(16, 7))).toEqual(a);
  });

  it('D = 1 gives [[±1], [∓1]]', async () => {
    const a = await take(() => T.antipodalPrototypes(1, 3));
    expect(Math.abs(a[0])).toBeCloseTo(1, 6);
    expect(a[1]).toBe(-a[0]);
  });
});

describe('fitPrototypes (the paper: p_maj fitted to the majority, p_min = −p_maj)', () => {
  const d = 8;
  /** N embeddings (not unit) around ±u: majority around u, minority around −u + noise, 90/10. */
  function data(n: number, spread: number) {
    const u = unit(normalArr([d], next).data);
    const noise = normalArr([n, d], next, 0, spread);
    const labels = Array.from({ length: n }, (_, i) => (i % 10 === 3 ? 1 : 0));
    const rows = labels.map((y, i) => Array.from({ length: d }, (_, q) => (y === 0 ? 2 * u[q] : -u[q]) + noise.data[i * d + q]));
    return { labels, rows, flat: Float32Array.from(rows.flat()) };
  }

  /** float64 optimum of the cosine objective: normalize(Σ normalize(z_i)) over the majority (or all rows). */
  function cosineOptimum(rows: number[][], labels: number[], majority: number | 'all'): number[] {
    const s = new Array<number>(d).fill(0);
    rows.forEach((r, i) => (majority === 'all' || labels[i] === majority) && unit(r).forEach((x, q) => (s[q] += x)));
    return unit(s);
  }

  /**
   * float64 optimum of the mean chord distance on the sphere: the stationarity condition
   * Σ (ẑ_i − p)/‖ẑ_i − p‖ ∥ p gives the fixed point p = normalize(Σ ẑ_i / ‖ẑ_i − p‖) (Weiszfeld).
   */
  function euclideanOptimum(rows: number[][], labels: number[], majority: number): number[] {
    const z = rows.filter((_, i) => labels[i] === majority).map(unit);
    let p = cosineOptimum(rows, labels, majority);
    for (let it = 0; it < 10_000; it++) {
      const s = new Array<number>(d).fill(0);
      for (const zi of z) {
        const dist = Math.hypot(...zi.map((x, q) => x - p[q]));
        zi.forEach((x, q) => (s[q] += x / dist));
      }
      p = unit(s);
    }
    return p;
  }

  const objective = (p: number[], z: number[][], euclid: boolean) =>
    z.reduce((a, zi) => a + (euclid ? Math.hypot(...zi.map((x, q) => x - p[q])) : 1 - dot(zi, p)), 0) / z.length;

  for (const distance of ['cosine', 'euclidean'] as const) {
    it(`${distance}: converges to the float64 optimum; minority = −majority; rows in class order`, async () => {
      const { labels, rows, flat } = data(60, 0.6);
      const [cos, euc] = [cosineOptimum(rows, labels, 0), euclideanOptimum(rows, labels, 0)];
      const want = distance === 'cosine' ? cos : euc;
      // The two objectives have different optima here, so the check tells them apart.
      expect(Math.max(...cos.map((x, q) => Math.abs(x - euc[q])))).toBeGreaterThan(1e-3);
      const z = rows.filter((_, i) => labels[i] === 0).map(unit);
      // The optimum is a minimum: any nearby unit vector does worse.
      for (let k = 0; k < 5; k++) {
        const nearby = unit(want.map((x) => x + 0.05 * (next() - 0.5)));
        expect(objective(nearby, z, distance === 'euclidean')).toBeGreaterThan(objective(want, z, distance === 'euclidean'));
      }
      const got = await take(() => T.fitPrototypes(T.tensor(flat, [60, d]), labels, { distance, steps: 200, seed: 5 }));
      expectAntipodalUnit(got, d);
      expectClose(got.slice(0, d), want, 1e-4, `${distance} prototype of class 0 (majority)`);
    });
  }

  it('majority 1 (device labels, majorityClass given): row 1 is p_maj; the seed only moves the start', async () => {
    const { labels, rows, flat } = data(40, 0.5);
    const flipped = labels.map((y) => 1 - y);
    const want = cosineOptimum(rows, flipped, 1);
    const fit = (seed: number) =>
      take(() => T.fitPrototypes(T.tensor(flat, [40, d]), T.tensor(Int32Array.from(flipped), [40], 'i32'), { majorityClass: 1, steps: 150, seed }));
    const live = T.engine().memory().liveTensors;
    const [a, b] = [await fit(1), await fit(2)];
    expect(T.engine().memory().liveTensors, 'tensors left behind by the fit').toBe(live);
    expectAntipodalUnit(a, d);
    expectClose(a.slice(d), want, 1e-4, 'prototype of class 1 (majority)');
    expectClose(b, a, 1e-4, 'fits from two seeds');
  });

  it("fitTo 'all' (the paper's literal wording): the optimum over every row, still owned by the majority", async () => {
    const { labels, rows, flat } = data(30, 0.5);
    const want = cosineOptimum(rows, labels, 'all');
    expect(Math.max(...want.map((x, q) => Math.abs(x - cosineOptimum(rows, labels, 0)[q])))).toBeGreaterThan(1e-3);
    const got = await take(() => T.fitPrototypes(T.tensor(flat, [30, d]), labels, { fitTo: 'all', steps: 200 }));
    expectAntipodalUnit(got, d);
    expectClose(got.slice(0, d), want, 1e-4, 'prototype of class 0 fitted to all rows');
  });

  it('rejects bad input before any GPU work', () => {
    const z = (shape: number[], dtype: T.DType = 'f32') => T.tensor(new Array(shape.reduce((a, b) => a * b, 1)).fill(0), shape, dtype);
    expectRejectedBeforeGpu(() => T.antipodalPrototypes(0, 1), /antipodalPrototypes: dim must be a positive integer, got 0/);
    expectRejectedBeforeGpu(() => T.antipodalPrototypes(4, -1), /antipodalPrototypes: seed must be an integer in \[0, 2\^32\), got -1/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4]), [0, 0, 1, 0]), /fitPrototypes: expected embeddings \[N, D\].*\[4\] f32/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2], 'i32'), [0, 0, 1, 0]), /fitPrototypes: embeddings has dtype i32/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 0, 1]), /fitPrototypes: expected 4 labels \(one per embedding\), got 3/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 2, 1, 0]), /fitPrototypes: label 1 is 2, expected 0 or 1/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 1, 1, 0]), /fitPrototypes: the two classes are equally frequent; pass majorityClass/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 0, 0, 0], { majorityClass: 1 }), /fitPrototypes: no embedding has the majority label 1/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), z([4], 'i32')), /fitPrototypes: pass majorityClass with device labels/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), z([4])), /fitPrototypes: labels has dtype f32/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 0, 1, 0], { steps: 0 }), /fitPrototypes: steps must be a positive integer, got 0/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 0, 1, 0], { lr: -1 }), /fitPrototypes: lr must be a positive finite number, got -1/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 0, 1, 0], { distance: 'l1' as 'cosine' }), /fitPrototypes: distance must be 'cosine' or 'euclidean', got l1/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 0, 1, 0], { fitTo: 'minority' as 'all' }), /fitPrototypes: fitTo must be 'majority' or 'all', got minority/);
    expectRejectedBeforeGpu(() => T.fitPrototypes(z([4, 2]), [0, 0, 1, 0], { majorityClass: 2 }), /fitPrototypes: majorityClass must be 0 or 1, got 2/);
  });
});
