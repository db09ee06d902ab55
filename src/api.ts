// The public API, platform-neutral: every export of both entries (the browser entry ./index.ts, and the
// Node entry ./node.ts, which adds Dawn and the file side). Nothing here imports Node.
export { init, engine, Engine, type EngineOptions, type MemoryInfo } from './engine.js';
export { acquireDevice, type AdapterDescription, type DeviceOptions } from './gpu/device.js';
export { WebGPUUnavailableError, ShaderCompileError, DeviceError } from './gpu/errors.js';
export { Tensor, scope, type DType, type TypedArray } from './tensor.js';
export { noGrad, gradHook, type BackwardOptions } from './autograd.js';
export * from './ops/creation.js';
export {
  neg, exp, log, sqrt, rsqrt, relu, abs, sigmoid, tanh, square, affine, scale, powScalar,
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, where, toFloat, toInt, broadcastShapes, assign, increment,
} from './ops/elementwise.js';
export { sum, mean, max, min, logsumexp, argmax, sumTo } from './ops/reduce.js';
export { matmul, type MatmulOptions } from './ops/matmul.js';
export { reshape, permute, transpose, expand, slice, concat } from './ops/shape.js';
export { gather, indexSelect, scatterAdd, oneHot } from './ops/indexing.js';
export { softmax, logSoftmax, l2Normalize, crossEntropy, type Reduction } from './ops/rowwise.js';
export { conv2d, type Conv2dOptions } from './ops/conv.js';
// Importing the table registers the start-up step that picks the kernels (src/ops/tuning/table.ts).
export { findEntry, parseWinners, WINNERS_FORMAT, type AdapterKey, type WinnersEntry, type WinnersTable } from './ops/tuning/table.js';
export {
  convCandidates, matmulCandidates, tuningOf, variantName, type ConvKind, type ConvVariant, type MatmulVariant, type Picks, type Tuning,
} from './ops/tuning/variants.js';
export { batchNorm, type BatchNormOptions } from './ops/batchnorm.js';
export { maxPool2d, avgPool2d, globalAvgPool2d, type Size2 } from './ops/pool.js';
export { Module, Sequential, type StateValue } from './nn/module.js';
export { Linear, CosineClassifier } from './nn/linear.js';
export { logitAdjustment, logitAdjustedCrossEntropy } from './nn/losses.js';
export { SGD, type SGDOptions, type ParamGroup } from './optim/sgd.js';
export { accuracyReport, type AccuracyReport } from './metrics/accuracy.js';
// CPU side of training, platform-neutral (pure functions on bytes and arrays). The Node-only pieces that
// read and write files live in src/node.ts, a separate entry, so that browser bundles never see `node:*`.
export { parseIdx, imageSplit, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, type IdxArray, type ImageSplit, type SplitSources } from './data/idx.js';
export { checkLabels, concatSplits } from './data/split.js';
export {
  parseCifar, cifarRecordBytes, CIFAR10_CLASSES, CIFAR10_FILES, CIFAR100_FILES, CIFAR_STANDARD_RECORDS,
  type Cifar, type CifarVariant, type Cifar100Labels, type CifarParseOptions,
} from './data/cifar.js';
export { crc32 } from './data/crc32.js';
export { listZip, readZipEntry, readZip, streamInflateRaw, type InflateRaw, type ZipEntry } from './data/zip.js';
export { parseNpy, npyNumbers, type NpyArray, type NpyDType } from './data/npy.js';
export { parseNpz } from './data/npz.js';
export {
  medmnistSplit, medmnistFromArrays, medmnistClassesFor, MEDMNIST_CLASSES, MEDMNIST_SPLITS, MEDMNIST_URL, type MedMnist,
} from './data/medmnist.js';
export { FASHION_MNIST_CLASSES, FASHION_MNIST_FILES, type FashionMnist } from './data/fashion-mnist.js';
export {
  longTailCounts, longTailSubset, balancedSubset, probeSubset, probePerClass, classCounts, shotSplit,
  type ImbalanceProfile, type LongTailOptions, type ProbeOptions, type Subset, type ShotSplit,
} from './data/longtail.js';
export { binarySubset, binaryCounts, type BinaryOptions, type BinarySubset, type GroupDraw } from './data/binary.js';
export { batches, epochOrder, batchCount, type BatchOptions } from './data/batches.js';
export { sampleBatches, samplerBatchCount, SAMPLER_KINDS, type SamplerKind, type SamplerOptions } from './data/samplers.js';
export { prefetch, type PrefetchOptions } from './data/prefetch.js';
export {
  encodeSafetensors, decodeSafetensors, namedEntries, CheckpointError,
  type SafetensorsDType, type SafetensorsArray, type SafetensorsTensor, type SafetensorsInput, type SafetensorsFile, type Named,
} from './io/safetensors.js';
export { readTensorEntries, entriesToTensors } from './io/tensors.js';
export { lrSchedule, type LrSchedule, type ScheduleOptions, type Decay } from './train/schedule.js';
export { augmentBatch, cropFlipPlan, encodePlans, gatherPlan, makeBatch, uploadImages, type CropFlip, type DeviceImages, type Normalization } from './data/augment.js';
export { checkPolicy, drawImagePlan, RAND_AUGMENT_OPS, type CifarPolicy, type ImagePlan, type NonePolicy, type Policy, type RandAugmentPolicy, type SimPolicy } from './data/policies.js';
export { augmentViews, drawViewPlans, type ViewOptions, type Views } from './data/views.js';
export {
  supCon, ntXent, bcl, supMin, supProto,
  type Labels, type ContrastiveOptions, type TemperedOptions, type SupConOptions, type BclOptions, type BclVariant,
  type SupMinOptions, type SupProtoOptions,
} from './losses/contrastive.js';
export { antipodalPrototypes, fitPrototypes, type FitPrototypesOptions } from './losses/prototypes.js';
export { sinkhorn, type SinkhornOptions } from './losses/sinkhorn.js';
export {
  swappedPrediction, aggregationLoss, separationLoss, prototypeLoss, renormalizePrototypes,
  type PrototypeLossOptions, type PrototypeLosses,
} from './losses/swav.js';
export { rebSupCon, Rebalancer, type RebSupConOptions, type RebalancerOptions } from './losses/rebalance.js';
export { perSampleGradNorms } from './ops/grad-norms.js';
export { emaUpdate, type QueueView } from './ops/moco.js';
export { momentumUpdate, copyParameters, KeyQueue } from './nn/moco.js';
// Optimal class-mean geometry of contrastive losses under imbalance (issue 8): float64, CPU only.
export { geometryObjective, rowLogSumExpObjective, GEOMETRY_LOSSES, type GeometryObjective, type GeometryLoss, type ObjectiveOptions } from './geometry/objectives.js';
export { solveGeometry, certify, dualSlack, type SolveOptions, type GeometrySolution, type KktCertificate } from './geometry/solver.js';
export {
  meanAngles, recoverMeans, collapseGroups, twoLevelProportions, collapseMargin, collapseThreshold, thresholdSweep,
  type TwoLevelProblem, type ThresholdRow,
} from './geometry/analysis.js';
export { jacobiEigen, type SymmetricEigen } from './geometry/linalg.js';
export { neighbourStats, type NeighbourOptions, type NeighbourStats } from './metrics/knn.js';
export { twoClassesMetrics, classMeans, type TwoClassesOptions, type TwoClassesMetrics, type ClassMetrics } from './metrics/two-classes.js';
export { classGeometry, type GeometryOptions, type ClassGeometry } from './metrics/geometry.js';
export { confusionMatrix, balancedAccuracy, rocAuc } from './metrics/evaluation.js';
export { classifierGradNorms, type LinearLayer } from './metrics/gradients.js';
// Models, heads and the training stack, platform-neutral: the same loop trains in Node and in a page.
export { ResNetCifar, SmallCNN, type Classifier, type ModelOptions } from './nn/resnet.js';
export { ProjectionHead, classWeightRows } from './nn/heads.js';
export { DATASETS, DATASET_NAMES, datasetSpec, type DatasetName, type DatasetSpec, type DatasetVariant } from './data/datasets.js';
export { fetchBytes, fetchFashionMnist, fetchCifar, fetchMedMnist } from './data/fetch.js';
export { CIFAR100_FINE_CLASSES, CIFAR100_COARSE_CLASSES } from './data/cifar.js';
export { MEDMNIST_LABEL_NAMES } from './data/medmnist.js';
export { defaultConfig, resolveConfig, COMMON_OPTIONS, PRESETS, type TrainConfig, type ResolvedConfig, type Preset } from './train/config.js';
export { selectData, uploadData, disposeData, type DataSelection, type TrainingData } from './train/data.js';
export {
  Training, buildModel, NonFiniteLossError, NonFiniteParameterError, TrainingAborted,
  type StepProgress, type EpochProgress, type TrainingHooks, type TrainingResult,
} from './train/loop.js';
export { UsageError, parseOption, checkOption, allowedValues, type OptionSpec, type OptionValue } from './train/options.js';
export {
  registerRecipes, recipeNames, recipeFamily, recipeOptions, allRecipeOptions, resolveRecipeOptions,
  type Recipe, type RecipeContext, type RecipeData, type RecipeFamily, type RecipeOptions, type StepInput,
} from './train/recipes/index.js';
export { evaluateClassifier, linearProbe, cleanBatches, deviceBatches, type Evaluation, type LinearProbeOptions } from './train/evaluate.js';
export { computeDiagnostics, type Diagnostics, type DiagnosticsInput } from './train/diagnostics.js';
export { twoClassesSummary, type ExtraMetrics, type GeometrySummary, type TwoClassesRow, type GradientNorms } from './metrics/summary.js';
export { safetensorsBlob, decodeSafetensorsBlob } from './io/blob.js';
// The HTML run report from in-memory run data (a page can render it into an iframe or a download).
export { renderReport, renderComparison } from './report/render.js';
export type { RunData, EpochRecord, StepRecord, RunSummary } from './report/types.js';
// Each kernel family's WGSL source, for readers (the kernel lab shows it next to its formula).
export { SHADER_SOURCES, type ShaderFamily } from './gpu/shaders.gen.js';
export { stripes, type StripesOptions } from './data/synthetic.js';
