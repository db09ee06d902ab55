// The diagnostics' summary of a trained model as metrics.json stores it (written by the trainer's
// diagnostics, read by the report): plain numbers, no tensors.
import type { ClassGeometry } from './geometry.js';
import { classMeans, type TwoClassesMetrics } from './two-classes.js';

/** Per-class Two-Classes metrics reduced to numbers (see {@link twoClassesSummary}). */
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

/** classGeometry's result without the class means (src/metrics/geometry.ts documents the fields). */
export type GeometrySummary = Omit<ClassGeometry, 'means'>;

/** Per-class mean of ‖∂CE_i/∂W‖ at the classifier over a seeded subset of training images. */
export interface GradientNorms {
  /** Index = label; NaN (null in JSON) for a class without samples. */
  perClass: number[];
  /** Training images averaged per class. */
  samples: number[];
  /** Which layer: 'linear', 'cosine' (the model's own classifier) or 'probe' (the linear probe). */
  classifier: string;
}

/** Extra evaluation a run may add in `metrics.json` (all optional). */
export interface ExtraMetrics {
  balancedAccuracy?: number;
  /** Binary ROC AUC, when the task is two-class. */
  rocAuc?: number;
  /** Test predictions and labels, for the confusion matrix (and balanced accuracy when not given). */
  predictions?: { predicted: number[]; labels: number[] };
  /** `space`: which representation ('projections' or 'embeddings'); `views`: how the two views were made. */
  twoClasses?: { sadMean: number; m?: number; classes: TwoClassesRow[]; space?: string; views?: string };
  /** Class-mean geometry of each saved space of embeddings.safetensors. */
  geometry?: { embeddings?: GeometrySummary; projections?: GeometrySummary };
  /** ‖w_c‖ of the evaluated classifier (the probe's for probe recipes), index = label. */
  classifierNorms?: number[];
  gradientNorms?: GradientNorms;
}

/** Two-Classes metrics reduced to the per-class means a report (and `metrics.json`) holds. */
export function twoClassesSummary(m: TwoClassesMetrics): NonNullable<ExtraMetrics['twoClasses']> {
  return {
    sadMean: m.sadMean,
    m: m.m,
    classes: m.classes.map((c) => ({ label: c.label, samples: c.samples, ...classMeans(c), saa: c.saa, uniformity: c.uniformity })),
  };
}
