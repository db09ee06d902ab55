// conv2d against its float64 reference: forward and the gradients of input, weight and bias on random
// inputs with odd shapes (channels not multiples of the 8 x 8 register block, strides 1 and 2, padding
// 0 and 1, 1x1, 3x3 and 3x2 kernels, batch 1 and 3); the reference VJP checked by finite differences.
// Shapes are small: SwiftShader is slow, and the reference runs on the JS thread.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { expectRejectedBeforeGpu } from './helpers.js';
import { conv2dRef } from './reference/conv.js';
import { checkOp, randomArr, rng } from './reference/check.js';

const TOL = 1e-4;

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(2024);

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: [number, number];
  padding: [number, number];
  bias: boolean;
}

const cases: ConvCase[] = [
  { name: '3x3 stride 1 pad 1, C=3 K=5, batch 1, bias', x: [1, 3, 7, 6], w: [5, 3, 3, 3], stride: [1, 1], padding: [1, 1], bias: true },
  { name: '3x3 stride 2 pad 1, C=5 K=11, batch 3', x: [3, 5, 9, 8], w: [11, 5, 3, 3], stride: [2, 2], padding: [1, 1], bias: false },
  { name: '3x3 stride 1 pad 0, C=9 K=17, batch 1, bias', x: [1, 9, 6, 9], w: [17, 9, 3, 3], stride: [1, 1], padding: [0, 0], bias: true },
  { name: '3x3 stride 2 pad 0, C=3 K=5, batch 3, bias', x: [3, 3, 8, 7], w: [5, 3, 3, 3], stride: [2, 2], padding: [0, 0], bias: true },
  { name: '1x1 stride 1, C=10 K=3, batch 3, bias', x: [3, 10, 5, 4], w: [3, 10, 1, 1], stride: [1, 1], padding: [0, 0], bias: true },
  { name: '1x1 stride 2, C=6 K=9, batch 1', x: [1, 6, 7, 7], w: [9, 6, 1, 1], stride: [2, 2], padding: [0, 0], bias: false },
  { name: '3x2 kernel, stride [2, 1], padding [1, 0], C=4 K=6, batch 3, bias', x: [3, 4, 8, 5], w: [6, 4, 3, 2], stride: [2, 1], padding: [1, 0], bias: true },
  // One output row: the weight gradient is a single part (no sum over parts).
  { name: '3x3 on a 3x5 image without padding, C=2 K=3 (one output row)', x: [1, 2, 3, 5], w: [3, 2, 3, 3], stride: [1, 1], padding: [0, 0], bias: false },
  // Several workgroups of threads in every kernel.
  { name: '3x3 stride 1 pad 1, C=3 K=5, batch 3, 16x16', x: [3, 3, 16, 16], w: [5, 3, 3, 3], stride: [1, 1], padding: [1, 1], bias: true },
];

