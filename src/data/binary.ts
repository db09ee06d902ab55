// Binary imbalanced subsets, as in "A Tale of Two Classes" (Mildenberger, Hager et al.): two classes, or
// two groups of classes relabelled 0 and 1, with a chosen minority share and a total that does not
// depend on the share, so that 50 %, 5 % and 1 % runs see the same number of samples.
import { groupByClass, pick, type Subset } from './longtail.js';
import { checkSeed, STREAM } from './random.js';

/**
 * How a group of several classes fills its count:
 * - `pooled`: the group is one class, its count drawn at random from the union of its classes' samples
 *   (each class contributes in proportion to its size, in expectation) — what the paper's code does
 *   with an iNaturalist taxon, whose images are pooled from all the species below it;
 * - `even`: each class of the group gets an equal share, the remainder going one sample each to the
 *   classes listed first.
 */
export type GroupDraw = 'pooled' | 'even';

/** Options of {@link binarySubset}. */
export interface BinaryOptions {
  numClasses: number;
  /** The classes that become label 0 and label 1: one class each (`[[0], [6]]`) or groups (`[[0, 2, 4], [1, 3]]`). */
  groups: readonly [readonly number[], readonly number[]];
  /** Share of the minority label in (0, 0.5]: 0.5, 0.05, 0.01 for the paper's 50 %, 5 %, 1 %. */
  minorityShare: number;
  /** The minority label; default 1. */
  minority?: 0 | 1;
  /** Seed of the choice of samples, an integer in [0, 2^32). */
  seed: number;
  /** Samples in all; default 2 · ⌊s / 2⌋, s the sample count of the smaller group (see {@link binarySubset}). */
  total?: number;
  /** Default `pooled`. */
  within?: GroupDraw;
}

/** A binary subset: `indices` ascending, `counts` = [label-0 count, label-1 count]. */
export interface BinarySubset extends Subset {
  /** The binary label (0 or 1) of each sample of `indices`, in the same order. */
  labels: Int32Array;
  /** How many samples of each original class 0..numClasses−1 the subset holds. */
  classCounts: number[];
}

/**
 * The label counts [n_0, n_1] of a binary subset of `total` samples: the minority gets
 * m = ⌊total · minorityShare⌋ and the majority total − m, so the total is exact whatever the share.
 * The product is rounded to 12 significant digits before the floor, so that a decimal share is not
 * floored one below its value by binary floating point (100 · 0.29 is 28.999999999999996 in doubles).
 */
export function binaryCounts(total: number, minorityShare: number, minority: 0 | 1 = 1): [number, number] {
  if (!Number.isInteger(total) || total < 2) throw new Error(`binaryCounts: total must be an integer ≥ 2, got ${total}`);
  if (!(minorityShare > 0 && minorityShare <= 0.5)) throw new Error(`binaryCounts: minorityShare must be in (0, 0.5], got ${minorityShare}`);
  if (minority !== 0 && minority !== 1) throw new Error(`binaryCounts: minority must be 0 or 1, got ${String(minority)}`);
  const m = Math.floor(Number((total * minorityShare).toPrecision(12)));
  if (m < 1) throw new Error(`binaryCounts: a minority share of ${minorityShare} of ${total} samples leaves the minority empty (need total · share ≥ 1)`);
  return minority === 1 ? [total - m, m] : [m, total - m];
}

/** Checks the two groups: non-empty, disjoint, classes in 0..numClasses−1. */
function checkGroups(groups: BinaryOptions['groups'], numClasses: number): void {
  if (!Array.isArray(groups) || groups.length !== 2) throw new Error('binarySubset: groups must be two lists of classes, [label-0 classes, label-1 classes]');
  const seen = new Set<number>();
  groups.forEach((g, label) => {
    if (g.length === 0) throw new Error(`binarySubset: group ${label} has no classes`);
    for (const c of g) {
      if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new Error(`binarySubset: class ${c} of group ${label} is out of range 0..${numClasses - 1}`);
      if (seen.has(c)) throw new Error(`binarySubset: class ${c} appears twice in the groups (they must be disjoint)`);
      seen.add(c);
    }
  });
}

/** Splits `count` evenly over `k` classes, the first `count mod k` one more. */
function evenSplit(count: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(count / k) + (i < count % k ? 1 : 0));
}

/**
 * A binary imbalanced subset of a labelled dataset, reproducible from `seed`.
 *
 * The total follows the paper: "we fix the class ratio to 50%-50%, 95%-5%, and 99%-1%, while keeping the
 * total number of samples constant". As in its released code (where it is the size of the smallest
 * class), the total is set by s, the sample count of the smaller group, so that every share can be drawn
 * without repeating a sample: by default
 * total = 2 · ⌊s / 2⌋, the size of the 50/50 subset with ⌊s / 2⌋ per label. Counts per
 * {@link binaryCounts}. For two Fashion-MNIST classes (6000 each): 3000/3000, 5700/300, 5940/60.
 *
 * Group samples are drawn per {@link GroupDraw}; each group (pooled) or class (even) is shuffled by its
 * own stream of the seed, so that with the same seed a smaller minority share keeps a subset of a larger
 * one's minority. Throws when a group or class has fewer samples than its count.
 */
export function binarySubset(labels: ArrayLike<number>, opts: BinaryOptions): BinarySubset {
  const { numClasses, groups, minorityShare, minority = 1, seed, within = 'pooled' } = opts;
  checkSeed(seed, 'binarySubset');
  checkGroups(groups, numClasses);
  if (within !== 'pooled' && within !== 'even') throw new Error(`binarySubset: within must be 'pooled' or 'even', got '${within as string}'`);
  const byClass = groupByClass(labels, numClasses, 'binarySubset');
  const groupSize = groups.map((g) => g.reduce((n, c) => n + byClass[c].length, 0));
  const total = opts.total ?? 2 * Math.floor(Math.min(...groupSize) / 2);
  if (opts.total !== undefined && (!Number.isInteger(total) || total < 2)) throw new Error(`binarySubset: total must be an integer ≥ 2, got ${total}`);
  if (total < 2) throw new Error(`binarySubset: the smaller group has ${Math.min(...groupSize)} samples; need at least 2`);
  const counts = binaryCounts(total, minorityShare, minority);

  let chosen: Subset;
  if (within === 'pooled') {
    const pooled = groups.map((g) => g.flatMap((c) => byClass[c]).sort((a, b) => a - b));
    chosen = pick(pooled, counts, seed, STREAM.binary, 'binarySubset', 'group');
  } else {
    const want = new Array<number>(numClasses).fill(0);
    groups.forEach((g, label) => evenSplit(counts[label], g.length).forEach((n, i) => (want[g[i]] = n)));
    chosen = pick(byClass, want, seed, STREAM.binary, 'binarySubset');
  }
  const labelOf = new Int32Array(numClasses).fill(-1);
  groups.forEach((g, label) => g.forEach((c) => (labelOf[c] = label)));
  const classCounts = new Array<number>(numClasses).fill(0);
  for (const i of chosen.indices) classCounts[labels[i]]++;
  return { indices: chosen.indices, counts: [...counts], labels: Int32Array.from(chosen.indices, (i) => labelOf[labels[i]]), classCounts };
}
