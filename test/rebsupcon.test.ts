// The Reb-SupCon components (SPEC 4.1, 5, 6): Sinkhorn kernel, prototype losses, rebalancing factor,
// rebalanced loss on the MoCo queue, key-encoder EMA and the key queue, against float64 references
// written from SPEC.md (test/reference/rebsupcon.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { checkOp, expectClose, rng } from './reference/check.js';
import { aggregationRef, separationRef, sinkhornRef, swapRef } from './reference/rebsupcon.js';
import { expectRejectedBeforeGpu, normalArr, useCooperativeThreads } from './helpers.js';
import type { Arr } from './reference/ops.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(6006);

/** Unit rows [n, d] (float32-rounded). */
function unitRows(n: number, d: number): Arr {
  const p = normalArr([n, d], next);
  for (let c = 0; c < n; c++) {
    const row = p.data.subarray(c * d, (c + 1) * d);
    const s = Math.hypot(...row);
    row.set(Float32Array.from(row, (x) => x / s));
  }
  return p;
}

function matmulT(a: Arr, b: Arr): Arr {
  const [n, d] = a.shape;
  const m = b.shape[0];
  const out = { shape: [n, m], data: new Float64Array(n * m) };
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let q = 0; q < d; q++) s += a.data[i * d + q] * b.data[j * d + q];
    out.data[i * m + j] = Math.fround(s);
  }
  return out;
}

const up = (a: Arr) => T.tensor(Float32Array.from(a.data), a.shape);

for (const width of [4, 256]) describe(`sinkhorn (SPEC 4.1), ${width} cooperative threads`, () => {
  useCooperativeThreads(width);
  const cases: [number, number, number, number][] = [
    [24, 5, 3, 0.05], [6, 17, 3, 0.05], [24, 5, 1, 0.05], [6, 17, 10, 0.05], [40, 40, 3, 0.1], [130, 300, 3, 0.05],
  ];
  for (const [b, k, n, eps] of cases) {
    it(`B=${b} K=${k} iterations=${n} ε=${eps}: values, rows sum to 1, prototype mass ≈ B/K`, async () => {
      const s = matmulT(unitRows(b, 16), unitRows(k, 16));
      const want = sinkhornRef(s, eps, n);
      const got = await T.scope(() => T.sinkhorn(up(s), { epsilon: eps, iterations: n })).read();
      expectClose(got, want.data, 1e-4, 'Q');
      for (let i = 0; i < b; i++) {
        let r = 0;
        for (let c = 0; c < k; c++) r += got[i * k + c];
        expect(Math.abs(r - 1)).toBeLessThan(1e-5);
      }
      if (n >= 10) {
        for (let c = 0; c < k; c++) {
          let m = 0;
          for (let i = 0; i < b; i++) m += got[i * k + c];
          expect(Math.abs(m - b / k) / (b / k)).toBeLessThan(0.2);
        }
      }
    });
  }
  it('scores far from 0 (|S|/ε up to 400) stay finite and exact (log domain)', async () => {
    const s = matmulT(unitRows(12, 8), unitRows(7, 8));
    const big = { shape: s.shape, data: s.data.map((v) => Math.fround(20 * v)) };
    const got = await T.scope(() => T.sinkhorn(up(big))).read();
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose(got, sinkhornRef({ shape: s.shape, data: big.data.map((v) => v / 20) }, 0.05 / 20, 3).data, 1e-3, 'Q');
  });
  it('rejects bad input before GPU work', () => {
    const s = T.zeros([4, 3]);
    const flat = T.zeros([4]);
    const ints = T.zeros([4, 3], 'i32');
    expectRejectedBeforeGpu(() => T.sinkhorn(flat), /expected scores \[B, K\]/);
    expectRejectedBeforeGpu(() => T.sinkhorn(s, { iterations: 0 }), /iterations must be an integer ≥ 1/);
    expectRejectedBeforeGpu(() => T.sinkhorn(s, { epsilon: 0 }), /epsilon must be a positive/);
    expectRejectedBeforeGpu(() => T.sinkhorn(ints), /f32/);
  });
});

