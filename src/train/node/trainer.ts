// Training on a long-tailed dataset by one of the recipes of src/train/recipes.ts (supervised baselines,
// BCL's two-branch framework, contrastive pre-training + linear probe), with per-epoch evaluation, a JSONL
// log, atomic safetensors checkpoints and exact resume. Node-only (files); the model, data pipeline,
// recipes and optimizer underneath are the platform-neutral library.
import { mkdir, appendFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../io/node/atomic.js';
import { writeReport } from '../../report/node/load-run.js';
import { join } from 'node:path';
import * as T from '../../index.js';
import type { Normalization } from '../../data/augment.js';
import { sampleBatches, samplerBatchCount, type SamplerKind } from '../../data/samplers.js';
import { balancedSubset, longTailSubset, classCounts, type ImbalanceProfile } from '../../data/longtail.js';
import { binarySubset } from '../../data/binary.js';
import { Rng, STREAM } from '../../data/random.js';
import type { ImageSplit } from '../../data/idx.js';
import { loadFashionMnist } from '../../data/node/fashion-mnist.js';
import { pathExists } from '../../data/node/idx-files.js';
import { readTensorEntries } from '../../io/tensors.js';
import { loadSafetensors, saveSafetensors } from '../../io/node/safetensors.js';
import type { Module } from '../../nn/module.js';
import { ResNetCifar, SmallCNN, type Classifier } from '../../nn/resnet.js';
import { SGD } from '../../optim/sgd.js';
import { lrSchedule } from '../schedule.js';
import { accuracyReport, type AccuracyReport } from '../../metrics/accuracy.js';
import { checkRecipeConfig, makeRecipe, type RecipeConfig } from '../recipes.js';
import { computeDiagnostics } from '../diagnostics.js';
import type { Evaluation } from '../evaluate.js';

/** Everything that defines a run; saved in every checkpoint. */
export interface TrainConfig extends RecipeConfig {
  dataset: 'fashion-mnist';
  dataDir?: string;
  /** n_max / n_min of the training subset (1 = the full balanced set). */
  imbalance: number;
  profile: ImbalanceProfile;
  /** 'small-cnn' or 'resnet<6n+2>' such as 'resnet32'. */
  model: string;
  /** Channel widths of the small CNN. */
  widths: number[];
  classifier: 'linear' | 'cosine';
  epochs: number;
  batchSize: number;
  /** How training batches are drawn (see SamplerKind): 'shuffled', 'class-balanced' or 'every-class'. */
  sampler: SamplerKind;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** No weight decay on biases and batch-norm weights (parameters of rank <= 1). */
  noDecayBnBias: boolean;
  schedule: 'cosine' | 'step';
  warmupEpochs: number;
  milestones: number[];
  gamma: number;
  /** Pad-and-crop padding in pixels (0 disables) and horizontal flips of the ce recipes' batches. */
  pad: number;
  flip: boolean;
  seed: number;
  out: string;
  /** Print a progress line every this many steps. */
  logEvery: number;
  /** Cap of training images per class (for quick runs and tests); 0 = none. */
  limitPerClass: number;
  /** Evaluation images per class (balanced test set); 0 = the whole test set. */
  testPerClass: number;
  /** Two classes [a, b] for the binary protocol (a -> label 0, b -> label 1 = minority), or null. */
  binary: [number, number] | null;
  /** Share of the minority label b in the binary training set. */
  minorityShare: number;
}

/** Defaults of the CLI; its temperature is BCL's 0.1 (the CLI takes defaultTemperature(recipe) instead). */
export const DEFAULT_CONFIG: TrainConfig = {
  dataset: 'fashion-mnist', imbalance: 100, profile: 'exp', model: 'small-cnn', widths: [8, 16, 32], classifier: 'linear',
  recipe: 'ce', bclAblation: 'full', protoPlacement: 'antipodal', tau: 1, lambda: 2, mu: 0.6, temperature: 0.1, featDim: 128, probeFraction: 0.01, probeSteps: 200, probeLr: 1, epochs: 6, batchSize: 128, sampler: 'shuffled', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 5e-4,
  noDecayBnBias: false, schedule: 'cosine', warmupEpochs: 1, milestones: [], gamma: 0.1, pad: 2, flip: true,
  seed: 0, out: 'runs/fashion-mnist-lt', logEvery: 20, limitPerClass: 0, testPerClass: 0, binary: null, minorityShare: 0.05, eps: [1, 1],
};

/** Fashion-MNIST statistics (mean and std of the training pixels in [0, 1]). */
const FASHION_MNIST_NORM: Normalization = { mean: [0.286], std: [0.353] };

export interface TrainResult {
  config: TrainConfig;
  adapter: string;
  epochs: number;
  steps: number;
  trainCounts: number[];
  final: AccuracyReport & { auc?: number; loss: number };
  wallSeconds: number;
  imagesPerSecond: number;
}

const CHECKPOINT = 'checkpoint.safetensors';
/** Name prefix of the recipe's state tensors in the checkpoint. */
const STATE = 'state.';

function buildModel(cfg: TrainConfig, classes: number, channels: number, size: number): Classifier {
  const resnet = /^resnet(\d+)$/.exec(cfg.model);
  if (resnet) return new ResNetCifar(Number(resnet[1]), classes, { inChannels: channels, classifier: cfg.classifier });
  if (cfg.model === 'small-cnn') return new SmallCNN(classes, { inChannels: channels, inputSize: size, widths: cfg.widths, classifier: cfg.classifier });
  throw new Error(`train: unknown model '${cfg.model}' (small-cnn, resnet32 or any resnet<6n+2>)`);
}

/** Images [count, C, H, W] of `split` (all, or those in `keep`) as f32 in [0, 1] on the device. */
function uploadImages(split: ImageSplit, keep: Int32Array | null): T.Tensor {
  const { images: pixels, count, channels, height, width } = split;
  const n = keep ? keep.length : count;
  const image = channels * height * width;
  const data = new Float32Array(n * image);
  for (let i = 0; i < n; i++) {
    const src = keep ? keep[i] : i;
    for (let j = 0; j < image; j++) data[i * image + j] = pixels[src * image + j] / 255;
  }
  return T.tensor(data, [n, channels, height, width]).keep();
}

/**
 * The run's training and test rows and labels: the long-tailed subset of the 10 classes, or with
 * `cfg.binary` = [a, b] the binary subset (a -> label 0, b -> label 1, the minority; SPEC 3) and the test
 * images of a and b. Then at most `limitPerClass` training and `testPerClass` test images per label.
 */
function selectData(cfg: TrainConfig, train: ArrayLike<number>, test: ArrayLike<number>) {
  let classes = 10;
  let trainIdx: Int32Array;
  let relabel = (y: number) => y;
  let what = `${cfg.dataset}-LT IF ${cfg.imbalance} (${cfg.profile})`;
  if (cfg.binary) {
    const [a, b] = cfg.binary;
    const subset = binarySubset(train, { numClasses: classes, groups: [[a], [b]], minorityShare: cfg.minorityShare, seed: cfg.seed });
    classes = 2;
    relabel = (y) => (y === a ? 0 : y === b ? 1 : -1);
    trainIdx = subset.indices;
    what = `${cfg.dataset} binary ${a} vs ${b} (minority share ${cfg.minorityShare})`;
  } else {
    trainIdx = longTailSubset(train, { numClasses: classes, imbalanceFactor: cfg.imbalance, seed: cfg.seed, profile: cfg.profile }).indices;
  }
  if (cfg.limitPerClass > 0) {
    const taken = new Array<number>(classes).fill(0);
    trainIdx = trainIdx.filter((i) => taken[relabel(train[i])]++ < cfg.limitPerClass);
  }
  const trainLabels = Int32Array.from(trainIdx, (i) => relabel(train[i]));
  let testIdx = Int32Array.from({ length: test.length }, (_, i) => i).filter((i) => relabel(test[i]) >= 0);
  if (cfg.testPerClass > 0) {
    const picked = balancedSubset(Array.from(testIdx, (i) => relabel(test[i])), cfg.testPerClass, { numClasses: classes, seed: cfg.seed }).indices;
    testIdx = Int32Array.from(picked, (k) => testIdx[k]);
  }
  return { classes, trainIdx, trainLabels, testIdx, testLabels: Int32Array.from(testIdx, (i) => relabel(test[i])), what };
}

/**
 * Trains per `cfg`, writing `log.jsonl` and `checkpoint.safetensors` (after every epoch, atomically) into
 * `cfg.out`, and at the end the diagnostics `embeddings.safetensors` and `metrics.json` (src/train/diagnostics.ts),
 * `summary.json` and the HTML run report `report.html`. With `resume`, continues from the checkpoint there: same seed and config give exactly the
 * numbers of an uninterrupted run. `log` receives the progress lines.
 */
export async function train(cfg: TrainConfig, opts: { resume?: boolean; log?: (line: string) => void } = {}): Promise<TrainResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  checkRecipeConfig(cfg);
  const started = performance.now();
  const e = await T.init({ log: false });
  const adapter = e.describeAdapter();
  log(`[train] adapter: ${adapter}`);
  await mkdir(cfg.out, { recursive: true });

  const data = await loadFashionMnist(cfg.dataDir);
  const { classes, trainIdx, trainLabels, testIdx, testLabels, what } = selectData(cfg, data.train.labels, data.test.labels);
  const trainCounts = classCounts(trainLabels, classes);
  log(`[train] ${what}: ${trainLabels.length} training images, per class [${trainCounts.join(', ')}]; ${testLabels.length} test images`);

  const { height } = data.train;
  const trainImages = uploadImages(data.train, trainIdx);
  const testImages = uploadImages(data.test, testIdx);

  T.manualSeed(cfg.seed);
  const model = buildModel(cfg, classes, 1, height);
  const recipe = makeRecipe(cfg, {
    model, trainImages, trainLabels, trainCounts, testImages, testLabels, norm: FASHION_MNIST_NORM, makeModel: () => buildModel(cfg, classes, 1, height),
  });
  const { named, parts } = recipe;
  const decayed = named.filter(([, p]) => !cfg.noDecayBnBias || p.rank > 1).map(([, p]) => p);
  const plain = named.filter(([, p]) => cfg.noDecayBnBias && p.rank <= 1).map(([, p]) => p);
  const opt = new SGD([{ params: decayed }, { params: plain, weightDecay: 0 }], {
    lr: cfg.lr, momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay,
  });
  const stepsPerEpoch = samplerBatchCount(trainLabels.length, { batchSize: cfg.batchSize, dropLast: true });
  const schedule = lrSchedule({
    base: cfg.lr,
    warmup: cfg.warmupEpochs,
    decay: cfg.schedule === 'cosine' ? { kind: 'cosine', total: cfg.epochs } : { kind: 'step', milestones: cfg.milestones, gamma: cfg.gamma },
  });

  let startEpoch = 0;
  const ckptPath = join(cfg.out, CHECKPOINT);
  const state = recipe.state ?? [];
  if (opts.resume && (await pathExists(ckptPath))) {
    startEpoch = await restore(ckptPath, parts, opt, named, state);
    await recipe.resumed?.();
    log(`[train] resumed from ${ckptPath} after epoch ${startEpoch}`);
  } else {
    await recipe.init?.();
  }

  const logPath = join(cfg.out, 'log.jsonl');
  let step = startEpoch * stepsPerEpoch;
  let final: TrainResult['final'] = { ...accuracyReport([], [], trainCounts), loss: NaN };
  let trainedImages = 0;
  let trainMs = 0;
  let lastEval: Evaluation | undefined;
  for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
    model.train();
    opt.lr = schedule(epoch);
    const aug = new Rng(cfg.seed, STREAM.augment, epoch);
    const random = () => aug.float();
    // The loss of every step is added on the GPU and read once per progress line: a NaN anywhere shows.
    let lossSum = T.zeros([]).keep();
    let since = 0;
    let t0 = performance.now();
    let epochLoss = 0;
    const sampler = { sampler: cfg.sampler, numClasses: classes, batchSize: cfg.batchSize, seed: cfg.seed, epoch, dropLast: true };
    for (const idx of sampleBatches(trainLabels, sampler)) {
      const labels = T.tensor(Array.from(idx, (i) => trainLabels[i]), [idx.length], 'i32');
      const next = T.scope(() => {
        const loss = recipe.loss({ indices: idx, labels, step, random });
        loss.backward();
        opt.step();
        opt.zeroGrad();
        recipe.afterStep?.({ indices: idx, labels, step, random });
        return T.add(lossSum, loss);
      });
      labels.dispose();
      lossSum.dispose();
      lossSum = next.keep();
      step++;
      since++;
      if (since === cfg.logEvery || step === (epoch + 1) * stepsPerEpoch) {
        const mean = (await lossSum.item()) / since;
        const ms = performance.now() - t0;
        trainMs += ms;
        trainedImages += since * cfg.batchSize;
        if (!Number.isFinite(mean)) {
          throw new Error(`train: the loss became ${mean} at epoch ${epoch + 1}, step ${step}; stopped. The last good checkpoint (end of epoch ${epoch}) is ${ckptPath}. Try a smaller --lr.`);
        }
        epochLoss = mean;
        log(`epoch ${epoch + 1}/${cfg.epochs} step ${step} loss ${mean.toFixed(4)} lr ${opt.lr.toPrecision(3)} ${((since * cfg.batchSize * 1000) / ms).toFixed(1)} images/s`);
        lossSum.dispose();
        lossSum = T.zeros([]).keep();
        since = 0;
        t0 = performance.now();
      }
    }
    lossSum.dispose();
    // Predictions and the probe go to the diagnostics, not into the log.
    const { predicted: _, probe: __, ...report } = (lastEval = await recipe.evaluate());
    final = { ...report, loss: epochLoss };
    // A group without classes (no class under 20 images, as at IF 100 here) prints as '-'.
    const pct = (v: number) => (Number.isNaN(v) ? '-' : `${(100 * v).toFixed(1)} %`);
    log(`epoch ${epoch + 1}/${cfg.epochs} ${recipe.evalLabel} top1 ${pct(report.top1)} class-avg ${pct(report.classAverage)} many ${pct(report.many)} medium ${pct(report.medium)} few ${pct(report.few)}${report.auc === undefined ? '' : ` auc ${report.auc.toFixed(3)}`}`);
    await appendFile(logPath, `${JSON.stringify({ epoch: epoch + 1, step, loss: epochLoss, lr: opt.lr, ...report })}\n`);
    await checkpoint(ckptPath, parts, opt, named, state, epoch + 1, cfg, adapter);
  }
  const result: TrainResult = {
    config: cfg, adapter, epochs: cfg.epochs, steps: step, trainCounts, final,
    wallSeconds: (performance.now() - started) / 1000,
    imagesPerSecond: trainMs ? (trainedImages * 1000) / trainMs : NaN,
  };
  // Diagnostics of the final model for the report: a run resumed after its last epoch evaluates once here.
  const diagStart = performance.now();
  const diag = await computeDiagnostics({
    model, head: recipe.head, evaluation: lastEval ?? (await recipe.evaluate()), trainImages, trainLabels, trainCounts, testImages, testLabels,
    norm: FASHION_MNIST_NORM, batchSize: cfg.batchSize, seed: cfg.seed,
  });
  await saveSafetensors(join(cfg.out, 'embeddings.safetensors'), diag.tensors, { format: 'pt' });
  await writeFileAtomic(join(cfg.out, 'metrics.json'), new TextEncoder().encode(`${JSON.stringify(diag.metrics)}\n`));
  log(`[train] diagnostics: embeddings.safetensors, metrics.json (${((performance.now() - diagStart) / 1000).toFixed(1)} s)`);
  recipe.dispose();
  opt.dispose();
  model.dispose();
  trainImages.dispose();
  testImages.dispose();
  // The summary (config, class counts) completes the log for the report, which is written last.
  await writeFileAtomic(join(cfg.out, 'summary.json'), new TextEncoder().encode(`${JSON.stringify(result)}\n`));
  log(`[train] report: ${await writeReport(cfg.out)}`);
  return result;
}

