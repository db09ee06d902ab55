// Float64 reference of batch normalisation (forward, VJP, running-statistic update), written from the
// definitions rather than from the kernels; check.ts verifies the VJP by finite differences.
import { arr, type Arr, type RefOp } from './ops.js';

export interface BatchNormRefOptions {
  training: boolean;
  eps?: number;
  /** Whether the inputs after x include gamma, then beta (in that order). */
  weight?: boolean;
  bias?: boolean;
  /** Running statistics [C], used in evaluation mode. */
  runningMean?: ArrayLike<number>;
  runningVar?: ArrayLike<number>;
}

/** The flat indices of channel k's N * H * W values in x [N, C] or [N, C, H, W]. */
function channelIndices(x: Arr, k: number): number[] {
  const [n, c] = x.shape;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let s = 0; s < inner; s++) out.push((i * c + k) * inner + s);
  return out;
}

/** Mean and biased variance of each channel, by the two-pass formula in float64. */
export function channelMoments(x: Arr): { mean: number[]; variance: number[]; count: number } {
  const c = x.shape[1];
  const mean: number[] = [];
  const variance: number[] = [];
  let count = 0;
  for (let k = 0; k < c; k++) {
    const vs = channelIndices(x, k).map((i) => x.data[i]);
    const m = vs.reduce((a, b) => a + b, 0) / vs.length;
    mean.push(m);
    variance.push(vs.reduce((a, v) => a + (v - m) ** 2, 0) / vs.length);
    count = vs.length;
  }
  return { mean, variance, count };
}

/** PyTorch's running-statistic update after one training step on x (unbiased variance). */
export function updatedRunningStats(x: Arr, runningMean: number[], runningVar: number[], momentum: number): { mean: number[]; variance: number[] } {
  const { mean, variance, count } = channelMoments(x);
  return {
    mean: runningMean.map((r, k) => (1 - momentum) * r + momentum * mean[k]),
    variance: runningVar.map((r, k) => (1 - momentum) * r + (momentum * variance[k] * count) / (count - 1)),
  };
}

/** batch_norm on inputs [x, gamma?, beta?]: the batch statistics in training mode, the running ones in eval. */
export function batchNormRef(o: BatchNormRefOptions): RefOp {
  const eps = o.eps ?? 1e-5;
  const parts = (inputs: Arr[]) => {
    const [x] = inputs;
    const c = x.shape[1];
    const gamma = o.weight ? inputs[1].data : new Float64Array(c).fill(1);
    const beta = o.bias ? inputs[o.weight ? 2 : 1].data : new Float64Array(c);
    const stats = o.training ? channelMoments(x) : { mean: Array.from(o.runningMean!), variance: Array.from(o.runningVar!) };
    const invstd = stats.variance.map((v) => 1 / Math.sqrt(v + eps));
    return { x, c, gamma, beta, mean: stats.mean, invstd };
  };
  return {
    forward: (inputs) => {
      const { x, c, gamma, beta, mean, invstd } = parts(inputs);
      const y = arr(x.shape);
      for (let k = 0; k < c; k++) {
        for (const i of channelIndices(x, k)) y.data[i] = (x.data[i] - mean[k]) * invstd[k] * gamma[k] + beta[k];
      }
      return y;
    },
    vjp: (inputs, g) => {
      const { x, c, gamma, mean, invstd } = parts(inputs);
      const dx = arr(x.shape);
      const dgamma = arr([c]);
      const dbeta = arr([c]);
      for (let k = 0; k < c; k++) {
        const idx = channelIndices(x, k);
        const xhat = (i: number) => (x.data[i] - mean[k]) * invstd[k];
        dbeta.data[k] = idx.reduce((s, i) => s + g.data[i], 0);
        dgamma.data[k] = idx.reduce((s, i) => s + g.data[i] * xhat(i), 0);
        const m = idx.length;
        for (const i of idx) {
          // Training: the batch mean and variance depend on x too, which adds the two mean terms.
          const centred = o.training ? g.data[i] - dbeta.data[k] / m - (xhat(i) * dgamma.data[k]) / m : g.data[i];
          dx.data[i] = gamma[k] * invstd[k] * centred;
        }
      }
      return [dx, ...(o.weight ? [dgamma] : []), ...(o.bias ? [dbeta] : [])];
    },
  };
}
