// Evaluation of a classifier on long-tailed data: top-1, per-class, class-average and many/medium/few
// accuracy. Computed on the CPU from predictions read back once per evaluation.
import { shotSplit, type ShotSplit } from '../data/longtail.js';

export interface AccuracyReport {
  /** Fraction of samples whose prediction equals the label. */
  top1: number;
  /** Accuracy of each class (NaN for a class absent from the evaluation set). */
  perClass: number[];
  /** Mean of the per-class accuracies over the classes present. */
  classAverage: number;
  /** Mean per-class accuracy within each shot group of {@link shotSplit} (NaN when the group is empty). */
  many: number;
  medium: number;
  few: number;
}

/** The arithmetic mean, NaN for no values (an empty group of classes, say). */
export function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** Accuracy figures of `predicted` against `labels`; `trainCounts` (per class) defines the shot groups. */
export function accuracyReport(predicted: ArrayLike<number>, labels: ArrayLike<number>, trainCounts: readonly number[]): AccuracyReport {
  if (predicted.length !== labels.length) {
    throw new Error(`accuracyReport: ${predicted.length} predictions for ${labels.length} labels`);
  }
  const classes = trainCounts.length;
  const hit = new Array<number>(classes).fill(0);
  const seen = new Array<number>(classes).fill(0);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < classes)) throw new Error(`accuracyReport: label ${y} at ${i} is outside [0, ${classes})`);
    seen[y]++;
    if (predicted[i] === y) {
      hit[y]++;
      correct++;
    }
  }
  const perClass = hit.map((h, c) => (seen[c] ? h / seen[c] : NaN));
  const present = (c: number) => seen[c] > 0;
  const groups = shotSplit(trainCounts);
  const groupMean = (g: keyof ShotSplit) => meanOf(groups[g].filter(present).map((c) => perClass[c]));
  return {
    top1: labels.length ? correct / labels.length : NaN,
    perClass,
    classAverage: meanOf(perClass.filter((_, c) => present(c))),
    many: groupMean('many'),
    medium: groupMean('medium'),
    few: groupMean('few'),
  };
}

