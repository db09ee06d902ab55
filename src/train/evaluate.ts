// Evaluation of a trained model on clean (un-augmented) images: its own classifier, or a linear probe
// fitted on frozen features (the protocol after contrastive pre-training, Two Classes paper, SPEC 3).
import * as T from '../index.js';
import { gatherPlan, makeBatch, type Normalization } from '../data/augment.js';
import type { Classifier } from '../nn/resnet.js';
import { SGD } from '../optim/sgd.js';
import { rocAuc } from '../metrics/evaluation.js';
import { accuracyReport, type AccuracyReport } from './metrics.js';

/**
 * `fn` of each batch of `batchSize` clean images (rows `indices` of `images`, or all), in evaluation mode
 * and without gradients; the results ([rows, width] each) read back one batch at a time.
 */
async function inBatches(
  model: Classifier, images: T.Tensor, indices: ArrayLike<number> | null, batchSize: number, norm: Normalization,
  fn: (batch: T.Tensor) => T.Tensor,
): Promise<T.TypedArray[]> {
  const n = indices ? indices.length : images.shape[0];
  const parts: T.TypedArray[] = [];
  model.eval();
  try {
    for (let start = 0; start < n; start += batchSize) {
      const rows = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => (indices ? indices[start + i] : start + i));
      const y = T.noGrad(() => T.scope(() => fn(makeBatch(images, gatherPlan(rows), 0, norm))));
      parts.push(await y.read());
      y.dispose();
    }
  } finally {
    model.train();
  }
  return parts;
}

function joined<A extends Int32Array | Float32Array>(parts: T.TypedArray[], make: (n: number) => A): A {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as A, at);
    at += p.length;
  }
  return out;
}

/** {@link inBatches} joined into one f32 array [rows × width] on the host (embeddings of clean images). */
export async function embedInBatches(
  model: Classifier, images: T.Tensor, indices: ArrayLike<number> | null, batchSize: number, norm: Normalization,
  fn: (batch: T.Tensor) => T.Tensor,
): Promise<Float32Array> {
  return joined(await inBatches(model, images, indices, batchSize, norm, fn), (n) => new Float32Array(n));
}

/** Top-1 and long-tail accuracies of the model's own classifier on `images`, one read-back per batch. */
export async function evaluateClassifier(
  model: Classifier, images: T.Tensor, labels: Int32Array, trainCounts: number[], batchSize: number, norm: Normalization,
): Promise<AccuracyReport> {
  const parts = await inBatches(model, images, null, batchSize, norm, (x) => T.argmax(model.forward(x), -1));
  return accuracyReport(joined(parts, (n) => new Int32Array(n)), labels, trainCounts);
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
 * adds `auc`, the ROC AUC of the logit margin z_1 − z_0 (label 1 the positive class).
 */
export async function linearProbe(
  model: Classifier, trainImages: T.Tensor, probeIdx: ArrayLike<number>, probeLabels: Int32Array,
  testImages: T.Tensor, testLabels: Int32Array, trainCounts: number[], opts: LinearProbeOptions,
): Promise<AccuracyReport & { auc?: number }> {
  const classes = trainCounts.length;
  const d = model.featureDim;
  const encode = (x: T.Tensor) => T.l2Normalize(model.features(x));
  const feats = await embedInBatches(model, trainImages, probeIdx, opts.batchSize, opts.norm, encode);
  const x = T.tensor(feats, [probeLabels.length, d]).keep();
  const y = T.tensor(probeLabels, [probeLabels.length], 'i32').keep();
  const w = T.zeros([classes, d]).keep().requireGrad();
  const b = T.zeros([classes]).keep().requireGrad();
  const opt = new SGD([w, b], { lr: opts.lr, momentum: 0.9, weightDecay: 0 });
  const logits = (f: T.Tensor) => T.add(T.matmul(f, w, { transB: true }), b);
  for (let s = 0; s < opts.steps; s++) {
    T.scope(() => {
      T.crossEntropy(logits(x), y).backward();
      opt.step();
      opt.zeroGrad();
    });
  }
  const z = await embedInBatches(model, testImages, null, opts.batchSize, opts.norm, (t) => logits(encode(t)));
  for (const t of [x, y, w, b]) t.dispose();
  opt.dispose();
  const row = (i: number) => z.subarray(i * classes, (i + 1) * classes);
  // argmax on the host, first maximum on ties as T.argmax.
  const predicted = Int32Array.from(testLabels, (_, i) => row(i).reduce((best, v, c, r) => (v > r[best] ? c : best), 0));
  const report = accuracyReport(predicted, testLabels, trainCounts);
  return classes === 2 ? { ...report, auc: rocAuc(Float32Array.from(testLabels, (_, i) => z[2 * i + 1] - z[2 * i]), testLabels) } : report;
}
