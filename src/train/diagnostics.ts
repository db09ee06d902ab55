// Representation diagnostics of a trained model (issue 7), computed on the device in batches with one
// read-back per quantity at the end, for the run directory's embeddings.safetensors and metrics.json:
//   * test-set embeddings (the backbone features the classifier sees) and, for recipes with a projection
//     head, its output (the space the contrastive loss shapes), in evaluation mode;
//   * balanced accuracy, ROC AUC (binary), predictions of the evaluated classifier (own or probe);
//   * Two-Classes metrics (TTC's conventions, docs/paper-vs-code.md#two-classes-metrics) on two
//     SimAugment views of a balanced, seeded subset of the test images: the L2-normalised projections
//     (or backbone features without a head), view-major [2N, D];
//   * class geometry of each saved space, classifier weight norms, and the per-class mean gradient norm
//     ‖∂CE_i/∂W‖ at the evaluated classifier over a seeded subset of training images (clean, eval mode).
import { noGrad } from '../autograd.js';
import { tensor } from '../ops/creation.js';
import { gather, scatterAdd } from '../ops/indexing.js';
import { l2Normalize } from '../ops/rowwise.js';
import { concat } from '../ops/shape.js';
import { scope } from '../tensor.js';
import type { DeviceImages } from '../data/augment.js';
import { groupByClass, pick } from '../data/longtail.js';
import { STREAM } from '../data/random.js';
import { augmentViews } from '../data/views.js';
import { balancedAccuracy } from '../metrics/evaluation.js';
import { classGeometry } from '../metrics/geometry.js';
import { classifierGradNorms, type LinearLayer } from '../metrics/gradients.js';
import { twoClassesMetrics, type TwoClassesMetrics } from '../metrics/two-classes.js';
import { classWeightRows, type ProjectionHead } from '../nn/heads.js';
import { CosineClassifier, Linear } from '../nn/linear.js';
import { twoClassesSummary, type ExtraMetrics, type GeometrySummary } from '../metrics/summary.js';
import { cleanBatches, deviceBatches, readOnce, type Evaluation } from './evaluate.js';
import { SIM_AUGMENT } from './recipes/shared.js';
import type { RecipeData } from './recipes/types.js';

/** What the diagnostics run on (the trainer's model, data and last evaluation). */
export interface DiagnosticsInput extends Omit<RecipeData, 'makeModel'> {
  /** The recipe's projection head, if any. */
  head?: ProjectionHead;
  /** The last evaluation (its predictions, and the probe for probe recipes). */
  evaluation: Evaluation;
  batchSize: number;
  seed: number;
  /** Test samples per class for the Two-Classes metrics (default 250: 2 views of 2500 samples for 10 classes). */
  twoClassesPerClass?: number;
  /** Training samples per class for the gradient norms (default 256). */
  gradientPerClass?: number;
}

/** embeddings.safetensors entries and metrics.json (format in src/report/node/load-run.ts). */
export interface Diagnostics {
  tensors: Record<string, { data: Float32Array | Int32Array; shape: number[] }>;
  metrics: ExtraMetrics;
}

/** A seeded subset of at most `cap` samples of each class (all of a smaller class), ascending. */
function cappedSubset(labels: Int32Array, classes: number, cap: number, seed: number, tag: number): Int32Array {
  const byClass = groupByClass(labels, classes, 'diagnostics');
  return pick(byClass, byClass.map((g) => Math.min(g.length, cap)), seed, tag, 'diagnostics').indices;
}

/** classGeometry without the class means (they are in the saved embeddings anyway). */
function geometrySummary(x: Float32Array, n: number, d: number, labels: Int32Array, trainCounts: number[], weights?: Float32Array): GeometrySummary {
  const { means: _, ...rest } = classGeometry(x, n, d, labels, { minorityCounts: trainCounts, weights });
  return rest;
}

