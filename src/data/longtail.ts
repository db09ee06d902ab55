// Long-tailed subsets of a balanced dataset, as in the long-tailed recognition literature (CIFAR-10/100-LT
// of Cao et al. 2019, LDAM-DRW; reused by BCL, Zhu et al. 2022), a balanced evaluation subset, and the
// many/medium/few-shot class split the papers report accuracy on.
import { checkSeed, Rng, STREAM } from './random.js';

/**
 * How the per-class counts fall from the head class 0 to the tail class C − 1:
 * - `exp`: n_c = ⌊n_max · IF^(−c/(C−1))⌋, an exponential decay from n_max to n_max / IF;
 * - `step`: the first ⌊C/2⌋ classes keep n_max, the others get ⌊n_max / IF⌋.
 */
export type ImbalanceProfile = 'exp' | 'step';

/**
 * Per-class sample counts of a long-tailed subset: class c gets n_c (see {@link ImbalanceProfile}), with
 * imbalance factor IF = n_0 / n_(C−1) ≥ 1.
 *
 * The arithmetic mirrors the reference code — `int(img_max * (imb_factor ** (cls_idx / (cls_num - 1.0))))`
 * with `imb_factor = 1 / IF` — so the counts are exactly the published ones (CIFAR-10-LT with IF = 100:
 * 5000, 2997, …, 50, 12 406 images in all). For the step profile with an odd C, the reference code
 * yields only C − 1 classes; here the middle class joins the tail.
 */
export function longTailCounts(nMax: number, numClasses: number, imbalanceFactor: number, profile: ImbalanceProfile = 'exp'): number[] {
  if (!Number.isInteger(nMax) || nMax < 1) throw new Error(`longTailCounts: nMax must be a positive integer, got ${nMax}`);
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`longTailCounts: a long tail needs an integer number of classes ≥ 2, got ${numClasses}`);
  if (!(imbalanceFactor >= 1) || !Number.isFinite(imbalanceFactor)) {
    throw new Error(`longTailCounts: the imbalance factor must be a finite number ≥ 1 (n_max / n_min), got ${imbalanceFactor}`);
  }
  const ratio = 1 / imbalanceFactor;
  const counts: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    if (profile === 'exp') counts.push(Math.floor(nMax * ratio ** (c / (numClasses - 1))));
    else if (profile === 'step') counts.push(c < Math.floor(numClasses / 2) ? nMax : Math.floor(nMax * ratio));
    else throw new Error(`longTailCounts: unknown profile '${profile as string}' (expected 'exp' or 'step')`);
  }
  return counts;
}

/** The number of samples of each class 0..numClasses−1; throws on a label outside that range. */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  return groupByClass(labels, numClasses, 'classCounts').map((g) => g.length);
}

/** A subset of a dataset: sample indices in ascending order, and how many of each class it holds. */
export interface Subset {
  indices: Int32Array;
  counts: number[];
}

/** The indices of each class's samples, in dataset order; throws, naming `what`, on a label out of range. */
export function groupByClass(labels: ArrayLike<number>, numClasses: number, what: string): number[][] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new Error(`${what}: label ${y} at index ${i} is out of range 0..${numClasses - 1}`);
    byClass[y].push(i);
  }
  return byClass;
}

/**
 * Picks `want[c]` samples of each class c at random (seeded): each class's indices are shuffled by their
 * own stream of the seed and the first `want[c]` are kept. So the choice of one class does not depend on
 * the counts of the others, and with the same seed a smaller count picks a subset of a larger one's picks.
 * `byClass` is shuffled in place; `unit` names its entries in the error (class, group).
 */
export function pick(byClass: number[][], want: readonly number[], seed: number, tag: number, what: string, unit = 'class'): Subset {
  const chosen: number[] = [];
  for (let c = 0; c < want.length; c++) {
    if (byClass[c].length < want[c]) throw new Error(`${what}: ${unit} ${c} has ${byClass[c].length} samples, ${want[c]} are needed`);
    const order = new Rng(seed, tag, c).shuffle(byClass[c]);
    for (let k = 0; k < want[c]; k++) chosen.push(order[k]);
  }
  // Ascending order keeps the dataset's own order; batching shuffles anyway.
  return { indices: Int32Array.from(chosen).sort(), counts: [...want] };
}

/** Options of {@link longTailSubset}. */
export interface LongTailOptions {
  numClasses: number;
  /** IF = n_max / n_min ≥ 1 (1 keeps the subset balanced). */
  imbalanceFactor: number;
  /** Seed of the choice of samples within each class, an integer in [0, 2^32). */
  seed: number;
  /** Default `exp`. */
  profile?: ImbalanceProfile;
  /** Samples of the head class; default the smallest class size, i.e. the per-class size of a balanced set. */
  nMax?: number;
}

