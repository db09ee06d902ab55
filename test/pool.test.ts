// Pooling against float64 references: max and average pooling (forward and gradient) on odd shapes with
// strides, padding and both count_include_pad modes, the first-maximum rule on ties, global average
// pooling, and input errors raised before any GPU work.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { checkOp, rng } from './reference/check.js';
import { poolRef } from './reference/pool.js';
import { reduceRef } from './reference/ops.js';
import { expectRejectedBeforeGpu, normalArr } from './helpers.js';

const TOL = 1e-4;

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(77);

// Odd channels and spatial sizes, batch 1 and 3.
// [2, 3, 6, 8]: the 2x2/2 windows tile it exactly (max pooling's one-thread-per-window backward).
const SHAPES = [[3, 5, 7, 5], [1, 3, 7, 5], [2, 3, 6, 8]];
// [kernel, stride, padding]: overlapping windows with padding, the common 2x2/2, stride 1 with padding,
// and a non-square window.
const WINDOWS: [T.Size2, T.Size2, T.Size2][] = [[3, 2, 1], [2, 2, 0], [3, 1, 1], [[3, 2], [2, 1], [1, 0]]];

const pairOf = (v: T.Size2): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

describe('maxPool2d', () => {
  it('forward and gradient on odd shapes with stride and padding', async () => {
    for (const shape of SHAPES) {
      for (const [kernel, stride, padding] of WINDOWS) {
        await checkOp({
          inputs: [normalArr(shape, next, 3, 1)],
          gpu: (x) => T.maxPool2d(x, kernel, stride, padding),
          ref: poolRef({ kind: 'max', kernel: pairOf(kernel), stride: pairOf(stride), padding: pairOf(padding) }),
          tol: TOL,
        });
      }
    }
  });

  it('the gradient of a tied window goes to its first maximum; padding never wins over negative values', async () => {
    // One plane [4, 4] of -1 except two 5s tied in the first 2x2 window; the other windows tie at -1.
    // Ties are not differentiable, so the rule is checked directly rather than by finite differences.
    const data = new Float32Array(16).fill(-1);
    data[1] = 5;
    data[4] = 5;
    const x = T.tensor(data, [1, 1, 4, 4]).requireGrad();
    const y = T.scope(() => {
      const pooled = T.maxPool2d(x, 2);
      pooled.backward(T.ones(pooled.shape));
      return pooled;
    });
    expect(Array.from(await y.read())).toEqual([5, -1, -1, -1]);
    expect(Array.from(await x.grad!.read())).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
    const padded = T.noGrad(() => T.maxPool2d(x, 3, 2, 1));
    expect(Array.from(await padded.read())).toEqual([5, 5, 5, -1]);
    for (const t of [x, y, padded]) t.dispose();
  });
});

describe('avgPool2d', () => {
  it('forward and gradient, padding counted in the divisor (PyTorch default)', async () => {
    for (const shape of SHAPES) {
      for (const [kernel, stride, padding] of WINDOWS) {
        await checkOp({
          inputs: [normalArr(shape, next, 3, 1)],
          gpu: (x) => T.avgPool2d(x, kernel, stride, padding),
          ref: poolRef({ kind: 'avg', kernel: pairOf(kernel), stride: pairOf(stride), padding: pairOf(padding) }),
          tol: TOL,
        });
      }
    }
  });

  it('forward and gradient with countIncludePad = false', async () => {
    for (const [kernel, stride, padding] of WINDOWS) {
      await checkOp({
        inputs: [normalArr([3, 5, 7, 5], next, 3, 1)],
        gpu: (x) => T.avgPool2d(x, kernel, stride, padding, false),
        ref: poolRef({ kind: 'avg', kernel: pairOf(kernel), stride: pairOf(stride), padding: pairOf(padding), countIncludePad: false }),
        tol: TOL,
      });
    }
  });

  it('stride defaults to the kernel', () => {
    const x = T.zeros([1, 2, 7, 5]);
    const y = T.avgPool2d(x, 2);
    expect(y.shape).toEqual([1, 2, 3, 2]);
    for (const t of [x, y]) t.dispose();
  });
});

describe('globalAvgPool2d', () => {
  it('averages each plane to [N, C], with the gradient spread evenly', async () => {
    for (const shape of SHAPES) {
      await checkOp({ inputs: [normalArr(shape, next, 3, 1)], gpu: (x) => T.globalAvgPool2d(x), ref: reduceRef('mean', [2, 3]), tol: TOL });
    }
  });
});

describe('pooling input errors (thrown before any GPU work)', () => {
  it('wrong rank, int dtype, padding over half the kernel, window larger than the input, bad sizes', () => {
    const x = T.zeros([2, 3, 7, 5]);
    const rank3 = T.zeros([3, 7, 5]);
    const ints = T.zeros([2, 3, 7, 5], 'i32');
    expectRejectedBeforeGpu(() => T.maxPool2d(rank3, 2), /maxPool2d: expected input \[N, C, H, W\], got \[3, 7, 5\] f32/);
    expectRejectedBeforeGpu(() => T.avgPool2d(rank3, 2), /avgPool2d: expected input \[N, C, H, W\], got \[3, 7, 5\] f32/);
    expectRejectedBeforeGpu(() => T.globalAvgPool2d(rank3), /globalAvgPool2d: expected input \[N, C, H, W\], got \[3, 7, 5\] f32/);
    expectRejectedBeforeGpu(() => T.maxPool2d(ints, 2), /maxPool2d: input has dtype i32 .*expected f32/);
    expectRejectedBeforeGpu(() => T.globalAvgPool2d(ints), /globalAvgPool2d: input has dtype i32 .*expected f32/);
    expectRejectedBeforeGpu(() => T.maxPool2d(x, 2, 2, 2), /maxPool2d: padding 2 must be at most half the kernel 2/);
    expectRejectedBeforeGpu(() => T.avgPool2d(x, 8), /avgPool2d: kernel 8 with padding 0 does not fit input \[2, 3, 7, 5\] f32/);
    expectRejectedBeforeGpu(() => T.maxPool2d(x, 0), /maxPool2d: kernel must be an integer >= 1/);
    expectRejectedBeforeGpu(() => T.maxPool2d(x, 2, [1, 0]), /maxPool2d: stride must be an integer >= 1 or a pair of them, got \[1,0\]/);
    for (const t of [x, rank3, ints]) t.dispose();
  });
});
