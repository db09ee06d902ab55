// The metrics of src/metrics against float64 references (test/reference/metrics.ts): the device kNN
// statistics and Two-Classes metrics on random and on tie-laden integer embeddings (sizes that are not
// multiples of the tiles, several row blocks), constructed geometries, and the CPU evaluation metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { expectClose, rng } from './reference/check.js';
import { aucBruteForce, classifierGradNormsRef, twoClassesRef } from './reference/metrics.js';
import { expectRejectedBeforeGpu, normalArr, useCooperativeThreads } from './helpers.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(7007);

/** Random unit rows [rows, d] in float32 (the reference reads the same float32 values). */
function unitRows(rows: number, d: number): Float32Array {
  const x = Float32Array.from(normalArr([rows, d], next).data);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[r * d + k] ** 2;
    for (let k = 0; k < d; k++) x[r * d + k] /= Math.sqrt(s);
  }
  return x;
}

/** Small-integer rows: every squared distance is an exact integer in f32, so ties are exact and common. */
const integerRows = (rows: number, d: number) => Float32Array.from({ length: rows * d }, () => Math.floor(next() * 3) - 1);

const randomLabels = (n: number, k: number, pFirst = 0.5) =>
  Array.from({ length: n }, () => (next() < pFirst ? 0 : 1 + Math.floor(next() * (k - 1))));

async function compare(x: Float32Array, labels: number[], views: number, d: number, blockBytes?: number, neighbourhood = 0.05): Promise<void> {
  const ref = twoClassesRef(x, labels, views, d, neighbourhood);
  const emb = T.tensor(x, [views * labels.length, d]);
  const variants = ['code', 'wang-isola', 'paper'] as const;
  for (const [vi, uniformity] of variants.entries()) {
    const cac = vi === 2 ? 'paper' : 'code';
    const got = await T.twoClassesMetrics(emb, labels, { views, uniformity, cac, blockBytes, neighbourhood });
    expect(got.classes.length).toBe(ref.length);
    got.classes.forEach((c, i) => {
      const r = ref[i];
      expectClose(c.sad, r.sad, 1e-5, `SAD class ${c.label}`);
      expect(c.saa, `SAA class ${c.label}`).toBeCloseTo(r.saa, 9);
      expectClose(c.cad, r.cad, 1e-5, `CAD class ${c.label}`);
      expectClose([c.cadPaper], [r.cadPaper], 1e-5, `paper CAD class ${c.label}`);
      expect(Array.from(c.cac), `CAC (${cac}) class ${c.label}`).toEqual(cac === 'paper' ? r.cacPaper : r.cac);
      const want = uniformity === 'code' ? r.uniformity.code : uniformity === 'wang-isola' ? r.uniformity.wangIsola : r.uniformity.paper;
      expectClose([c.uniformity], [want], 1e-4, `uniformity (${uniformity}) class ${c.label}`);
    });
  }
  emb.dispose();
}

/** Runs the enclosing block with the given distance tiling (it follows the engine's matmul variant). */
function useTiling(variant: 'register' | 'shared'): void {
  let original: 'register' | 'shared' = 'register';
  beforeAll(() => {
    original = T.engine().matmulVariant;
    T.engine().matmulVariant = variant;
  });
  afterAll(() => {
    T.engine().matmulVariant = original;
  });
}

// Width 4 + register tiling is the CPU-adapter geometry, width 64 + workgroup tiling the GPU one.
for (const [width, tiling] of [[4, 'register'], [64, 'shared']] as const) {
  describe(`Two-Classes metrics at cooperative width ${width}, ${tiling} distance tiling`, () => {
    useCooperativeThreads(width);
    useTiling(tiling);

    it('match the float64 reference on random unit embeddings (N = 37, 2 views, binary)', async () => {
      await compare(unitRows(74, 19), randomLabels(37, 2, 0.8), 2, 19);
    });

    it('match on N = 101, 3 views, 4 classes, in blocks of 7 rows', async () => {
      await compare(unitRows(303, 16), randomLabels(101, 4), 3, 16, 7 * 303 * 4);
    });

    it('resolve constructed ties to the lowest index (integer embeddings, many equal distances)', async () => {
      await compare(integerRows(2 * 53, 3), randomLabels(53, 3), 2, 3, 11 * 106 * 4);
    });

    it('select a large neighbourhood (40 % of the views) through ties', async () => {
      await compare(integerRows(2 * 41, 4), randomLabels(41, 2), 2, 4, undefined, 0.4);
    });
  });
}

