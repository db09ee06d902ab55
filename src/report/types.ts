// The data of one training run as the report needs it, independent of where it came from (a run
// directory on disk via src/report/node/load-run.ts, or built in memory by a test or a browser page).
import type { AccuracyReport } from '../train/metrics.js';

/** One per-epoch evaluation line of log.jsonl (what src/train/node/trainer.ts appends). */
export interface EpochRecord extends AccuracyReport {
  epoch: number;
  step: number;
  /** Mean training loss of the epoch's last progress window. */
  loss: number;
  lr?: number;
}

/** One per-step (progress) line of log.jsonl: a step number and a training loss, nothing evaluated. */
export interface StepRecord {
  step: number;
  loss: number;
  lr?: number;
  epoch?: number;
}

/**
 * The final summary of a run (the trainer's TrainResult, as a JSON line of log.jsonl or `summary.json`).
 * Every field is optional: a report must still render from a run stopped halfway.
 */
export interface RunSummary {
  config?: Record<string, unknown>;
  adapter?: string;
  epochs?: number;
  steps?: number;
  trainCounts?: number[];
  final?: Partial<AccuracyReport> & { loss?: number };
  wallSeconds?: number;
  imagesPerSecond?: number;
}

/** Per-class Two-Classes metrics reduced to numbers (see `twoClassesSummary` in src/report/analysis.ts). */
export interface TwoClassesRow {
  label: number;
  samples?: number;
  /** Class means of SAD, CAD and CAC, plus SAA and uniformity as the metric returns them. */
  sad: number;
  saa: number;
  cad: number;
  cac: number;
  uniformity: number;
}

/** Extra evaluation a run may add in `metrics.json` (all optional). */
export interface ExtraMetrics {
  balancedAccuracy?: number;
  /** Binary ROC AUC, when the task is two-class. */
  rocAuc?: number;
  /** Test predictions and labels, for the confusion matrix (and balanced accuracy when not given). */
  predictions?: { predicted: number[]; labels: number[] };
  twoClasses?: { sadMean: number; m?: number; classes: TwoClassesRow[] };
}

/** Embeddings [n, d] (row-major) with their labels, and optionally the classifier weights. */
export interface Embeddings {
  data: ArrayLike<number>;
  n: number;
  d: number;
  labels: ArrayLike<number>;
}

/** An optimal Gram matrix of the class means from the geometry solver, with what it was solved for. */
export interface OptimalGeometry {
  /** E.g. "supcon(tau=0.1, N=255)". */
  objective: string;
  gram: number[][];
}

export interface RunData {
  /** Display name (the run directory's base name). */
  name: string;
  epochs: EpochRecord[];
  steps: StepRecord[];
  summary?: RunSummary;
  /** Training images per class; from the summary, or given directly. */
  trainCounts?: number[];
  /** Class names, index = label (default: the label numbers). */
  classNames?: string[];
  embeddings?: Embeddings;
  /** ‖w_c‖ of the classifier per class. */
  classifierNorms?: number[];
  metrics?: ExtraMetrics;
  optimal?: OptimalGeometry;
  /** Problems met while loading (a truncated log line, an unreadable file), shown in the report. */
  notes?: string[];
}
