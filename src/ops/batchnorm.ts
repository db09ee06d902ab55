// Batch normalisation (shaders/batchnorm.wgsl) over the channel axis of [N, C] or [N, C, H, W]:
// per-channel statistics by a workgroup tree, one elementwise map for the output, and one dedicated
// backward kernel giving dx, dgamma and dbeta together.
import { recordOp } from '../autograd.js';
import { engine } from '../engine.js';
import { formatShape, Tensor } from '../tensor.js';
import { Uniforms } from './uniforms.js';
import { assertDType, describe, sameShape } from './validate.js';

/** Options of {@link batchNorm}; the defaults are PyTorch's. */
export interface BatchNormOptions {
  /**
   * Normalise with the batch's statistics and update the running ones (true), or normalise with the
   * running statistics and leave them alone (false, the default, as torch.nn.functional.batch_norm).
   */
  training?: boolean;
  /** Weight of the batch statistics in the running averages (training only). Default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
}

/** Binding slots of batchnorm.wgsl, in order from binding 1. */
const SLOTS = ['out', 'x', 'g', 'stats', 'weight', 'bias', 'runningMean', 'runningVar', 'statsOut', 'dweight', 'dbias'] as const;
type Slot = (typeof SLOTS)[number];

/** Threads per elementwise workgroup (apply, stats_eval). */
const WG = 256;

interface Layout {
  n: number;
  c: number;
  hw: number;
  /** Values per channel: n * hw. */
  count: number;
}

/** Threads per channel: a power of two covering small channels, at most the engine's cooperative width. */
function workgroupFor(count: number): number {
  return Math.min(engine().cooperativeThreads, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(count, 1)))));
}

interface Step {
  entry: string;
  bound: Partial<Record<Slot, Tensor>>;
  constants: Record<string, number | boolean>;
  groups: number;
}

/** Consecutive elements per thread: 4 where they always share a channel (see batchnorm.wgsl). */
function spanOf(layout: Layout): number {
  return layout.hw % 4 === 0 ? 4 : 1;
}

function record(layout: Layout, { entry, bound, constants, groups }: Step, momentum = 0, eps = 0): void {
  const e = engine();
  e.dispatch({
    family: 'batchnorm',
    entry,
    constants: { ...constants, SPAN: spanOf(layout) },
    params: new Uniforms(32).u32(layout.n, layout.c, layout.hw, layout.count).f32(momentum, eps).u32(0, 0).buffer,
    buffers: SLOTS.map((slot) => bound[slot]?.bufferFor('batchNorm') ?? null),
    groups: e.grid(groups),
  });
}

function checkChannelVector(t: Tensor | null | undefined, what: string, c: number, x: Tensor): void {
  if (t === null || t === undefined) return;
  assertDType('batchNorm', t, ['f32'], what);
  if (!sameShape(t.shape, [c])) {
    throw new Error(`batchNorm: ${what} has shape ${formatShape(t.shape)}, expected [${c}] (one value per channel of input ${describe(x)})`);
  }
}

/**
 * Batch normalisation over the channel axis 1 of `x` ([N, C] for 1-d, [N, C, H, W] for 2-d), as
 * torch.nn.functional.batch_norm: y = (x - mean) / sqrt(var + eps) * weight + bias per channel.
 *
 * In training mode mean and var are the batch's (biased variance) and the running statistics are
 * updated in place, outside the autograd graph: running = (1 - momentum) running + momentum batch, with
 * the unbiased variance for runningVar. In evaluation mode the running statistics are used as they are.
 * `weight` (gamma) and `bias` (beta) are optional; gradients flow to x, weight and bias.
 *
 * @param runningMean - [C] float32, updated in place in training mode.
 * @param runningVar - [C] float32, updated in place in training mode.
 * @throws Error before any GPU work on a wrong rank, dtype or channel count, on running statistics that
 * share storage (with each other, or in training mode with x, weight or bias), or, in training mode, on
 * a batch with a single value per channel (its variance is undefined).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  weight?: Tensor | null,
  bias?: Tensor | null,
  opts: BatchNormOptions = {},
): Tensor {
  const { training = false, momentum = 0.1, eps = 1e-5 } = opts;
  assertDType('batchNorm', x, ['f32']);
  if (x.rank !== 2 && x.rank !== 4) {
    throw new Error(`batchNorm: expected input [N, C] or [N, C, H, W], got ${describe(x)}`);
  }
  const [n, c] = x.shape;
  const hw = x.rank === 4 ? x.shape[2] * x.shape[3] : 1;
  checkChannelVector(runningMean, 'runningMean', c, x);
  checkChannelVector(runningVar, 'runningVar', c, x);
  checkChannelVector(weight, 'weight', c, x);
  checkChannelVector(bias, 'bias', c, x);
  if (!(eps >= 0) || !(momentum >= 0 && momentum <= 1)) {
    throw new Error(`batchNorm: expected eps >= 0 and momentum in [0, 1], got eps ${eps} and momentum ${momentum}`);
  }
  const layout: Layout = { n, c, hw, count: n * hw };
  if (training && layout.count < 2) {
    throw new Error(`batchNorm: expected more than 1 value per channel when training, got input ${describe(x)}`);
  }
  // The running statistics are bound writable, and WebGPU rejects a dispatch whose writable binding
  // aliases another binding.
  const inputs = [x, weight, bias].filter((t): t is Tensor => !!t);
  const shared = (a: Tensor, b: Tensor) => a.bufferFor('batchNorm') === b.bufferFor('batchNorm');
  if (shared(runningMean, runningVar) || (training && inputs.some((t) => shared(t, runningMean) || shared(t, runningVar)))) {
    throw new Error('batchNorm: runningMean and runningVar must not share storage with each other, nor, when training, with the input, weight or bias');
  }

  const y = Tensor.empty(x.shape);
  const stats = Tensor.empty([c, 2]);
  // Empty inputs need no special case: every kernel guards its range (and pooled buffers are never empty).
  const running = { runningMean, runningVar, statsOut: stats };
  if (training) {
    record(layout, { entry: 'stats_train', bound: { x, ...running }, constants: { WG: workgroupFor(layout.count) }, groups: c }, momentum, eps);
  } else {
    record(layout, { entry: 'stats_eval', bound: running, constants: { WG }, groups: Math.ceil(c / WG) }, 0, eps);
  }
  // An absent weight or bias is never read (HAS_* false), but its binding needs some buffer: stats.
  record(layout, {
    entry: 'apply',
    bound: { out: y, x, stats, weight: weight ?? stats, bias: bias ?? stats },
    constants: { WG, HAS_WEIGHT: !!weight, HAS_BIAS: !!bias },
    groups: Math.ceil(x.size / spanOf(layout) / WG),
  });

  const out = recordOp(y, 'batchNorm', inputs, (g) => {
    const dx = Tensor.empty(x.shape);
    const dweight = Tensor.empty([c]);
    const dbias = Tensor.empty([c]);
    record(layout, {
      entry: 'backward',
      bound: { out: dx, x, g, stats, weight: weight ?? stats, dweight, dbias },
      constants: { WG: workgroupFor(layout.count), HAS_WEIGHT: !!weight, TRAIN: training },
      groups: c,
    });
    return [dx, ...(weight ? [dweight] : []), ...(bias ? [dbias] : [])];
  });
  // Without a graph nothing will read the saved statistics again.
  if (!out.requiresGrad) stats.dispose();
  return out;
}
