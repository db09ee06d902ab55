// Per-row neighbourhood statistics of an embedding set on the device (the kernels of ops/knn.ts): per
// row, the same-class distance sum, the same-class Gaussian potential, the nearest other row and the
// same-label count of its m nearest other rows. Only [n, 4] numbers come back; the n x n matrix exists
// neither on the host nor on the device.
import { tensor } from '../ops/creation.js';
import { neighbourRowStats } from '../ops/knn.js';
import { assertDType, describe } from '../ops/validate.js';
import type { Tensor } from '../tensor.js';

/** Options of {@link neighbourStats}. */
export interface NeighbourOptions {
  /** Neighbours selected among the other rows (the anchor is never one of them); 0 ≤ m ≤ n − 1. */
  m: number;
  /** Gaussian potential exp(−t‖a − b‖²); default 2 (Wang & Isola, the Two-Classes code). */
  t?: number;
  /** Bytes of the distance block buffer (rows × n × 4); default 32 MiB. Tests shrink it to force blocks. */
  blockBytes?: number;
}

/** Per-row statistics, each of length n (rows of the embedding matrix). */
export interface NeighbourStats {
  /** Σ_{j: y_j = y_i} ‖x_i − x_j‖ (the anchor contributes 0). */
  sameDistSum: Float64Array;
  /** Σ_{j ≠ i: y_j = y_i} exp(−t‖x_i − x_j‖²). */
  sameGaussSum: Float64Array;
  /** argmin_{j ≠ i} ‖x_i − x_j‖, ties to the lowest index. */
  nearest: Int32Array;
  /** Same-label rows among the m nearest other rows (ascending distance, ties to the lowest index). */
  sameInTopM: Int32Array;
}

/**
 * Neighbourhood statistics of `x` [n, d] (f32, on the device) with integer labels [n]. Checks every
 * argument before recording any GPU work.
 */
export function neighbourStats(x: Tensor, labels: ArrayLike<number>, opts: NeighbourOptions): Promise<NeighbourStats> {
  assertDType('neighbourStats', x, ['f32'], 'embeddings');
  if (x.rank !== 2) throw new Error(`neighbourStats: expected embeddings [n, d], got ${describe(x)}`);
  const n = x.shape[0];
  if (labels.length !== n) throw new Error(`neighbourStats: ${labels.length} labels for ${n} embeddings`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0) throw new Error(`neighbourStats: label ${labels[i]} at ${i} is not a non-negative integer`);
  }
  const { m } = opts;
  if (!Number.isInteger(m) || m < 0 || m > n - 1) {
    throw new Error(`neighbourStats: neighbourhood size m = ${m} must be an integer in [0, ${n - 1}] for ${n} embeddings`);
  }
  const t = opts.t ?? 2;
  if (!Number.isFinite(t)) throw new Error(`neighbourStats: t must be finite, got ${t}`);
  // Synchronous checks above, so that bad input throws at the call, not in a rejected promise.
  return run(x, Int32Array.from(labels), m, t, opts.blockBytes ?? 32 << 20);
}

async function run(x: Tensor, labels: Int32Array, m: number, t: number, blockBytes: number): Promise<NeighbourStats> {
  const n = x.shape[0];
  const y = tensor(labels, [n]);
  let stats: Tensor | undefined;
  try {
    stats = neighbourRowStats(x, y, m, t, blockBytes);
    const raw = await stats.read();
    const bits = new Int32Array(raw.buffer, raw.byteOffset, raw.length);
    const out: NeighbourStats = {
      sameDistSum: new Float64Array(n),
      sameGaussSum: new Float64Array(n),
      nearest: new Int32Array(n),
      sameInTopM: new Int32Array(n),
    };
    for (let i = 0; i < n; i++) {
      out.sameDistSum[i] = raw[4 * i];
      out.sameGaussSum[i] = raw[4 * i + 1];
      out.nearest[i] = bits[4 * i + 2];
      out.sameInTopM[i] = bits[4 * i + 3];
    }
    return out;
  } finally {
    y.dispose();
    stats?.dispose();
  }
}
