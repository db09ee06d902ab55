// The data of one training run as the report needs it, independent of where it came from (a run
// directory on disk via src/report/node/load-run.ts, or built in memory by a test or a browser page).
import type { ThresholdRow } from '../geometry/analysis.js';
import type { AccuracyReport } from '../metrics/accuracy.js';
import type { ExtraMetrics } from '../metrics/summary.js';

export type { ExtraMetrics, GeometrySummary, GradientNorms, TwoClassesRow } from '../metrics/summary.js';

/** One per-epoch evaluation line of log.jsonl (what src/train/node/trainer.ts appends). */
export interface EpochRecord extends AccuracyReport {
  epoch: number;
  step: number;
  /**
   * The epoch's training loss as logged: the mean over the epoch in the log format with per-step records
   * (`{step, epoch, loss, lr, imagesPerSecond}` lines); the trainer that logs no step records writes the
   * mean of the epoch's last progress window.
   */
  loss: number;
  lr?: number;
}

/**
 * One per-step (progress) line of log.jsonl (`{step, epoch, loss, lr, imagesPerSecond}`): a step number and
 * the training loss since the previous line, nothing evaluated. The report draws its loss curve from these.
 */
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
  /** How the run's recipe maps to the objective (runObjective in src/geometry/learned.ts). */
  note?: string;
  /** Number of negatives N it was solved for (where the loss has one). */
  negatives?: number;
}

/** Minority-collapse thresholds ρ*(N, τ) of a two-level problem (K classes, m majority), for the report's curves. */
export interface ThresholdCurves {
  loss: string;
  classes: number;
  majority: number;
  rows: ThresholdRow[];
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
  /** Output of the projection head for the same samples (recipes with a head): the contrastive space. */
  projections?: Embeddings;
  /** ‖w_c‖ of the classifier per class. */
  classifierNorms?: number[];
  metrics?: ExtraMetrics;
  optimal?: OptimalGeometry;
  thresholds?: ThresholdCurves;
  /** Problems met while loading (a truncated log line, an unreadable file), shown in the report. */
  notes?: string[];
}
