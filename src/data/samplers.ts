// Mini-batch samplers over a labelled training set: plain shuffling, class-balanced sampling, and batches
// that hold every class. Like batches(), the batches of epoch e depend only on (seed, e), so a run
// resumed from a checkpoint sees exactly the batches it would have seen.
import { batchCount, batches, epochOrder } from './batches.js';
import { groupByClass } from './longtail.js';
import { checkSeed, Rng, STREAM } from './random.js';

/**
 * - `shuffled`: every sample once per epoch in a seeded random order ({@link batches});
 * - `class-balanced`: each slot draws a class uniformly at random, then the next sample of that class's
 *   own shuffled cycle (reshuffled when used up), so every class is equally likely whatever its size and
 *   a tail class repeats its samples evenly rather than at random;
 * - `every-class`: each batch first takes `perClass` samples of every class (from per-class cycles as
 *   above), then fills up from the epoch's shuffled order, skipping samples already in the batch.
 */
export type SamplerKind = 'shuffled' | 'class-balanced' | 'every-class';

/** The sampler kinds, e.g. for a command-line option. */
export const SAMPLER_KINDS: readonly SamplerKind[] = ['shuffled', 'class-balanced', 'every-class'];

/** Options of {@link sampleBatches}. */
export interface SamplerOptions {
  /** Default `shuffled`. */
  sampler?: SamplerKind;
  numClasses: number;
  batchSize: number;
  /** An integer in [0, 2^32). */
  seed: number;
  /** Epoch number, an integer ≥ 0 (default 0). */
  epoch?: number;
  /** Leave out a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** `every-class` only: samples of each class in every batch (default 1). */
  perClass?: number;
}

/**
 * Batches per epoch of `n` samples, the same for every sampler: ⌈n / batchSize⌉, or ⌊n / batchSize⌋
 * with `dropLast`. So an epoch draws about n samples whatever the sampler, and step counts and
 * learning-rate schedules do not change with it.
 */
export function samplerBatchCount(n: number, opts: Pick<SamplerOptions, 'batchSize' | 'dropLast'>): number {
  return batchCount(n, opts.batchSize, opts.dropLast);
}

/** A class's samples in a seeded random order, reshuffled by the same stream each time it is used up. */
class ClassCycle {
  private readonly order: number[];
  private at = 0;

  constructor(
    members: readonly number[],
    private readonly rng: Rng,
  ) {
    this.order = rng.shuffle([...members]);
  }

  next(): number {
    if (this.at === this.order.length) {
      this.rng.shuffle(this.order);
      this.at = 0;
    }
    return this.order[this.at++];
  }
}

/**
 * The batches of one epoch, as positions into `labels` (the training set's labels, 0..numClasses−1):
 * fresh Int32Arrays, e.g. for a gather on the GPU. See {@link SamplerKind} for what each sampler draws
 * and {@link samplerBatchCount} for how many batches an epoch has. Batches hold `batchSize` samples,
 * except the last of `shuffled` and `class-balanced` when n is not a multiple and `dropLast` is off;
 * `every-class` batches are always full. Options and labels are checked here, at the call.
 */
export function sampleBatches(labels: ArrayLike<number>, opts: SamplerOptions): IterableIterator<Int32Array> {
  const what = 'sampleBatches';
  const { sampler = 'shuffled', numClasses, batchSize, seed, epoch = 0, dropLast = false, perClass = 1 } = opts;
  checkSeed(seed, what);
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`${what}: epoch must be a non-negative integer, got ${epoch}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  if (!SAMPLER_KINDS.includes(sampler)) throw new Error(`${what}: unknown sampler '${sampler as string}' (expected ${SAMPLER_KINDS.join(', ')})`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${what}: numClasses must be a positive integer, got ${numClasses}`);
  const byClass = groupByClass(labels, numClasses, what);
  const n = labels.length;
  const positions = Array.from({ length: n }, (_, i) => i);
  if (sampler === 'shuffled') return batches(positions, { batchSize, seed, epoch, dropLast });

  const empty = byClass.findIndex((g) => g.length === 0);
  if (empty >= 0) throw new Error(`${what}: class ${empty} has no samples; the ${sampler} sampler needs every class 0..${numClasses - 1}`);
  const count = samplerBatchCount(n, { batchSize, dropLast });
  const tag = sampler === 'class-balanced' ? STREAM.classBalanced : STREAM.everyClass;
  const cycles = byClass.map((g, c) => new ClassCycle(g, new Rng(seed, tag, epoch, c)));

  if (sampler === 'class-balanced') {
    const classes = new Rng(seed, tag, epoch);
    return (function* () {
      for (let b = 0; b < count; b++) {
        const size = Math.min(batchSize, n - b * batchSize);
        yield Int32Array.from({ length: size }, () => cycles[classes.below(numClasses)].next());
      }
    })();
  }

  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`${what}: perClass must be a positive integer, got ${perClass}`);
  if (batchSize < perClass * numClasses) {
    throw new Error(`${what}: batchSize ${batchSize} is smaller than perClass ${perClass} × ${numClasses} classes, so not every class can be in every batch`);
  }
  if (batchSize > n) throw new Error(`${what}: batchSize ${batchSize} exceeds the ${n} samples; an every-class batch holds distinct samples`);
  const small = byClass.findIndex((g) => g.length < perClass);
  if (small >= 0) throw new Error(`${what}: class ${small} has ${byClass[small].length} samples, fewer than perClass ${perClass}`);
  const order = epochOrder(positions, seed, epoch);
  return (function* () {
    let next = 0;
    for (let b = 0; b < count; b++) {
      const batch = new Set<number>();
      for (const cycle of cycles) {
        // A cycle reshuffled mid-batch may offer a sample again; the class has ≥ perClass distinct ones.
        for (let k = 0; k < perClass; ) {
          const i = cycle.next();
          if (!batch.has(i)) {
            batch.add(i);
            k++;
          }
        }
      }
      // The order wraps around when small data sets need more than one pass; since batchSize ≤ n, a
      // sample not yet in the batch is always found within n steps. A skipped sample is in the batch.
      while (batch.size < batchSize) batch.add(order[next++ % n]);
      yield Int32Array.from(batch);
    }
  })();
}
