// Batch normalisation against its float64 reference: forward and gradients (x, gamma, beta) in training
// and evaluation mode on odd shapes, the running statistics after two steps, stability on data with a
// large mean, both cooperative widths, and input errors raised before any GPU work.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { checkOp, expectClose, rng } from './reference/check.js';
import { batchNormRef, updatedRunningStats } from './reference/norm.js';
import type { Arr } from './reference/ops.js';
import { expectRejectedBeforeGpu, normalArr, useCooperativeThreads } from './helpers.js';

const TOL = 1e-4;

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(2024);

const toTensor = (a: Arr) => T.tensor(Float32Array.from(a.data), a.shape);

// [3, 5, 7, 5]: 105 values per channel, H * W = 35; [1, 3, 7, 5]: batch 1; [9, 3, 7, 5]: 315 values,
// so 256 threads take a second step, some of which carry into the next batch item; [3, 5] and
// [37, 5]: 1-d (H * W = 1). H * W a multiple of 4 takes the kernels' four-elements-a-thread path:
// [3, 5, 6, 6] (36 per row) and [7, 3, 2, 2] (4 per row, so a step of 4 threads x 4 spans 4 batch items).
const SHAPES = [[3, 5, 7, 5], [1, 3, 7, 5], [9, 3, 7, 5], [3, 5], [37, 5], [3, 5, 6, 6], [7, 3, 2, 2]];

/** Inputs [x, gamma?, beta?]: x = 3 + randn, gamma and beta away from 1 and 0. */
function inputsFor(shape: number[], weight: boolean, bias: boolean): Arr[] {
  const c = shape[1];
  return [normalArr(shape, next, 3, 1), ...(weight ? [normalArr([c], next, 1, 0.5)] : []), ...(bias ? [normalArr([c], next, 0, 1)] : [])];
}

/** The GPU op on [x, gamma?, beta?], with running statistics made inside checkOp's scope. */
function gpuBatchNorm(c: number, weight: boolean, bias: boolean, opts: T.BatchNormOptions, running?: [Arr, Arr]) {
  return (x: T.Tensor, ...affine: T.Tensor[]) => {
    const [rm, rv] = running ? running.map(toTensor) : [T.zeros([c]), T.ones([c])];
    return T.batchNorm(x, rm, rv, weight ? affine[0] : null, bias ? affine.at(-1) : null, opts);
  };
}