describe('constructed geometries', () => {
  it('a perfect simplex gives ETF distance 0 and CAC 100 %', async () => {
    const k = 4;
    const d = 8;
    // Simplex vertices: e_c − mean, normalised; 10 samples per class, both views on the vertex.
    const vertex = (c: number) => {
      const v = Array.from({ length: d }, (_, j) => (j < k ? (j === c ? 1 : 0) - 1 / k : 0));
      const s = Math.hypot(...v);
      return v.map((a) => a / s);
    };
    const labels = Array.from({ length: 40 }, (_, i) => i % k);
    const rows = [...labels, ...labels].flatMap(vertex);
    const geo = T.classGeometry(Float32Array.from(rows), 2 * labels.length, d, [...labels, ...labels]);
    expect(geo.etfDistance).toBeLessThan(1e-12);
    expect(geo.minAngle).toBeCloseTo((Math.acos(-1 / (k - 1)) * 180) / Math.PI, 9);
    const emb = T.tensor(rows, [80, d]);
    const got = await T.twoClassesMetrics(emb, labels);
    for (const c of got.classes) expect(Array.from(c.cac).every((v) => v === 100)).toBe(true);
    emb.dispose();
  });

  it('a fully collapsed set gives SAA 0 and CAC equal to the class share', async () => {
    const labels = Array.from({ length: 60 }, (_, i) => (i < 45 ? 0 : 1));
    const x = new Float32Array(120 * 5).fill(0.5);
    const emb = T.tensor(x, [120, 5]);
    const got = await T.twoClassesMetrics(emb, labels, { cac: 'paper' });
    // All distances tie: the nearest other view is row 0 (row 1 for row 0), another view of the same
    // sample only for row 60 (sample 0's second view); the neighbourhood is the m lowest other indices.
    expect(got.classes[1].saa).toBe(0);
    expect(got.classes[0].saa).toBeCloseTo(100 / 90, 12);
    expect(got.m).toBe(6);
    expect(Array.from(got.classes[0].cac).every((v) => v === 100)).toBe(true);
    expect(Array.from(got.classes[1].cac).every((v) => v === 0)).toBe(true);
    emb.dispose();
  });

  it('a collapsed set with shuffled labels has CAC equal to the class share up to the tie order', async () => {
    // With ties broken by index, interleaved labels make every neighbourhood reproduce the class shares.
    const labels = Array.from({ length: 100 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const emb = T.tensor(new Float32Array(200 * 3).fill(1), [200, 3]);
    const got = await T.twoClassesMetrics(emb, labels, { cac: 'paper', neighbourhood: 0.2 });
    expect(got.m).toBe(40);
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(got.classes[0].cac) - 75)).toBeLessThan(2);
    expect(Math.abs(mean(got.classes[1].cac) - 25)).toBeLessThan(2);
    expect(got.classes[0].saa).toBe(0);
    expect(got.classes[1].saa).toBe(100 / 50); // row 100 finds row 0, its own sample's other view
    emb.dispose();
  });
});

