// Mini-batches of sample indices. The order of epoch e depends only on (seed, e), never on what ran
// before, so a run resumed from a checkpoint at epoch e sees exactly the batches it would have seen.
import { checkSeed, Rng, STREAM } from './random.js';

/** Options of {@link batches}. */
export interface BatchOptions {
  batchSize: number;
  /** Shuffle seed, an integer in [0, 2^32); without one the batches keep the order of `indices` (evaluation). */
  seed?: number;
  /** Epoch number (integer ≥ 0, default 0): each epoch of a seed has its own fixed order. Needs `seed`. */
  epoch?: number;
  /** Leave out the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/** A copy of `indices` as an Int32Array, refusing what Int32Array.from would silently wrap or truncate. */
function indexArray(indices: ArrayLike<number>, what: string): Int32Array {
  const out = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new Error(`${what}: index ${v} at position ${i} is not an integer in [0, 2^31)`);
    out[i] = v;
  }
  return out;
}

/** The order of `indices` in epoch `epoch` of `seed`: a seeded permutation, the same on every call. */
export function epochOrder(indices: ArrayLike<number>, seed: number, epoch = 0): Int32Array {
  checkSeed(seed, 'epochOrder');
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`epochOrder: epoch must be a non-negative integer, got ${epoch}`);
  return new Rng(seed, STREAM.epochOrder, epoch).shuffle(indexArray(indices, 'epochOrder'));
}

/** How many batches {@link batches} yields for `n` samples. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * Splits `indices` into batches of `batchSize` (the last one smaller unless `dropLast`), shuffled per
 * epoch when a seed is given. Each batch is a fresh Int32Array (e.g. for a gather on the GPU). The
 * options are checked here, at the call, not at the first iteration.
 */
export function batches(indices: ArrayLike<number>, opts: BatchOptions): IterableIterator<Int32Array> {
  const { batchSize, seed, epoch, dropLast = false } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}`);
  if (seed === undefined && epoch !== undefined) throw new Error('batches: an epoch without a seed means nothing (the order is only shuffled with a seed)');
  const order = seed === undefined ? indexArray(indices, 'batches') : epochOrder(indices, seed, epoch);
  const end = batchCount(order.length, batchSize, dropLast) * batchSize;
  return (function* () {
    for (let start = 0; start < Math.min(end, order.length); start += batchSize) yield order.slice(start, start + batchSize);
  })();
}
