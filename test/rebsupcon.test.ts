// The Reb-SupCon components (docs/paper-vs-code.md#swav, #moco, #reb-supcon): Sinkhorn kernel, prototype
// losses, rebalancing factor, rebalanced loss on the MoCo queue, key-encoder EMA and the key queue,
// against float64 references written from those formulas (test/reference/rebsupcon.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { checkOp, expectClose, rng } from './reference/check.js';
import { contrastiveRef, rebSupConLayout } from './reference/contrastive.js';
import { aggregationRef, separationRef, sinkhornRef, swapRef } from './reference/rebsupcon.js';
import { expectRejectedBeforeGpu, normalArr, normalizeRows, unitRows as unitRowsOf, useCooperativeThreads } from './helpers.js';
import type { Arr } from './reference/ops.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(6006);

const unitRows = (n: number, d: number) => unitRowsOf(n, d, next);

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

for (const width of [4, 256]) describe(`sinkhorn (SwAV), ${width} cooperative threads`, () => {
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

describe('prototype losses (Reb-SupCon L1-L3)', () => {
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
    const zq = normalizeRows(q), zk = normalizeRows(key);
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

describe('rebSupCon (PaCo layout) on the fused contrastive row kernel', () => {
  const cases: [number, number, number, number, boolean][] = [[6, 0, 8, 0.2, false], [7, 10, 8, 0.2, true], [5, 13, 4, 0.05, true]];
  for (const [b, nq, d, t, weighted] of cases) {
    it(`B=${b} queue=${nq} D=${d} τ=${t} ${weighted ? 'per-anchor ω' : 'ω ≡ 1'}: value and gradients w.r.t. q and k`, async () => {
      const y = Array.from({ length: b }, () => Math.floor(next() * 3));
      const qy = Array.from({ length: nq }, () => Math.floor(next() * 4));
      const w = weighted ? y.map(() => Math.fround(0.3 + next())) : undefined;
      const f = unitRows(2 * b, d);
      f.shape = [b, 2, d];
      const inputs = nq ? [f, { shape: [b], data: Float64Array.from(y) }, unitRows(nq, d)] : [f, { shape: [b], data: Float64Array.from(y) }];
      await checkOp({
        inputs, int: [false, true, false].slice(0, inputs.length), grad: [true, false, false].slice(0, inputs.length), tol: 1e-4,
        ref: contrastiveRef({ labelInput: 1, protoInput: nq ? 2 : undefined, temperature: t, layout: rebSupConLayout(qy, w) }),
        gpu: (x, labels, keys) => {
          const view = (v: number) => T.reshape(T.slice(x, 1, v, v + 1), [b, d]);
          const queue = keys ? { keys, labels: T.tensor(Int32Array.from(qy), [nq], 'i32') } : null;
          const weights = w ? T.tensor(Float32Array.from(w), [b]) : undefined;
          return T.rebSupCon(view(0), view(1), labels, queue, { temperature: t, weights, normalize: false });
        },
      });
    });
  }
  it('rejects bad input before GPU work', () => {
    const q = T.zeros([4, 3]), y = T.zeros([4], 'i32'), keys = T.zeros([6, 3]), w = T.zeros([3]), narrow = T.zeros([4, 2]);
    expectRejectedBeforeGpu(() => T.rebSupCon(q, narrow, y, null), /expected key \[4, 3\]/);
    expectRejectedBeforeGpu(() => T.rebSupCon(q, q, y, { keys, labels: y }), /expected queue labels \[6\] i32/);
    expectRejectedBeforeGpu(() => T.rebSupCon(q, q, y, null, { weights: w }), /expected weights \[4\]/);
    expectRejectedBeforeGpu(() => T.rebSupCon(q, q, y, null, { temperature: -1 }), /temperature must be a positive/);
  });
});

describe('rebalancing factor (Reb-SupCon ω)', () => {
  it('perSampleGradNorms = ‖δ_i‖·sqrt(‖h_i‖² + 1) equals the norm of each sample\'s own (W, b) gradient', async () => {
    const [b, i, o] = [5, 6, 3];
    const h = normalArr([b, i], next), wArr = normalArr([o, i], next), bias = normalArr([o], next), c = normalArr([b, o], next);
    const W = up(wArr).keep().requireGrad(), bt = up(bias).keep().requireGrad(), ht = up(h).keep(), ct = up(c).keep();
    const forward = (rowMask: T.Tensor) => T.sum(T.mul(T.square(T.add(T.matmul(ht, W, { transB: true }), bt)), T.mul(ct, rowMask)));
    // δ from the backward of the whole batch, through a detached copy of the layer's output.
    const norms = await T.scope(() => {
      const y = T.add(T.matmul(ht, W, { transB: true }), bt).detach().requireGrad();
      T.sum(T.mul(T.square(y), ct)).backward();
      return T.perSampleGradNorms(y.grad!, ht, { bias: true });
    }).read();
    for (let r = 0; r < b; r++) {
      const mask = new Float32Array(b * o);
      mask.fill(1, r * o, (r + 1) * o);
      T.scope(() => forward(T.tensor(mask, [b, o])).backward());
      const gw = await W.grad!.read(), gb = await bt.grad!.read();
      const want = Math.hypot(...gw, ...gb);
      expect(Math.abs(norms[r] - want) / want).toBeLessThan(1e-5);
      for (const p of [W, bt]) { p.grad!.dispose(); p.grad = null; }
    }
    for (const t of [W, bt, ht, ct]) t.dispose();
  });

  it('per-class EMA of the norms (absent classes keep theirs), ω for both readings, and ω-weighted rebSupCon', async () => {
    const counts = [60, 30, 8, 2];
    const f = counts.map((n) => n / 100);
    const reb = new T.Rebalancer(counts, { momentum: 0.8 });
    const inv = new T.Rebalancer(counts, { momentum: 0.8, reading: 'inverse' });
    const ema = [0, 0, 0, 0];
    const seen = [false, false, false, false];
    const batches: [number[], number[]][] = [[[0, 0, 1, 1, 2], [1, 2, 0.5, 1.5, 3]], [[0, 2, 2, 2, 0], [2, 1, 2, 4, 4]]];
    for (const [y, n] of batches) {
      T.scope(() => {
        const yt = T.tensor(Int32Array.from(y), [y.length], 'i32'), nt = T.tensor(Float32Array.from(n), [n.length]);
        reb.update(nt, yt);
        inv.update(nt, yt);
      });
      for (let c = 0; c < 4; c++) {
        const mine = n.filter((_, j) => y[j] === c);
        if (!mine.length) continue;
        const m = mine.reduce((a, v) => a + v, 0) / mine.length;
        ema[c] = seen[c] ? 0.8 * ema[c] + 0.2 * m : m;
        seen[c] = true;
      }
    }
    expectClose(await reb.gradNorms.read(), ema, 1e-6, '∇̄');
    const omega = ema.map((g, c) => 1 / (1 + 0.5 * g * (0.1 / (f[c] + 1e-5))));
    expectClose(await T.scope(() => reb.weights()).read(), omega, 1e-5, 'ω');
    expectClose(await T.scope(() => inv.weights()).read(), omega.map((w) => 1 / w), 1e-5, 'ω (inverse reading)');
    expect(omega[3]).toBe(1); // class 3 never seen
    // The ω-weighted loss: anchorWeights feeds rebSupCon; reference with ω(y_i) computed here.
    const [b, d, nq] = [6, 8, 7];
    const y = [0, 1, 2, 3, 2, 0], qy = Array.from({ length: nq }, () => Math.floor(next() * 4));
    const x = unitRows(2 * b, d);
    x.shape = [b, 2, d];
    await checkOp({
      inputs: [x, { shape: [b], data: Float64Array.from(y) }, unitRows(nq, d)], int: [false, true, false], grad: [true, false, false], tol: 1e-4,
      ref: contrastiveRef({ labelInput: 1, protoInput: 2, temperature: 0.2, layout: rebSupConLayout(qy, y.map((c) => omega[c])) }),
      gpu: (f, labels, keys) => T.rebSupCon(T.reshape(T.slice(f, 1, 0, 1), [b, d]), T.reshape(T.slice(f, 1, 1, 2), [b, d]), labels,
        { keys, labels: T.tensor(Int32Array.from(qy), [nq], 'i32') }, { weights: reb.anchorWeights(labels), normalize: false }),
    });
    reb.dispose();
    inv.dispose();
  });

  it('rejects bad input before GPU work', () => {
    const reb = new T.Rebalancer([3, 1]);
    const n = T.zeros([4]), y = T.zeros([3], 'i32'), g = T.zeros([4, 2]), h = T.zeros([3, 2]);
    expectRejectedBeforeGpu(() => reb.update(n, y), /expected labels \[4\] i32/);
    expectRejectedBeforeGpu(() => T.perSampleGradNorms(g, h), /expected input \[4, ≥ 1\]/);
    expect(() => new T.Rebalancer([])).toThrow(/non-empty/);
    expect(() => new T.Rebalancer([1, 2], { momentum: 1 })).toThrow(/momentum must be in \[0, 1\)/);
    expect(() => new T.Rebalancer([1, 2], { reading: 'x' as never })).toThrow(/reading must be/);
    reb.dispose();
  });
});

describe('MoCo pieces (MoCo / PaCo)', () => {
  it('emaUpdate: θ_k = m θ_k + (1 − m) θ_q on tensors of several sizes (one past a workgroup)', async () => {
    const shapes = [[3, 4], [700], [2, 3, 5]];
    const ks = shapes.map((s) => normalArr(s, next)), qs = shapes.map((s) => normalArr(s, next));
    const kt = ks.map((a) => up(a).keep()), qt = qs.map((a) => up(a).keep());
    T.emaUpdate(kt, qt, 0.9);
    T.emaUpdate(kt, qt, 0.999);
    for (let i = 0; i < shapes.length; i++) {
      const want = ks[i].data.map((k, j) => {
        const once = Math.fround(0.9 * k + Math.fround(1 - 0.9) * qs[i].data[j]);
        return 0.999 * once + (1 - 0.999) * qs[i].data[j];
      });
      expectClose(await kt[i].read(), want, 1e-6, `parameter ${i}`);
    }
    [...kt, ...qt].forEach((t) => t.dispose());
  });

  it('momentumUpdate pairs module parameters by name; copyParameters copies them', async () => {
    const q = new T.Linear(5, 3), k = new T.Linear(5, 3);
    const [qw, kw] = [await q.weight.read(), await k.weight.read()];
    T.momentumUpdate(k, q, 0.5);
    expectClose(await k.weight.read(), Array.from(kw, (v, i) => 0.5 * v + 0.5 * qw[i]), 1e-6, 'weight');
    T.copyParameters(k, q);
    expectClose(await k.bias!.read(), await q.bias!.read(), 0, 'bias');
    expect(() => T.momentumUpdate(new T.Linear(5, 3, { bias: false }), q)).toThrow(/different parameters/);
    expectRejectedBeforeGpu(() => T.emaUpdate([q.weight], [q.bias!]), /does not match/);
    expectRejectedBeforeGpu(() => T.emaUpdate([q.weight], [q.weight], 1.5), /momentum must be in \[0, 1\]/);
  });

  it('KeyQueue: FIFO with wrap-around (Q = 10 not a multiple of B = 4), labels alongside', async () => {
    const [size, dim, b] = [10, 3, 4];
    const queue = new T.KeyQueue(size, dim, 5, { seed: 7 });
    const init = await queue.labels.read();
    expect(Array.from(init).every((y) => y >= 0 && y < 5 && Number.isInteger(y))).toBe(true);
    // Initial keys: columns normalised (PaCo's normalize(randn(Q, D), dim = 0)).
    const k0 = await queue.keys.read();
    for (let c = 0; c < dim; c++) expect(Math.hypot(...Array.from({ length: size }, (_, r) => k0[r * dim + c]))).toBeCloseTo(1, 5);
    const keys = Array.from(k0), labels = Array.from(init);
    for (let step = 0; step < 4; step++) {
      const kb = normalArr([b, dim], next), yb = Array.from({ length: b }, (_, i) => 100 * step + i);
      T.scope(() => queue.enqueue(up(kb), T.tensor(Int32Array.from(yb), [b], 'i32')));
      for (let i = 0; i < b; i++) {
        const r = (step * b + i) % size;
        for (let c = 0; c < dim; c++) keys[r * dim + c] = kb.data[i * dim + c];
        labels[r] = yb[i];
      }
      expect(queue.ptr).toBe(((step + 1) * b) % size);
      expectClose(await queue.keys.read(), keys, 0, `keys after ${step + 1} enqueues`);
      expect(Array.from(await queue.labels.read())).toEqual(labels);
    }
    const big = T.zeros([11, dim]), y11 = T.zeros([11], 'i32'), wrong = T.zeros([2, 4]), y2 = T.zeros([2], 'i32');
    expectRejectedBeforeGpu(() => queue.enqueue(big, y11), /does not fit in a queue of 10/);
    expectRejectedBeforeGpu(() => queue.enqueue(wrong, y2), /expected keys \[B ≥ 1, 3\]/);
    expect(() => new T.KeyQueue(0, 3, 2)).toThrow(/size must be a positive integer/);
    queue.dispose();
  });
});