describe('evaluation metrics', () => {
  it('ROC AUC equals the brute-force pairwise count, ties included', () => {
    for (const n of [5, 37, 101]) {
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : next() < 0.3 ? 1 : 0));
      const scores = labels.map(() => Math.floor(next() * 6) / 5);
      expect(T.rocAuc(scores, labels)).toBeCloseTo(aucBruteForce(scores, labels), 12);
    }
  });

  it('confusion matrix and balanced accuracy', () => {
    const labels = [0, 0, 0, 1, 1, 2];
    const predicted = [0, 1, 0, 1, 1, 0];
    expect(T.confusionMatrix(predicted, labels, 3)).toEqual([
      [2, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
    expect(T.balancedAccuracy(predicted, labels, 3)).toBeCloseTo((2 / 3 + 1 + 0) / 3, 12);
  });

  it('class geometry: Gram, mean norms, angles, minority collapse and weight norms', () => {
    const x = Float32Array.from([1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0.6, 0.8, 0.8, 0.6]);
    const labels = [0, 0, 0, 0, 1, 2, 2];
    const opts = { center: false, minorityShare: 0.5 };
    const geo = T.classGeometry(x, 7, 2, labels, { ...opts, weights: Float32Array.from([3, 4, 0, 1, 1, 0]), collapseDegrees: 20 });
    expect(geo.meanNorms[0]).toBeCloseTo(1, 12);
    expect(geo.meanNorms[2]).toBeCloseTo(Math.hypot(0.7, 0.7), 6); // 0.6 and 0.8 rounded to float32
    expect(geo.weightNorms).toEqual([5, 1, 1]);
    expect(geo.gram[1][2]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(geo.minorityClasses).toEqual([1, 2]);
    expect(geo.minorityCollapse).toBe(false);
    expect(geo.minAngle).toBeCloseTo(45, 9);
    const tight = T.classGeometry(x, 7, 2, labels, { ...opts, collapseDegrees: 50 });
    expect(tight.minorityCollapse).toBe(true);
  });
});

describe('per-sample gradient norms at the classifier', () => {
  const [n, d, k] = [13, 6, 4];
  const h = Float32Array.from(normalArr([n, d], next).data);
  const labels = Int32Array.from({ length: n }, (_, i) => i % k);
  const w = Float32Array.from(normalArr([k, d], next, 0, 0.7).data);
  const b = Float32Array.from(normalArr([k], next).data);
  const linearLogits = (x: Float64Array, wt: Float64Array, bias: Float64Array | null) =>
    Float64Array.from({ length: k }, (_, c) => x.reduce((s, v, j) => s + v * wt[c * d + j], bias ? bias[c] : 0));

  for (const withBias of [true, false]) {
    it(`linear ${withBias ? 'with' : 'without'} bias: ‖δ‖·sqrt(‖h‖² (+ 1)) matches the explicit float64 gradient`, async () => {
      const got = T.scope(() => T.classifierGradNorms(
        { weight: T.tensor(w, [k, d]), bias: withBias ? T.tensor(b, [k]) : null }, T.tensor(h, [n, d]), T.tensor(labels, [n], 'i32'),
      ).keep());
      const want = classifierGradNormsRef(h, labels, d, Float64Array.from(w), withBias ? Float64Array.from(b) : null, linearLogits);
      expectClose(await got.read(), want, 1e-5, 'linear gradient norms');
      got.dispose();
    });
  }

  it('cosine classifier: the closed form matches the explicit float64 gradient', async () => {
    const fc = new T.CosineClassifier(d, k, 16);
    const wd = Float64Array.from(await fc.weight.read()); // [d, K]
    const got = T.scope(() => T.classifierGradNorms(fc, T.tensor(h, [n, d]), T.tensor(labels, [n], 'i32')).keep());
    const cosineLogits = (x: Float64Array, wt: Float64Array) => {
      const hn = Math.hypot(...x);
      return Float64Array.from({ length: k }, (_, c) => {
        let dot = 0;
        let ww = 0;
        for (let j = 0; j < d; j++) {
          dot += x[j] * wt[j * k + c];
          ww += wt[j * k + c] ** 2;
        }
        return (16 * dot) / (hn * Math.sqrt(ww));
      });
    };
    const want = classifierGradNormsRef(h, labels, d, wd, null, cosineLogits);
    expectClose(await got.read(), want, 1e-4, 'cosine gradient norms');
    got.dispose();
    fc.dispose();
  });

  it('reject mismatched shapes naming the op', () => T.scope(() => {
    const x = T.tensor(h, [n, d]);
    expect(() => T.classifierGradNorms({ weight: T.tensor(w, [k, d]), bias: null }, T.reshape(x, [n * 2, d / 2]), T.tensor(new Int32Array(n * 2), [n * 2], 'i32'))).toThrow(/classifierGradNorms: inputs .* do not match the classifier weight \[4, 6\]/);
    expect(() => T.classifierGradNorms({ weight: T.tensor(w, [k, d]), bias: null }, x, T.tensor(labels.subarray(1), [n - 1], 'i32'))).toThrow(/classifierGradNorms: expected labels \[13\] i32/);
  }));
});

describe('input errors', () => {
  it('are rejected before GPU work', () => {
    const emb = T.tensor(new Float32Array(40 * 4), [40, 4]);
    const labels = Array.from({ length: 20 }, () => 0);
    expectRejectedBeforeGpu(() => T.twoClassesMetrics(emb, labels.slice(1)), /expected embeddings \[2 × 19, D\]/);
    expectRejectedBeforeGpu(() => T.twoClassesMetrics(emb, labels, { views: 1 }), /views must be an integer ≥ 2/);
    expectRejectedBeforeGpu(() => T.twoClassesMetrics(emb, labels, { neighbourhood: 0.01 }), /holds no view/);
    expect(() => T.rocAuc([0.1, 0.2], [1, 1])).toThrow(/both classes/);
    expect(() => T.confusionMatrix([0], [3], 2)).toThrow(/outside \[0, 2\)/);
    emb.dispose();
  });

  it('reject bad labels and neighbourhoods of the kNN statistics', () => {
    const emb = T.tensor(new Float32Array(10 * 4), [10, 4]);
    expectRejectedBeforeGpu(() => T.neighbourStats(emb, [0, 1, 2, 3, 4, 5, 6, 7, 8, -1], { m: 2 }), /label -1 at 9/);
    expectRejectedBeforeGpu(() => T.neighbourStats(emb, new Array(10).fill(0), { m: 10 }), /\[0, 9\]/);
    emb.dispose();
  });
});