/** Random code matrices [b, k] with rows summing to 1 (as Sinkhorn returns), float32-rounded. */
function codes(b: number, k: number): Arr {
  const q = { shape: [b, k], data: new Float64Array(b * k) };
  for (let i = 0; i < b; i++) {
    const row = Array.from({ length: k }, () => next() + 0.05);
    const s = row.reduce((a, v) => a + v, 0);
    row.forEach((v, c) => (q.data[i * k + c] = Math.fround(v / s)));
  }
  return q;
}

describe('prototype losses (SPEC 6.3)', () => {
  for (const [b, k, d, t] of [[6, 5, 8, 0.2], [9, 12, 4, 0.1]] as const) {
    it(`swappedPrediction B=${b} K=${k} D=${d} τ=${t}: value and gradients w.r.t. za, zb, C`, async () => {
      await checkOp({
        inputs: [unitRows(b, d), unitRows(b, d), unitRows(k, d), codes(b, k), codes(b, k)],
        grad: [true, true, true, false, false], tol: 1e-4, ref: swapRef(t),
        gpu: (za, zb, c, qa, qb) => T.swappedPrediction(za, zb, c, qa, qb, { temperature: t }),
      });
    });
    it(`aggregationLoss B=${b} K=${k} D=${d}: value and gradients w.r.t. z, C`, async () => {
      await checkOp({
        inputs: [unitRows(b, d), unitRows(k, d), codes(b, k)], grad: [true, true, false], tol: 1e-4, ref: aggregationRef,
        gpu: (z, c, q) => T.aggregationLoss(z, c, q),
      });
    });
  }
  for (const [k, d, delta] of [[6, 3, 1], [10, 4, 1], [5, 8, 1.5]] as const) {
    it(`separationLoss K=${k} D=${d} δ=${delta}: value and gradient (ordered pairs, no normalisation)`, async () => {
      await checkOp({ inputs: [unitRows(k, d)], tol: 1e-4, ref: separationRef(delta), gpu: (c) => T.separationLoss(c, { delta }) });
    });
  }
  it('prototypeLoss = 0.5 L1 + 0.3 L2 + 0.2 L3 with Sinkhorn codes; renormalizePrototypes keeps C unit-norm', async () => {
    const [b, k, d] = [8, 5, 6];
    const q = normalArr([b, d], next), key = normalArr([b, d], next), c = unitRows(k, d);
    const norm = (a: Arr) => unitRowsOf(a);
    const zq = norm(q), zk = norm(key);
    const qq = sinkhornRef(matmulT(zq, c), 0.05, 3), qk = sinkhornRef(matmulT(zk, c), 0.05, 3);
    const want = 0.5 * swapRef(0.2).forward([zq, zk, c, qq, qk]).data[0] + 0.3 * aggregationRef.forward([zq, c, qq]).data[0]
      + 0.2 * separationRef(1).forward([c]).data[0];
    const proto = up(c).keep();
    const got = await T.scope(() => T.prototypeLoss(up(q), up(key), proto).loss).read();
    expectClose(got, [want], 1e-4, 'L_proto');
    T.scope(() => T.assign(proto, T.scale(proto, 3)));
    T.renormalizePrototypes(proto);
    expectClose(await proto.read(), c.data, 1e-6, 'renormalised prototypes');
    proto.dispose();
  });
  it('rejects bad input before GPU work', () => {
    const z = T.zeros([4, 3]), c = T.zeros([5, 3]), q = T.zeros([4, 5]), bad = T.zeros([4, 4]);
    expectRejectedBeforeGpu(() => T.swappedPrediction(z, z, c, q, bad), /expected qb \[4, 5\]/);
    expectRejectedBeforeGpu(() => T.aggregationLoss(bad, c, q), /expected z \[≥ 1, 3\]/);
    expectRejectedBeforeGpu(() => T.separationLoss(c, { delta: NaN }), /delta must be a finite number/);
    expectRejectedBeforeGpu(() => T.prototypeLoss(z, z, c, { temperature: 0 }), /temperature must be a positive/);
  });
});

function unitRowsOf(a: Arr): Arr {
  const [n, d] = a.shape;
  const out = { shape: [n, d], data: new Float64Array(a.data) };
  for (let i = 0; i < n; i++) {
    const row = out.data.subarray(i * d, (i + 1) * d);
    const s = Math.hypot(...row);
    row.forEach((v, j) => (row[j] = v / s));
  }
  return out;
}