/**
 * Weights, buffers and momentum buffers under PyTorch-style names, the recipe's state under `state.`,
 * epoch and config in the metadata.
 */
async function checkpoint(
  path: string, parts: [string, Module][], opt: SGD, named: [string, T.Tensor][], state: [string, T.Tensor][], epoch: number, cfg: TrainConfig, adapter: string,
): Promise<void> {
  const tensors = new Map(parts.flatMap(([prefix, m]) => [...m.stateDict(prefix)]));
  for (const [name, p] of named) tensors.set(`optimizer.momentum_buffer.${name}`, opt.bufferOf(p));
  for (const [name, t] of state) tensors.set(`${STATE}${name}`, t);
  await saveSafetensors(path, await readTensorEntries(tensors), { epoch: String(epoch), config: JSON.stringify(cfg), adapter, format: 'pt' });
}

/** Loads a checkpoint written by {@link checkpoint}; returns the number of epochs it had completed. */
async function restore(path: string, parts: [string, Module][], opt: SGD, named: [string, T.Tensor][], recipeState: [string, T.Tensor][]): Promise<number> {
  const file = await loadSafetensors(path);
  const state = new Map<string, { shape: readonly number[]; data: T.TypedArray }>();
  for (const [name, entry] of file.tensors) state.set(name, { shape: entry.shape, data: entry.data as T.TypedArray });
  // Each part takes the entries under its prefix; the model ('') takes the rest but the optimizer's.
  const prefixes = parts.map(([p]) => p).filter((p) => p);
  for (const [prefix, m] of parts) {
    const mine = (k: string) => (prefix ? k.startsWith(prefix) : !k.startsWith('optimizer.') && !k.startsWith(STATE) && !prefixes.some((p) => k.startsWith(p)));
    m.loadStateDict(new Map([...state].filter(([k]) => mine(k)).map(([k, v]) => [k.slice(prefix.length), v])));
  }
  for (const [name, p] of named) {
    const buf = state.get(`optimizer.momentum_buffer.${name}`);
    if (!buf) throw new Error(`train: checkpoint ${path} lacks the momentum buffer of '${name}'`);
    opt.bufferOf(p).write(buf.data);
  }
  for (const [name, t] of recipeState) {
    const entry = state.get(`${STATE}${name}`);
    if (!entry || entry.data.length !== t.size) {
      throw new Error(`train: checkpoint ${path} lacks the recipe state '${name}' ${entry ? `of ${t.size} values (it has ${entry.data.length})` : ''}`.trimEnd());
    }
    t.write(entry.data);
  }
  const epoch = Number(file.metadata.epoch);
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`train: checkpoint ${path} has no valid epoch in its metadata`);
  return epoch;
}