/** Computes every diagnostic of {@link Diagnostics}; the model is left in training mode. */
export async function computeDiagnostics(input: DiagnosticsInput): Promise<Diagnostics> {
  const { model, head, evaluation, testImages, testLabels, trainImages, trainLabels, trainCounts, norm, batchSize, seed } = input;
  const classes = trainCounts.length;
  const n = testLabels.length;
  const d = model.featureDim;

  // 1. Test embeddings (and projections), side by side in one tensor: one read-back.
  const p = head ? head.outFeatures : 0;
  const both = (await readOnce(cleanBatches(head ? [model, head] : model, testImages, null, batchSize, norm, (x) => {
    const f = model.features(x);
    return head ? concat([f, head.forward(f)], 1) : f;
  }))) as Float32Array;
  const embeddings = new Float32Array(n * d);
  const projections = head ? new Float32Array(n * p) : undefined;
  for (let i = 0; i < n; i++) {
    embeddings.set(both.subarray(i * (d + p), i * (d + p) + d), i * d);
    projections?.set(both.subarray(i * (d + p) + d, (i + 1) * (d + p)), i * p);
  }

  // 2. The evaluated classifier: the probe's linear layer on normalised features, or the model's own.
  const probe = evaluation.probe;
  const fc = model.fc;
  if (!probe && !(fc instanceof Linear || fc instanceof CosineClassifier)) throw new Error(`diagnostics: expected a Linear or CosineClassifier classifier, got ${fc.constructor.name}`);
  // A detached view: the cosine classifier's transposed copy dies with the scope, the storage with the view.
  const weights = probe ? probe.weight : ((await readOnce(noGrad(() => scope(() => classWeightRows(fc).detach())))) as Float32Array);

  // 3. Per-class mean gradient norm at that classifier, summed per class on the device.
  const gradIdx = cappedSubset(trainLabels, classes, input.gradientPerClass ?? 256, seed, STREAM.balanced);
  const gradLabels = Int32Array.from(gradIdx, (i) => trainLabels[i]);
  const probeLayer = probe ? { weight: tensor(probe.weight, [classes, d]).keep(), bias: tensor(probe.bias, [classes]).keep() } : null;
  const layer: LinearLayer | CosineClassifier = probeLayer ?? (fc as Linear | CosineClassifier);
  const gradSums = scope(() => {
    const norms = cleanBatches(model, trainImages, gradIdx, batchSize, norm, (x, start, count) => {
      const h = probe ? l2Normalize(model.features(x)) : model.features(x);
      return classifierGradNorms(layer, h, tensor(gradLabels.subarray(start, start + count), [count], 'i32'));
    });
    const sums = scatterAdd(norms, 0, tensor(gradLabels, [gradLabels.length], 'i32'), classes);
    norms.dispose();
    return sums;
  });
  const sums = await readOnce(gradSums);
  probeLayer?.weight.dispose();
  probeLayer?.bias.dispose();
  const gradCounts = new Array<number>(classes).fill(0);
  for (const y of gradLabels) gradCounts[y]++;

  // 4. Two-Classes metrics on two SimAugment views of a balanced test subset, view-major [2N, D]; skipped
  // (the report says so) when the subset is too small for CAC's 5 % neighbourhood to hold a view.
  const twoIdx = cappedSubset(testLabels, classes, input.twoClassesPerClass ?? 250, seed, STREAM.balanced);
  const m = twoIdx.length;
  const two = Math.floor(2 * m * 0.05) >= 1 ? await twoClassesOnViews(input, twoIdx) : undefined;

  const predicted = evaluation.predicted;
  const metrics: ExtraMetrics = {
    balancedAccuracy: balancedAccuracy(predicted, testLabels, classes),
    ...(evaluation.auc !== undefined ? { rocAuc: evaluation.auc } : {}),
    predictions: { predicted: Array.from(predicted), labels: Array.from(testLabels) },
    ...(two ? { twoClasses: { ...twoClassesSummary(two), space: head ? 'projections' : 'embeddings (L2-normalised)', views: `2 SimAugment views of ${m} test images` } } : {}),
    geometry: {
      embeddings: geometrySummary(embeddings, n, d, testLabels, trainCounts, weights),
      ...(projections ? { projections: geometrySummary(projections, n, p, testLabels, trainCounts) } : {}),
    },
    gradientNorms: {
      perClass: Array.from(sums, (s, c) => (gradCounts[c] ? s / gradCounts[c] : NaN)),
      samples: gradCounts,
      classifier: probe ? 'probe' : fc instanceof CosineClassifier ? 'cosine' : 'linear',
    },
  };
  metrics.classifierNorms = metrics.geometry!.embeddings!.weightNorms;
  const tensors: Diagnostics['tensors'] = {
    embeddings: { data: embeddings, shape: [n, d] },
    labels: { data: testLabels, shape: [n] },
    weights: { data: weights, shape: [classes, d] },
  };
  if (projections) tensors.projections = { data: projections, shape: [n, p] };
  return { tensors, metrics };
}

/** The Two-Classes metrics of two SimAugment views of the test rows `rows` (view-major [2N, D]). */
async function twoClassesOnViews(input: DiagnosticsInput, rows: Int32Array): Promise<TwoClassesMetrics> {
  const { model, head, testImages, testLabels, norm, batchSize, seed } = input;
  const m = rows.length;
  const images: DeviceImages = { data: testImages, format: 'f32', shape: testImages.shape as [number, number, number, number] };
  const blocked = deviceBatches(head ? [model, head] : model, m, batchSize, (start, count) => {
    const batch = augmentViews(images, rows.subarray(start, start + count), [SIM_AUGMENT, SIM_AUGMENT], { seed, step: start / batchSize, norm }).batch;
    const f = model.features(batch);
    return head ? head.forward(f) : l2Normalize(f);
  });
  // Batches come as [view 0 of the batch; view 1 of the batch]; the metrics want view v of sample i at v·N + i.
  const order = new Int32Array(2 * m);
  for (let start = 0; start < m; start += batchSize) {
    const count = Math.min(batchSize, m - start);
    for (let v = 0; v < 2; v++) for (let r = 0; r < count; r++) order[v * m + start + r] = 2 * start + v * count + r;
  }
  const viewMajor = scope(() => gather(blocked, 0, tensor(order, [2 * m], 'i32')));
  blocked.dispose();
  const twoLabels = Int32Array.from(rows, (i) => testLabels[i]);
  return twoClassesMetrics(viewMajor, twoLabels).finally(() => viewMajor.dispose());
}
