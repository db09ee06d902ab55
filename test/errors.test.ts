// Bad input fails with an Error that names the op, the shapes/dtypes and what was expected, and it
// fails before anything is recorded for the GPU (the engine's dispatch counter does not move).
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { expectRejectedBeforeGpu } from './helpers.js';

beforeAll(async () => {
  await T.init({ log: false });
});

describe('input errors', () => {
  it('shape mismatches name the op and both shapes', () => {
    const a = T.zeros([2, 3]);
    const b = T.zeros([4]);
    const c = T.zeros([3, 5]);
    const d = T.zeros([4, 5]);
    expectRejectedBeforeGpu(() => T.add(a, b), /add: .*\[2, 3\].*\[4\]/);
    expectRejectedBeforeGpu(() => T.mul(a, d), /mul: .*\[2, 3\].*\[4, 5\]/);
    expectRejectedBeforeGpu(() => T.matmul(a, d), /matmul: cannot multiply \[2, 3\] f32 by \[4, 5\] f32: inner dimensions differ \(3 vs 4\)/);
    expectRejectedBeforeGpu(() => T.matmul(c, a, { transB: true }), /matmul: .*inner dimensions differ \(5 vs 3\)/);
    expectRejectedBeforeGpu(() => T.reshape(a, [4, 2]), /reshape: .*\[2, 3\].*\[4, 2\]/);
    expectRejectedBeforeGpu(() => T.concat([a, d], 0), /concat: .*\[2, 3\].*\[4, 5\]/);
    expectRejectedBeforeGpu(() => T.sum(a, 2), /sum: .*axis 2.*rank 2/);
    expectRejectedBeforeGpu(() => T.slice(a, 1, 2, 7), /slice: .*\[2, 3\]/);
    for (const t of [a, b, c, d]) t.dispose();
  });

  it('dtype mismatches name the dtype found and the one expected', () => {
    const f = T.zeros([3, 4]);
    const i = T.zeros([3, 4], 'i32');
    const labels = T.tensor([0, 1, 2], [3], 'f32');
    expectRejectedBeforeGpu(() => T.matmul(f, i, { transB: true }), /matmul: second input has dtype i32 \(shape \[3, 4\]\), expected f32/);
    expectRejectedBeforeGpu(() => T.exp(i), /exp: input has dtype i32 .*expected f32/);
    expectRejectedBeforeGpu(() => T.add(f, i), /add: second input has dtype i32 \(shape \[3, 4\]\), expected f32/);
    expectRejectedBeforeGpu(() => T.crossEntropy(f, labels), /crossEntropy: labels .*f32.*expected i32/);
    expectRejectedBeforeGpu(() => T.assign(f, i), /assign: source is \[3, 4\] i32, expected dtype f32/);
    for (const t of [f, i, labels]) t.dispose();
  });

  it('a disposed tensor cannot be used, read or written', async () => {
    const x = T.ones([2, 2]);
    x.dispose();
    x.dispose(); // idempotent
    expectRejectedBeforeGpu(() => T.exp(x), /exp: tensor #\d+ \[2, 2\] f32 was used after dispose/);
    expectRejectedBeforeGpu(() => T.matmul(x, x), /matmul: tensor #\d+ \[2, 2\] f32 was used after dispose/);
    await expect(x.read()).rejects.toThrow(/read: .*used after dispose/);
    expect(() => x.write([1, 2, 3, 4])).toThrow(/write: .*used after dispose/);
    // A tensor that escaped its scope by reference is dead too.
    let leaked: T.Tensor | undefined;
    T.scope(() => {
      leaked = T.ones([3]);
    });
    expectRejectedBeforeGpu(() => T.neg(leaked!), /neg: .*\[3\] f32 was used after dispose/);
  });

  it('backward on a non-scalar needs a gradient of its shape', () => {
    const x = T.ones([2, 3]).requireGrad();
    T.scope(() => {
      const y = T.mul(x, 2);
      expectRejectedBeforeGpu(() => y.backward(), /backward: output of shape \[2, 3\] is not a scalar; pass a gradient of the same shape/);
      const g = T.ones([3, 2]);
      expectRejectedBeforeGpu(() => y.backward(g), /backward: the gradient has shape \[3, 2\], expected the output's shape \[2, 3\]/);
    });
    expect(x.grad).toBeNull();
    x.dispose();
  });

  it('bad creation arguments are refused', () => {
    expectRejectedBeforeGpu(() => T.zeros([2, -1]), /invalid shape \[2, -1\]/);
    expectRejectedBeforeGpu(() => T.tensor([1, 2, 3], [2, 2]), /tensor: .*3 values.*\[2, 2\]/);
    expectRejectedBeforeGpu(() => T.tensor([1.5], [1], 'i32'), /i32/);
  });
});