for (const width of [4, 256]) {
  describe(`batchNorm (${width} cooperating threads)`, () => {
    useCooperativeThreads(width);

    it('training mode: forward and gradients of x, gamma and beta on 2-d and 1-d inputs', async () => {
      for (const shape of SHAPES) {
        await checkOp({
          inputs: inputsFor(shape, true, true),
          gpu: gpuBatchNorm(shape[1], true, true, { training: true }),
          ref: batchNormRef({ training: true, weight: true, bias: true }),
          tol: TOL,
        });
      }
    });

    it('training mode without gamma and beta, with gamma only, with beta only', async () => {
      const shape = [3, 5, 7, 5];
      for (const [weight, bias] of [[false, false], [true, false], [false, true]]) {
        await checkOp({
          inputs: inputsFor(shape, weight, bias),
          gpu: gpuBatchNorm(shape[1], weight, bias, { training: true, eps: 1e-3 }),
          ref: batchNormRef({ training: true, eps: 1e-3, weight, bias }),
          tol: TOL,
        });
      }
    });

    it('evaluation mode: the running statistics normalise, and the gradients are those of an affine map', async () => {
      for (const shape of [[3, 5, 7, 5], [3, 5], [3, 5, 6, 6]]) {
        const c = shape[1];
        const running: [Arr, Arr] = [normalArr([c], next, 3, 0.5), normalArr([c], next, 1.5, 0.2)];
        await checkOp({
          inputs: inputsFor(shape, true, true),
          gpu: gpuBatchNorm(c, true, true, { training: false }, running),
          ref: batchNormRef({ training: false, weight: true, bias: true, runningMean: running[0].data, runningVar: running[1].data }),
          tol: TOL,
        });
      }
    });

    it('evaluation mode is deterministic and leaves the running statistics alone', async () => {
      const xs = normalArr([3, 5, 7, 5], next, 3, 1);
      const rm = T.tensor([2.5, 3, 3.5, 2, 4]);
      const rv = T.tensor([1, 0.5, 2, 1.5, 0.8]);
      const x = toTensor(xs);
      const y1 = T.batchNorm(x, rm, rv);
      const y2 = T.batchNorm(x, rm, rv, null, null, { training: false });
      const first = await y1.read();
      expect(await y2.read()).toEqual(first);
      expect(Array.from(await rm.read())).toEqual(Array.from(Float32Array.from([2.5, 3, 3.5, 2, 4])));
      expect(Array.from(await rv.read())).toEqual(Array.from(Float32Array.from([1, 0.5, 2, 1.5, 0.8])));
      const want = batchNormRef({ training: false, runningMean: await rm.read(), runningVar: await rv.read() }).forward([xs]);
      expectClose(first, want.data, TOL, 'eval forward');
      for (const t of [x, rm, rv, y1, y2]) t.dispose();
    });

    it('running statistics after two training steps follow the update formula (unbiased variance)', async () => {
      for (const shape of [[3, 5, 7, 5], [3, 5], [7, 3, 2, 2]]) {
        const c = shape[1];
        const momentum = 0.3;
        let wantMean = Array.from(normalArr([c], next, 1, 1).data);
        let wantVar = Array.from(normalArr([c], next, 2, 0.3).data);
        const rm = T.tensor(wantMean);
        const rv = T.tensor(wantVar);
        for (let step = 0; step < 2; step++) {
          const xs = normalArr(shape, next, 3 + step, 1 + step);
          T.scope(() => void T.batchNorm(toTensor(xs), rm, rv, null, null, { training: true, momentum }));
          ({ mean: wantMean, variance: wantVar } = updatedRunningStats(xs, wantMean, wantVar, momentum));
        }
        expectClose(await rm.read(), wantMean, TOL, 'running mean');
        expectClose(await rv.read(), wantVar, TOL, 'running var');
        rm.dispose();
        rv.dispose();
      }
    });

    it('statistics stay accurate on data with a large mean (1000 + randn), where E[x^2] - E[x]^2 fails in f32', async () => {
      await checkOp({
        inputs: inputsFor([3, 3, 9, 11], true, true).map((a, k) => (k === 0 ? normalArr(a.shape, next, 1000, 1) : a)),
        gpu: gpuBatchNorm(3, true, true, { training: true }),
        ref: batchNormRef({ training: true, weight: true, bias: true }),
        tol: TOL,
      });
    });
  });
}

describe('batchNorm input errors (thrown before any GPU work)', () => {
  it('wrong rank, channel mismatch, int dtype, one value per channel in training, aliased running stats, bad options', () => {
    const x = T.zeros([2, 3, 4, 4]);
    const stats = T.zeros([3]);
    const four = T.zeros([4]);
    const ints = T.zeros([2, 3, 4, 4], 'i32');
    const intStats = T.zeros([3], 'i32');
    const rank3 = T.zeros([2, 3, 4]);
    const single = T.zeros([1, 3]);
    const other = T.ones([3]);
    expectRejectedBeforeGpu(() => T.batchNorm(rank3, stats, other), /batchNorm: expected input \[N, C\] or \[N, C, H, W\], got \[2, 3, 4\] f32/);
    expectRejectedBeforeGpu(() => T.batchNorm(x, four, stats), /batchNorm: runningMean has shape \[4\], expected \[3\]/);
    expectRejectedBeforeGpu(() => T.batchNorm(x, stats, four), /batchNorm: runningVar has shape \[4\], expected \[3\]/);
    expectRejectedBeforeGpu(() => T.batchNorm(x, stats, other, four), /batchNorm: weight has shape \[4\], expected \[3\]/);
    expectRejectedBeforeGpu(() => T.batchNorm(ints, stats, other), /batchNorm: input has dtype i32 .*expected f32/);
    expectRejectedBeforeGpu(() => T.batchNorm(x, intStats, stats), /batchNorm: runningMean has dtype i32 .*expected f32/);
    expectRejectedBeforeGpu(
      () => T.batchNorm(single, stats, other, null, null, { training: true }),
      /batchNorm: expected more than 1 value per channel when training, got input \[1, 3\] f32/,
    );
    expectRejectedBeforeGpu(() => T.batchNorm(x, stats, stats), /batchNorm: runningMean and runningVar must not share storage/);
    expectRejectedBeforeGpu(() => T.batchNorm(x, stats, other, stats, null, { training: true }), /batchNorm: .*must not share storage/);
    expectRejectedBeforeGpu(() => T.batchNorm(x, stats, other, null, null, { momentum: 1.5 }), /batchNorm: expected eps >= 0 and momentum in \[0, 1\]/);
    for (const t of [x, stats, other, four, ints, intStats, rank3, single]) t.dispose();
  });
});
