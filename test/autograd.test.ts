// Autograd semantics: values used more than once, accumulation across backward() calls, noGrad,
// detach, freed graphs, and scopes. Expected gradients are computed in float64 on the CPU.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { expectClose, rng } from './reference/check.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(99);
const randomValues = (n: number) => Float32Array.from({ length: n }, () => 0.5 + 1.5 * next());

async function gradOf(t: T.Tensor): Promise<Float32Array> {
  expect(t.grad, `tensor ${t} has no gradient`).not.toBeNull();
  return (await t.grad!.read()) as Float32Array;
}

describe('autograd', () => {
  it('a value used several times receives the sum of its gradients', async () => {
    // loss = sum(x*x + x*y + exp(x)) with x used four times: dL/dx = 2x + y + exp(x), dL/dy = x.
    const xs = randomValues(11);
    const ys = randomValues(11);
    const x = T.tensor(xs, [11]).requireGrad();
    const y = T.tensor(ys, [11]).requireGrad();
    T.scope(() => T.sum(T.add(T.add(T.mul(x, x), T.mul(x, y)), T.exp(x))).backward());
    expectClose(await gradOf(x), Array.from(xs, (v, i) => 2 * v + ys[i] + Math.exp(v)), 1e-5, 'dL/dx');
    expectClose(await gradOf(y), xs, 1e-6, 'dL/dy');
    for (const t of [x, y]) (t.grad!.dispose(), t.dispose());
  });

  it('an intermediate shared by two branches (diamond) gets both contributions', async () => {
    // z = x * w (broadcast over rows); loss = sum(relu(z)) + sum(z^2): dL/dz = [z > 0] + 2z.
    const xs = Float32Array.from({ length: 15 }, () => next() * 4 - 2);
    const ws = randomValues(5);
    const x = T.tensor(xs, [3, 5]);
    const w = T.tensor(ws, [5]).requireGrad();
    T.scope(() => {
      const z = T.mul(x, w);
      T.add(T.sum(T.relu(z)), T.sum(T.square(z))).backward();
    });
    const want = ws.map((wv, j) => {
      let g = 0;
      for (let i = 0; i < 3; i++) {
        const zv = Math.fround(xs[i * 5 + j] * wv);
        g += ((zv > 0 ? 1 : 0) + 2 * zv) * xs[i * 5 + j];
      }
      return g;
    });
    expectClose(await gradOf(w), want, 1e-5, 'dL/dw');
    expect(x.grad).toBeNull();
    for (const t of [x, w, w.grad!]) t.dispose();
  });

  it('gradients accumulate across backward() calls until the user clears them', async () => {
    const xs = randomValues(7);
    const x = T.tensor(xs, [7]).requireGrad();
    T.scope(() => T.sum(T.square(x)).backward()); // 2x
    T.scope(() => T.sum(T.scale(x, 3)).backward()); // + 3
    expectClose(await gradOf(x), Array.from(xs, (v) => 2 * v + 3), 1e-6, 'accumulated gradient');
    // The same graph twice needs retainGraph; the second pass adds the same gradient again.
    x.grad!.dispose();
    x.grad = null;
    T.scope(() => {
      const loss = T.sum(T.exp(x));
      loss.backward(undefined, { retainGraph: true });
      loss.backward();
      expect(() => loss.backward()).toThrow(/backward: the graph through 'sum' was freed .*retainGraph/);
    });
    expectClose(await gradOf(x), Array.from(xs, (v) => 2 * Math.exp(v)), 1e-5, 'two passes through one graph');
    x.grad!.dispose();
    x.dispose();
  });

  it('noGrad records nothing', async () => {
    const x = T.tensor(randomValues(4), [4]).requireGrad();
    const y = T.noGrad(() => T.mul(x, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => T.sum(y).backward()).toThrow(/backward: tensor \[\] does not require a gradient/);
    // Recording resumes after the block, also when it threw.
    expect(() => T.noGrad(() => { throw new Error('inside'); })).toThrow('inside');
    expect(T.engine().gradEnabled).toBe(true);
    const z = T.mul(x, 2);
    expect(z.requiresGrad).toBe(true);
    for (const t of [x, y, z]) t.dispose();
  });

  it('detach shares the data but stops the gradient', async () => {
    // loss = sum(x * detach(x)): dL/dx = detach(x) = x (not 2x).
    const xs = randomValues(9);
    const x = T.tensor(xs, [3, 3]).requireGrad();
    T.scope(() => {
      const d = x.detach();
      expect(d.requiresGrad).toBe(false);
      expect(d.gradFn).toBeNull();
      expect(d.bufferFor('test')).toBe(x.bufferFor('test'));
      T.sum(T.mul(x, d)).backward();
    });
    expectClose(await gradOf(x), xs, 1e-6, 'gradient through one side only');
    // Disposing the detached view leaves the original alive.
    const d = x.detach();
    d.dispose();
    expectClose((await x.read()) as Float32Array, xs, 0, 'x after its view was disposed');
    x.grad!.dispose();
    x.dispose();
  });

  it('scope frees everything created inside except what it returns', async () => {
    const before = T.engine().memory().liveTensors;
    const x = T.tensor(randomValues(6), [2, 3]);
    const { kept } = T.scope(() => {
      const a = T.exp(x);
      const b = T.add(a, 1);
      T.sum(b); // dropped
      return { kept: T.mul(b, 2) };
    });
    expect(T.engine().memory().liveTensors).toBe(before + 2);
    expect(kept.disposed).toBe(false);
    x.dispose();
    kept.dispose();
    expect(T.engine().memory().liveTensors).toBe(before);
  });
});
