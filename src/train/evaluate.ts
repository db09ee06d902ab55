// Evaluation of a trained model on clean (un-augmented) images: its own classifier, or a linear probe
// fitted on frozen features (the protocol after contrastive pre-training, as the Two Classes paper).
import { noGrad } from '../autograd.js';
import { tensor, zeros } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { crossEntropy, l2Normalize } from '../ops/rowwise.js';
import { concat } from '../ops/shape.js';
import { scope, type Tensor, type TypedArray } from '../tensor.js';
import { gatherPlan, makeBatch, type Normalization } from '../data/augment.js';
import type { Module } from '../nn/module.js';
import type { Classifier } from '../nn/resnet.js';
import { SGD } from '../optim/sgd.js';
import { rocAuc } from '../metrics/evaluation.js';
import { accuracyReport, type AccuracyReport } from '../metrics/accuracy.js';

/**
 * `fn(start, count)` of the rows [start, start + count) of `n`, `batchSize` at a time, without gradients
 * and with every module of `modules` (the model, and any head `fn` runs) in evaluation mode, each put
 * back in its mode after; the results ([count, ...] each) concatenated on the device into one kept
 * tensor (the caller disposes it). Nothing is read back, so the whole pass is one submission's worth of
 * work, and no batch-norm running statistic moves.
 */
export function deviceBatches(modules: Module | readonly Module[], n: number, batchSize: number, fn: (start: number, count: number) => Tensor): Tensor {
  if (n < 1) throw new Error(`deviceBatches: no rows to evaluate (n = ${n})`);
  const parts: Tensor[] = [];
  // Each module's own mode, and its descendants' (a frozen part may sit in eval mode inside a training model).
  const all = (Array.isArray(modules) ? modules : [modules]) as readonly Module[];
  const modes = all.flatMap((m) => [...m.modules()].map((sub) => [sub, sub.training] as const));
  for (const m of all) m.eval();
  try {
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      parts.push(noGrad(() => scope(() => fn(start, count))).keep());
    }
    if (parts.length === 1) return parts[0];
    const all = noGrad(() => concat(parts).keep());
    for (const p of parts) p.dispose();
    return all;
  } catch (err) {
    for (const p of parts) p.dispose();
    throw err;
  } finally {
    for (const [sub, training] of modes) sub.training = training;
  }
}

/** {@link deviceBatches} over clean images: rows `indices` of `images` (or all), un-augmented, normalised. */
export function cleanBatches(
  model: Module | readonly Module[], images: Tensor, indices: ArrayLike<number> | null, batchSize: number, norm: Normalization,
  fn: (batch: Tensor, start: number, count: number) => Tensor,
): Tensor {
  const n = indices ? indices.length : images.shape[0];
  return deviceBatches(model, n, batchSize, (start, count) => {
    const rows = Array.from({ length: count }, (_, i) => (indices ? indices[start + i] : start + i));
    return fn(makeBatch(images, gatherPlan(rows), 0, norm), start, count);
  });
}

/** Reads a tensor back once and disposes it. */
export async function readOnce(t: Tensor): Promise<TypedArray> {
  try {
    return await t.read();
  } finally {
    t.dispose();
  }
}

/** An evaluation's accuracies plus what the diagnostics need (neither goes into the log). */
export interface Evaluation extends AccuracyReport {
  /** ROC AUC of the probe on a binary task. */
  auc?: number;
  /** Predicted class of every test image, in test order. */
  predicted: Int32Array;
  /** The fitted linear probe: weight [K, d] and bias [K], row-major, applied to L2-normalised features. */
  probe?: { weight: Float32Array; bias: Float32Array };
}

/**
 * Accuracies and predictions from logits z [n, K] (argmax on the host, first maximum on ties as
 * argmax); with two classes also `auc`, the ROC AUC of the margin z_1 − z_0 (label 1 the positive class).
 */
function scoreLogits(z: Float32Array, labels: Int32Array, trainCounts: number[]): Evaluation {
  const classes = trainCounts.length;
  const row = (i: number) => z.subarray(i * classes, (i + 1) * classes);
  const predicted = Int32Array.from(labels, (_, i) => row(i).reduce((best, v, c, r) => (v > r[best] ? c : best), 0));
  const report = { ...accuracyReport(predicted, labels, trainCounts), predicted };
  return classes === 2 ? { ...report, auc: rocAuc(Float32Array.from(labels, (_, i) => z[2 * i + 1] - z[2 * i]), labels) } : report;
}

/** Top-1 and long-tail accuracies (and the binary ROC AUC) of the model's own classifier on `images`, one read-back. */
export async function evaluateClassifier(
  model: Classifier, images: Tensor, labels: Int32Array, trainCounts: number[], batchSize: number, norm: Normalization,
): Promise<Evaluation> {
  const z = await readOnce(cleanBatches(model, images, null, batchSize, norm, (x) => model.forward(x)));
  return scoreLogits(z as Float32Array, labels, trainCounts);
}

/** Settings of {@link linearProbe}. */
export interface LinearProbeOptions {
  /** Full-batch SGD steps (momentum 0.9, no weight decay) on the probe subset. */
  steps: number;
  lr: number;
  batchSize: number;
  norm: Normalization;
}

/**
 * Linear probing: the encoder (`model.features`) frozen in evaluation mode, a linear layer trained with
 * cross-entropy on the probe subset (rows `probeIdx` of `trainImages`, labels `probeLabels`), then its
 * accuracies on the test set; `classAverage` is the balanced accuracy. Features are L2-normalised so one
 * learning rate suits any encoder's scale; the layer starts at zero, so the probe is a deterministic
 * function of the encoder (an exact resume needs no random state for it). With two classes the report
 * adds `auc` (see scoreLogits). The fitted layer comes back as `probe`: the diagnostics need the
 * classifier that was evaluated.
 */
export async function linearProbe(
  model: Classifier, trainImages: Tensor, probeIdx: ArrayLike<number>, probeLabels: Int32Array,
  testImages: Tensor, testLabels: Int32Array, trainCounts: number[], opts: LinearProbeOptions,
): Promise<Evaluation> {
  const classes = trainCounts.length;
  const d = model.featureDim;
  const encode = (x: Tensor) => l2Normalize(model.features(x));
  // The probe's inputs stay on the device: computed once, reused by every step.
  const x = cleanBatches(model, trainImages, probeIdx, opts.batchSize, opts.norm, encode);
  const y = tensor(probeLabels, [probeLabels.length], 'i32').keep();
  const w = zeros([classes, d]).keep().requireGrad();
  const b = zeros([classes]).keep().requireGrad();
  const opt = new SGD([w, b], { lr: opts.lr, momentum: 0.9, weightDecay: 0 });
  const logits = (f: Tensor) => add(matmul(f, w, { transB: true }), b);
  for (let s = 0; s < opts.steps; s++) {
    scope(() => {
      crossEntropy(logits(x), y).backward();
      opt.step();
      opt.zeroGrad();
    });
  }
  const z = (await readOnce(cleanBatches(model, testImages, null, opts.batchSize, opts.norm, (t) => logits(encode(t))))) as Float32Array;
  const probe = { weight: (await w.read()) as Float32Array, bias: (await b.read()) as Float32Array };
  for (const t of [x, y, w, b]) t.dispose();
  opt.dispose();
  return { ...scoreLogits(z, testLabels, trainCounts), probe };
}
