// NaN (and infinity) propagate through every op that selects or compares as they do in PyTorch: a NaN
// that an op silently dropped (relu(NaN) = 0, max([NaN, -1, 2]) = 2) would hide a diverged run.
// Expected values are PyTorch 1.13's on the same inputs.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const read = async (t: T.Tensor) => Array.from(await t.read());
const f = (values: number[], shape = [values.length]) => T.tensor(values, shape);

describe('NaN propagation (PyTorch semantics)', () => {
  it('relu, maximum, minimum', async () => {
    expect(await read(T.relu(f([NaN, -1, 2, -Infinity, Infinity])))).toEqual([NaN, 0, 2, 0, Infinity]);
    expect(await read(T.maximum(f([NaN, 1, -1, 3]), f([0, NaN, -2, Infinity])))).toEqual([NaN, NaN, -1, Infinity]);
    expect(await read(T.minimum(f([NaN, 1, -1, 3]), f([0, NaN, -2, -Infinity])))).toEqual([NaN, NaN, -2, -Infinity]);
  });

  it('max, min, logsumexp, sum and mean reductions; argmax takes the first NaN', async () => {
    // 3 rows of 5, odd sizes; NaN at different places, one row without.
    const x = f([NaN, -1, 2, 0.5, 1, -3, 4, NaN, NaN, 0, 1, 2, 3, -4, 0.25], [3, 5]);
    expect(await read(T.max(x, 1))).toEqual([NaN, NaN, 3]);
    expect(await read(T.min(x, 1))).toEqual([NaN, NaN, -4]);
    expect((await read(T.logsumexp(x, 1))).slice(0, 2)).toEqual([NaN, NaN]);
    expect((await read(T.sum(x, 1))).slice(0, 2)).toEqual([NaN, NaN]);
    expect(await read(T.argmax(x, 1))).toEqual([0, 2, 2]);
    expect(await read(T.max(f([NaN, -1, 2])))).toEqual([NaN]);
    expect(await read(T.max(f([-1, 2, NaN])))).toEqual([NaN]);
    expect(await read(T.argmax(f([-1, Infinity, NaN, 5]), 0))).toEqual([2]);
    // Over a long row, so the workgroup's tree reduction combines NaN with NaN and with numbers.
    const long = Array.from({ length: 1001 }, (_, i) => Math.sin(i));
    long[517] = NaN;
    long[901] = NaN;
    expect(await read(T.max(f(long)))).toEqual([NaN]);
    expect(await read(T.argmax(f(long), 0))).toEqual([517]);
    expect(await read(T.min(f(long)))).toEqual([NaN]);
  });

  it('max pooling: a window holding NaN gives NaN; its gradient goes to the NaN', async () => {
    // 1 × 1 × 3 × 5, 2×2 windows with stride 2 (floor mode): windows [0:2, 0:2] and [0:2, 2:4].
    const x = f([1, NaN, 3, 4, 0, 5, 6, -7, 8, 0, 9, 9, 9, 9, 9], [1, 1, 3, 5]).requireGrad();
    const y = T.maxPool2d(x, 2, 2);
    expect(await read(y)).toEqual([NaN, 8]);
    T.sum(y).backward();
    expect(await read(x.grad!)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('softmax, log-softmax and cross-entropy of a row with NaN are NaN; the other rows are untouched', async () => {
    const x = f([NaN, 1, 2, 0, 1, 2], [2, 3]);
    const s = await read(T.softmax(x));
    expect(s.slice(0, 3)).toEqual([NaN, NaN, NaN]);
    expect(s.slice(3).every((v) => v > 0 && v < 1)).toBe(true);
    expect((await read(T.logSoftmax(x))).slice(0, 3)).toEqual([NaN, NaN, NaN]);
    expect(await read(T.crossEntropy(x, T.tensor([1, 2], [2], 'i32'), 'none'))).toEqual([NaN, expect.closeTo(0.4076, 3)]);
    expect(await read(T.crossEntropy(x, T.tensor([1, 2], [2], 'i32')))).toEqual([NaN]);
  });

  it('comparisons with NaN are false (ne true), and where keeps a selected NaN', async () => {
    const a = f([NaN, NaN, 1]);
    const b = f([NaN, 1, NaN]);
    expect(await read(T.eq(a, b))).toEqual([0, 0, 0]);
    expect(await read(T.ne(a, b))).toEqual([1, 1, 1]);
    for (const op of [T.lt, T.le, T.gt, T.ge]) expect(await read(op(a, b))).toEqual([0, 0, 0]);
    expect(await read(T.where(f([1, 0, 1]), a, f([5, 6, 7])))).toEqual([NaN, 6, 1]);
  });

  it('a NaN feature makes the contrastive losses NaN; l2Normalize and batch norm keep it', async () => {
    const feats = Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i + 1));
    feats[7] = NaN;
    const z = T.l2Normalize(T.tensor(feats, [10, 3]));
    const rows = await read(z);
    expect(rows.slice(6, 9)).toEqual([NaN, NaN, NaN]);
    expect(rows.slice(0, 6).every(Number.isFinite)).toBe(true);
    const pair = T.reshape(z, [5, 2, 3]);
    const labels = T.tensor([0, 1, 0, 1, 1], [5], 'i32');
    expect(await read(T.supCon(pair, labels, { temperature: 0.1 }))).toEqual([NaN]);
    expect(await read(T.bcl(pair, labels, T.l2Normalize(T.tensor([1, 0, 0, 0, 1, 0], [2, 3])), { temperature: 0.1 }))).toEqual([NaN]);
    const bn = await read(T.batchNorm(T.tensor(feats, [10, 3]), T.zeros([3]), T.ones([3]), null, null, { training: true }));
    expect(bn.filter((_, i) => i % 3 === 1).every(Number.isNaN)).toBe(true);
    expect(bn.filter((_, i) => i % 3 === 0).every(Number.isFinite)).toBe(true);
  });

  it("the SGD update flags, per parameter, a NaN or infinite gradient or new value; finite steps flag nothing", async () => {
    // Three parameters of odd sizes: a finite step, a NaN in one gradient element, an update that overflows.
    const [a, b, c] = [T.tensor([0.5, -1, 2], [3]), T.tensor([1, 2, 3, 4, 5], [5]), T.tensor([3e38, 1], [2])].map((t) => t.keep().requireGrad());
    a.grad = T.tensor([0.1, 0.2, -0.3], [3]).keep();
    b.grad = T.tensor([0.1, NaN, 0.3, 0.4, 0.5], [5]).keep();
    c.grad = T.tensor([-3e38, 0.5], [2]).keep();
    const opt = new T.SGD([a, b, c], { lr: 1, momentum: 0.9 });
    opt.step();
    expect(await read(opt.status)).toEqual([0, 1, 1]);
    expect(await read(a)).toEqual([0.4, -1.2, 2.3].map((v) => expect.closeTo(v, 6)));
    // The flags stay set; a fresh optimizer on finite gradients flags nothing.
    const fine = new T.SGD([a], { lr: 0.1 });
    fine.step();
    expect(await read(fine.status)).toEqual([0]);
    for (const o of [opt, fine]) o.dispose();
    for (const t of [a, b, c]) {
      t.grad!.dispose();
      t.dispose();
    }
  });
});