describe('conv2d', () => {
  for (const c of cases) {
    it(`${c.name}: forward and gradients match the reference`, async () => {
      const inputs = [randomArr(c.x, next), randomArr(c.w, next, -1, 1)];
      if (c.bias) inputs.push(randomArr([c.w[0]], next));
      await checkOp({
        inputs,
        gpu: (x, w, b) => T.conv2d(x, w, b, { stride: c.stride, padding: c.padding }),
        ref: conv2dRef({ stride: c.stride, padding: c.padding }),
        tol: TOL,
      });
    });
  }

  it('computes only the gradients that are needed (a first layer: the input needs none)', async () => {
    const stride: [number, number] = [2, 2];
    const padding: [number, number] = [1, 1];
    await checkOp({
      inputs: [randomArr([2, 3, 6, 6], next), randomArr([4, 3, 3, 3], next), randomArr([4], next)],
      grad: [false, true, true],
      gpu: (x, w, b) => T.conv2d(x, w, b, { stride, padding }),
      ref: conv2dRef({ stride, padding }),
      tol: TOL,
    });
    const x = T.randn([2, 3, 6, 6]);
    const w = T.randn([4, 3, 3, 3]).requireGrad();
    const dy = T.randn([2, 4, 3, 3]);
    const backwardDispatches = (inputGrad: boolean) => {
      x.requireGrad(inputGrad);
      const y = T.conv2d(x, w, null, { stride, padding });
      const before = T.engine().dispatchCount;
      y.backward(dy);
      const count = T.engine().dispatchCount - before;
      expect(!!x.grad).toBe(inputGrad);
      for (const t of [y, x.grad, w.grad]) t?.dispose();
      x.grad = w.grad = null;
      return count;
    };
    // The input gradient is one dispatch per stride phase, 2 x 2 here.
    expect(backwardDispatches(true) - backwardDispatches(false)).toBe(4);
    for (const t of [x, w, dy]) t.dispose();
  });

  it('accepts numbers for stride and padding, and defaults to stride 1, no padding', async () => {
    const x = T.randn([1, 2, 5, 5]);
    const w = T.randn([3, 2, 3, 3]);
    expect(T.conv2d(x, w).shape).toEqual([1, 3, 3, 3]);
    expect(T.conv2d(x, w, null, { stride: 2, padding: 1 }).shape).toEqual([1, 3, 3, 3]);
    expect(T.conv2d(x, w, undefined, { stride: [1, 2], padding: [0, 1] }).shape).toEqual([1, 3, 3, 3]);
    const empty = T.conv2d(T.zeros([0, 2, 5, 5]), w, null, { padding: 1 });
    expect(empty.shape).toEqual([0, 3, 5, 5]);
    for (const t of [x, w, empty]) t.dispose();
  });
});

describe('conv2d input errors', () => {
  it('name the op, the shapes and dtypes, and what was expected, before any GPU work', () => {
    const x = T.zeros([2, 3, 8, 8]);
    const w = T.zeros([4, 3, 3, 3]);
    const w5 = T.zeros([4, 5, 3, 3]);
    const xi = T.zeros([2, 3, 8, 8], 'i32');
    const x3 = T.zeros([3, 8, 8]);
    const w2 = T.zeros([4, 27]);
    const b3 = T.zeros([3]);
    const bi = T.zeros([4], 'i32');
    const tiny = T.zeros([1, 3, 2, 2]);
    expectRejectedBeforeGpu(() => T.conv2d(x, w5), /conv2d: input \[2, 3, 8, 8\] f32 has 3 channels but weight \[4, 5, 3, 3\] f32 expects 5/);
    expectRejectedBeforeGpu(() => T.conv2d(x3, w), /conv2d: input is \[3, 8, 8\] f32, expected 4 dimensions \[N, C, H, W\]/);
    expectRejectedBeforeGpu(() => T.conv2d(x, w2), /conv2d: weight is \[4, 27\] f32, expected 4 dimensions \[K, C, R, S\]/);
    expectRejectedBeforeGpu(() => T.conv2d(xi, w), /conv2d: input has dtype i32 \(shape \[2, 3, 8, 8\]\), expected f32/);
    expectRejectedBeforeGpu(() => T.conv2d(x, w, b3), /conv2d: bias is \[3\] f32, expected \[4\]/);
    expectRejectedBeforeGpu(() => T.conv2d(x, w, bi), /conv2d: bias has dtype i32 .*expected f32/);
    expectRejectedBeforeGpu(() => T.conv2d(tiny, w), /conv2d: kernel 3x3 .* larger than the padded input 2x2/);
    expectRejectedBeforeGpu(() => T.conv2d(x, w, null, { stride: 0 }), /conv2d: stride must be an integer >= 1 .* got 0/);
    expectRejectedBeforeGpu(() => T.conv2d(x, w, null, { padding: [1, -1] }), /conv2d: padding must be an integer >= 0 .* got \[1,-1\]/);
    for (const t of [x, w, w5, xi, x3, w2, b3, bi, tiny]) t.dispose();
  });
});
