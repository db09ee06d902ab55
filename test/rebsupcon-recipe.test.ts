// Recipe rebsupcon (issue 6) and the engine piece it needs: gradHook (the gradient of an intermediate
// tensor during backward) against float64 references; the MoCo key branch and the queue step by step;
// the Table-6 ablations end to end on a tiny Fashion-MNIST-LT subset with exact resume; bad options.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { ProjectionHead } from '../src/nn/heads.js';
import { expectClose, rng } from './reference/check.js';
import { normalArr } from './helpers.js';
import type { Arr } from './reference/ops.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(6106);
const up = (a: Arr) => T.tensor(Float32Array.from(a.data), a.shape);

describe('gradHook: the gradient arriving at an intermediate tensor', () => {
  it('hands δ = ∂L/∂y to its callback (float64 reference, two uses summed), passes it on unchanged', async () => {
    // y = h Wᵀ + b is used twice: L = Σ c ⊙ y² + Σ e ⊙ y, so δ = 2 c ⊙ y + e (in float64 from the f32 inputs).
    const [b, i, o] = [5, 6, 3];
    const h = normalArr([b, i], next), w = normalArr([o, i], next), bias = normalArr([o], next), c = normalArr([b, o], next), e = normalArr([b, o], next);
    const y = new Float64Array(b * o);
    for (let r = 0; r < b; r++) for (let k = 0; k < o; k++) {
      let s = bias.data[k];
      for (let j = 0; j < i; j++) s += h.data[r * i + j] * w.data[k * i + j];
      y[r * o + k] = s;
    }
    const wantDelta = y.map((v, n) => 2 * c.data[n] * v + e.data[n]);
    const W = up(w).keep().requireGrad(), bt = up(bias).keep().requireGrad();
    const run = async (hooked: boolean) => {
      let delta: Float32Array | null = null;
      const seen = T.zeros([b, o]).keep();
      let calls = 0;
      T.scope(() => {
        const ht = up(h), ct = up(c), et = up(e);
        const out = T.add(T.matmul(ht, W, { transB: true }), bt);
        const yy = hooked ? T.gradHook(out, (g) => { calls++; T.assign(seen, g); }) : out;
        T.add(T.sum(T.mul(ct, T.square(yy))), T.sum(T.mul(et, yy))).backward();
      });
      if (hooked) delta = (await seen.read()) as Float32Array;
      seen.dispose();
      const grads = [Array.from(await W.grad!.read()), Array.from(await bt.grad!.read())];
      for (const p of [W, bt]) { p.grad!.dispose(); p.grad = null; }
      return { delta, grads, calls };
    };
    const plain = await run(false);
    const hooked = await run(true);
    expect(hooked.calls).toBe(1);
    expectClose(hooked.delta!, wantDelta, 1e-5, 'δ');
    expect(hooked.grads).toEqual(plain.grads);
    // Outside recording the hook is a plain view and its callback never runs.
    let called = false;
    const v = await T.scope(() => T.noGrad(() => T.gradHook(up(c), () => { called = true; }))).read();
    expect(called).toBe(false);
    expectClose(v, c.data, 0, 'view');
    W.dispose();
    bt.dispose();
  });

  it('in a projection head under rebSupCon: B·‖δ_i‖·sqrt(‖h_i‖² + 1) = B·‖∂L/∂(W_i, b_i)‖, sample i\'s own copy of the last layer', async () => {
    // The recipe's ∇: δ from the hook on the head's last linear output under the mean-reduced loss. The
    // queries are contrast columns of each other's anchors, so L_i is not a function of sample i alone;
    // the per-sample gradient is sample i's term δ_i [h_i; 1]ᵀ of the batch gradient, i.e. the gradient
    // w.r.t. a copy (W_i, b_i) of the layer that only row i's forward uses. Reference: that copy, by autograd.
    const [b, d, k, nq] = [6, 8, 4, 5];
    T.manualSeed(3);
    const proj = new ProjectionHead(d, k);
    const x = up(normalArr([b, d], next)).keep();
    const keys = T.scope(() => T.l2Normalize(up(normalArr([b, k], next)))).keep();
    const labels = T.tensor(Int32Array.from([0, 1, 2, 0, 1, 1]), [b], 'i32').keep();
    const queue = { keys: T.scope(() => T.l2Normalize(up(normalArr([nq, k], next)))).keep(), labels: T.tensor(Int32Array.from([0, 2, 1, 1, 0]), [nq], 'i32').keep() };
    const loss = (y: T.Tensor) => T.rebSupCon(T.l2Normalize(y), keys, labels, queue, { normalize: false });
    const hookNorms = T.zeros([b]).keep();
    T.scope(() => {
      const { hidden, output } = proj.split(x);
      loss(T.gradHook(output, (g) => T.assign(hookNorms, T.scale(T.perSampleGradNorms(g, hidden, { bias: true }), b)))).backward();
    });
    for (const p of proj.parameters()) { p.grad?.dispose(); p.grad = null; }
    const got = await hookNorms.read();
    const [w, bias] = proj.namedParameters().filter(([n]) => n.startsWith('3.')).map(([, p]) => p);
    for (let r = 0; r < b; r++) {
      const wr = T.tensor(await w.read(), w.shape).keep().requireGrad(), br = T.tensor(await bias.read(), bias.shape).keep().requireGrad();
      const mask = new Float32Array(b * k).fill(1, r * k, (r + 1) * k);
      T.scope(() => {
        const hidden = T.noGrad(() => proj.split(x).hidden);
        const shared = T.noGrad(() => T.add(T.matmul(hidden, w, { transB: true }), bias));
        const own = T.add(T.matmul(hidden, wr, { transB: true }), br);
        const m = T.tensor(mask, [b, k]);
        loss(T.add(T.mul(own, m), T.mul(shared, T.affine(m, -1, 1)))).backward();
      });
      const want = b * Math.hypot(...(await wr.grad!.read()), ...(await br.grad!.read()));
      expect(Math.abs(got[r] - want) / want, `sample ${r}`).toBeLessThan(1e-4);
      for (const t of [wr, br]) { t.grad!.dispose(); t.dispose(); }
    }
    for (const t of [x, keys, labels, queue.keys, queue.labels, hookNorms]) t.dispose();
    proj.dispose();
  });
});