/**
 * A long-tailed subset of a labelled dataset: class c keeps n_c samples per {@link longTailCounts},
 * chosen at random with `seed` (the same seed gives the same indices). Class 0 is the head.
 * Throws if a class has fewer samples than its count asks for.
 */
export function longTailSubset(labels: ArrayLike<number>, opts: LongTailOptions): Subset {
  checkSeed(opts.seed, 'longTailSubset');
  const byClass = groupByClass(labels, opts.numClasses, 'longTailSubset');
  const nMax = opts.nMax ?? Math.min(...byClass.map((g) => g.length));
  const want = longTailCounts(nMax, opts.numClasses, opts.imbalanceFactor, opts.profile);
  return pick(byClass, want, opts.seed, STREAM.longTail, 'longTailSubset');
}

/**
 * A balanced subset with `perClass` samples of every class 0..numClasses−1, chosen at random with `seed`
 * (e.g. a balanced test set, as the long-tail papers evaluate on). Throws if a class has fewer samples.
 */
export function balancedSubset(labels: ArrayLike<number>, perClass: number, opts: { numClasses: number; seed: number }): Subset {
  checkSeed(opts.seed, 'balancedSubset');
  if (!Number.isInteger(perClass) || perClass < 0) throw new Error(`balancedSubset: perClass must be a non-negative integer, got ${perClass}`);
  const byClass = groupByClass(labels, opts.numClasses, 'balancedSubset');
  return pick(byClass, new Array<number>(opts.numClasses).fill(perClass), opts.seed, STREAM.balanced, 'balancedSubset');
}

/**
 * Samples per class of the balanced probe subset of `n` training samples in `numClasses` classes:
 * max(1, ⌊⌊fraction · n⌋ / numClasses⌋). The subset holds `fraction` of the training data, rounded down
 * to a multiple of the number of classes, and never less than one sample of each class.
 */
export function probePerClass(n: number, numClasses: number, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`probePerClass: fraction must be in (0, 1], got ${fraction}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`probePerClass: numClasses must be a positive integer, got ${numClasses}`);
  return Math.max(1, Math.floor(Math.floor(fraction * n) / numClasses));
}

/** Options of {@link probeSubset}. */
export interface ProbeOptions {
  numClasses: number;
  /** Seed of the choice, an integer in [0, 2^32). */
  seed: number;
  /** Share of the training data the probe subset holds; default 0.01 (1 %). */
  fraction?: number;
}

/**
 * The class-balanced subset a linear probe is fitted on after pre-training, as in the Two-Classes paper
 * ("we fine-tune a linear layer using a balanced subset comprising 1% of the training data"): each class
 * gets {@link probePerClass}(n, C, fraction) samples, n = `labels.length`, chosen at random with `seed`.
 * This is the rule of the paper's released code, where 1 % of the (imbalanced) training set is split
 * evenly among the classes. So the subset stays balanced even when the minority has few samples; throws
 * if a class has fewer than the per-class count.
 *
 * `labels` are those of the training set itself and the indices returned point into it: for a subset of
 * a dataset, pass its labels in its order and map back with `subset.indices[i]`.
 */
export function probeSubset(labels: ArrayLike<number>, opts: ProbeOptions): Subset {
  checkSeed(opts.seed, 'probeSubset');
  const byClass = groupByClass(labels, opts.numClasses, 'probeSubset');
  const perClass = probePerClass(labels.length, opts.numClasses, opts.fraction ?? 0.01);
  return pick(byClass, new Array<number>(opts.numClasses).fill(perClass), opts.seed, STREAM.probe, 'probeSubset');
}

/** Class indices grouped by how many training samples each class has. */
export interface ShotSplit {
  many: number[];
  medium: number[];
  few: number[];
}

/**
 * Splits classes by their training counts as the long-tail papers report accuracy (Liu et al. 2019, OLTR;
 * Kang et al. 2020): many-shot with more than 100 training samples, few-shot with fewer than 20, medium-shot
 * otherwise (20 to 100 inclusive).
 */
export function shotSplit(trainCounts: readonly number[]): ShotSplit {
  const split: ShotSplit = { many: [], medium: [], few: [] };
  trainCounts.forEach((n, c) => {
    if (n > 100) split.many.push(c);
    else if (n < 20) split.few.push(c);
    else split.medium.push(c);
  });
  return split;
}
