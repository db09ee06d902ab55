// A run's configuration: the settings common to every recipe (data, protocol, model, optimisation,
// schedule, seed), declared once as option schemas, plus the recipe's own options (src/train/recipes/).
// The paper presets live here too. Platform-neutral: the CLI parses flags into a TrainConfig, a page
// builds one in code; both go through resolveConfig().
import { DATASET_NAMES, datasetSpec, type DatasetName } from '../data/datasets.js';
import type { ImbalanceProfile } from '../data/longtail.js';
import { SAMPLER_KINDS, type SamplerKind } from '../data/samplers.js';
import { checkOption, UsageError, type OptionSpec } from './options.js';
import { recipeNames, resolveRecipeOptions, type RecipeOptions } from './recipes/index.js';
import { lrSchedule } from './schedule.js';

/** Everything that defines a run; saved in every checkpoint. */
export interface TrainConfig {
  dataset: DatasetName;
  /** Folder of the dataset's files (IDX, CIFAR); else its environment variable or Debian folder. */
  dataDir?: string;
  /** MedMNIST: the .npz file. */
  dataFile?: string;
  /** CIFAR-100's label set. */
  labels: 'fine' | 'coarse';
  /** CIFAR files with any whole number of records (subsets) instead of the standard counts. */
  anyRecordCount: boolean;
  /** n_max / n_min of the long-tailed training subset (1 = the full balanced set). */
  imbalance: number;
  profile: ImbalanceProfile;
  /** Two classes [a, b] for the binary protocol (a → label 0, b → label 1 = minority), or null. */
  binary: [number, number] | null;
  /** Share of the minority label b in the binary training set. */
  minorityShare: number;
  /** Head-class count n_max of the long tail; 0 = the smallest class size (the full protocol). */
  nMax: number;
  /** Training images of the binary protocol, shares kept; 0 = 2⌊s/2⌋ for s the smaller class (the full protocol). */
  binaryTotal: number;
  /** Cap of training images per class (quick runs, tests); 0 = none. */
  limitPerClass: number;
  /** Evaluation images per class (balanced test set); 0 = the whole test set. */
  testPerClass: number;
  /** 'small-cnn' or 'resnet<6n+2>' such as 'resnet32'. */
  model: string;
  /** Channel widths of the small CNN. */
  widths: number[];
  classifier: 'linear' | 'cosine';
  /** A registered recipe (src/train/recipes/index.ts). */
  recipe: string;
  /** The recipe's own options by key; absent ones take the recipe's defaults. */
  options: RecipeOptions;
  epochs: number;
  batchSize: number;
  /** How training batches are drawn: 'shuffled', 'class-balanced' or 'every-class'. */
  sampler: SamplerKind;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** No weight decay on biases and batch-norm weights (parameters of rank ≤ 1). */
  noDecayBnBias: boolean;
  schedule: 'cosine' | 'step';
  warmupEpochs: number;
  /**
   * 'per-step': the rate rises linearly with every step of the warm-up, from base / (W·S) to base (S steps
   * an epoch); 'per-epoch': epoch t < W runs at base·(t + 1)/W throughout (LDAM's and BCL's code).
   */
  warmupMode: 'per-step' | 'per-epoch';
  milestones: number[];
  gamma: number;
  seed: number;
  /** Output folder of the run (Node). */
  out: string;
  /** Steps between progress records. */
  logEvery: number;
}

const MODEL = /^(small-cnn|resnet(\d+))$/;

/** The common options, in help order. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { flag: 'dataset', key: 'dataset', type: 'choice', choices: DATASET_NAMES, default: 'fashion-mnist', help: 'the dataset (see "Datasets" below)' },
  { flag: 'data-dir', key: 'dataDir', type: 'string', arg: 'DIR', default: undefined, help: "folder of the dataset's files (default: its environment variable, then its Debian folder)" },
  { flag: 'data-file', key: 'dataFile', type: 'string', arg: 'FILE', default: undefined, help: "MedMNIST's .npz file (or MEDMNIST_FILE)" },
  { flag: 'labels', key: 'labels', type: 'choice', choices: ['fine', 'coarse'], default: 'fine', help: "CIFAR-100's labels: 100 fine classes or 20 coarse superclasses" },
  { flag: 'any-record-count', key: 'anyRecordCount', type: 'boolean', default: false, help: 'accept CIFAR files holding any whole number of records (subsets) instead of the standard 10 000 / 50 000' },
  { flag: 'imbalance', key: 'imbalance', type: 'number', min: 1, arg: 'IF', default: 100, help: 'imbalance factor n_max / n_min of the long-tailed training set (1: balanced)' },
  { flag: 'profile', key: 'profile', type: 'choice', choices: ['exp', 'step'], default: 'exp', help: 'long-tail profile: exponential, or step (half the classes at n_max, half at n_max / IF)' },
  { flag: 'binary', key: 'binary', type: 'list', length: 2, min: 0, arg: 'A,B', default: undefined, help: 'the binary protocol instead: classes A (label 0, majority) and B (label 1, minority)' },
  { flag: 'minority-share', key: 'minorityShare', type: 'number', above: 0, max: 0.5, arg: 'S', default: 0.05, help: 'share of label 1 in the binary training set' },
  { flag: 'n-max', key: 'nMax', type: 'integer', min: 0, arg: 'N', default: 0, help: 'head-class count of the long tail, the tail following at the same IF (0: the smallest class size)' },
  { flag: 'binary-total', key: 'binaryTotal', type: 'integer', min: 0, arg: 'N', default: 0, help: 'training images of the binary protocol at every share (0: 2 floor(s/2), s the smaller class)' },
  { flag: 'limit-per-class', key: 'limitPerClass', type: 'integer', min: 0, arg: 'N', default: 0, help: 'at most N training images per class (0: all)' },
  { flag: 'test-per-class', key: 'testPerClass', type: 'integer', min: 0, arg: 'N', default: 0, help: 'a balanced test subset of N images per class (0: the whole test set)' },
  { flag: 'model', key: 'model', type: 'string', arg: 'NAME', default: 'small-cnn', help: 'small-cnn (sized for the CPU fallback, any image size) or resnet32 / resnet<6n+2> (the papers\' CIFAR backbone)' },
  { flag: 'widths', key: 'widths', type: 'list', min: 1, arg: '8,16,32', default: [8, 16, 32], help: 'channel widths of small-cnn' },
  { flag: 'classifier', key: 'classifier', type: 'choice', choices: ['linear', 'cosine'], default: 'linear', help: "classifier head (cosine: BCL's normalised one, s = 30)" },
  { flag: 'epochs', key: 'epochs', type: 'integer', min: 1, arg: 'N', default: 6, help: 'training epochs' },
  { flag: 'batch-size', key: 'batchSize', type: 'integer', min: 1, arg: 'B', default: 128, help: 'images per step' },
  { flag: 'sampler', key: 'sampler', type: 'choice', choices: SAMPLER_KINDS, default: 'shuffled', help: 'shuffled (every image once an epoch), class-balanced (each class equally likely) or every-class (each batch holds every class)' },
  { flag: 'lr', key: 'lr', type: 'number', above: 0, arg: 'X', default: 0.05, help: 'peak learning rate' },
  { flag: 'momentum', key: 'momentum', type: 'number', min: 0, max: 0.999, arg: 'M', default: 0.9, help: 'SGD momentum' },
  { flag: 'nesterov', key: 'nesterov', type: 'boolean', default: false, help: 'Nesterov momentum' },
  { flag: 'weight-decay', key: 'weightDecay', type: 'number', min: 0, arg: 'W', default: 5e-4, help: 'L2 weight decay' },
  { flag: 'no-decay-bn-bias', key: 'noDecayBnBias', type: 'boolean', default: false, help: 'no weight decay on biases and batch-norm weights' },
  { flag: 'schedule', key: 'schedule', type: 'choice', choices: ['cosine', 'step'], default: 'cosine', help: 'learning-rate decay after the warm-up' },
  { flag: 'warmup-epochs', key: 'warmupEpochs', type: 'integer', min: 0, arg: 'W', default: 1, help: 'linear warm-up epochs (clamped to epochs - 1)' },
  { flag: 'warmup-mode', key: 'warmupMode', type: 'choice', choices: ['per-step', 'per-epoch'], default: 'per-step', help: 'per-step: the rate rises with every step of the warm-up; per-epoch: epoch t of W runs at base (t+1)/W (LDAM/BCL code)' },
  { flag: 'milestones', key: 'milestones', type: 'list', min: 0, arg: '160,180', default: [], help: 'epochs at which the step schedule multiplies the rate by --gamma' },
  { flag: 'gamma', key: 'gamma', type: 'number', above: 0, arg: 'G', default: 0.1, help: 'factor of the step schedule' },
  { flag: 'seed', key: 'seed', type: 'integer', min: 0, arg: 'S', default: 0, help: 'seed of every random stream (subsets, initialisation, batches, augmentation)' },
  { flag: 'out', key: 'out', type: 'string', arg: 'DIR', default: undefined, help: 'output folder (default runs/<dataset>-lt, or runs/<dataset>-binary)' },
  { flag: 'log-every', key: 'logEvery', type: 'integer', min: 1, arg: 'N', default: 20, help: 'steps between progress records' },
];

/** The common settings (no recipe options) with every default, for a dataset. */
export function defaultConfig(over: Partial<TrainConfig> = {}): TrainConfig {
  const base = Object.fromEntries(COMMON_OPTIONS.filter((o) => o.default !== undefined).map((o) => [o.key, o.default])) as unknown as TrainConfig;
  const cfg: TrainConfig = { ...base, binary: null, recipe: 'ce', options: {}, out: '', ...over };
  if (!cfg.out) cfg.out = `runs/${cfg.dataset}-${cfg.binary ? 'binary' : 'lt'}`;
  return cfg;
}

/** A checked config and what was derived from it. */
export interface ResolvedConfig {
  config: TrainConfig;
  /** The learning rate of step `step` (0-based) of epoch `epoch`, with `steps` steps an epoch. */
  schedule: (epoch: number, step: number, steps: number) => number;
  /** What resolving changed, for the log (e.g. a clamped warm-up). */
  notes: string[];
}

/**
 * Checks every setting of `cfg` (types, ranges, allowed values, options that do not apply to its
 * recipe, the recipe's cross checks, the schedule) on the host, before any GPU work, and fills in the
 * recipe's defaults. Throws a UsageError naming the flag and what is allowed. A warm-up as long as the
 * run is clamped to epochs − 1 (a note says so), so that `--epochs 1` works with every schedule.
 */
export function resolveConfig(cfg: TrainConfig): ResolvedConfig {
  const notes: string[] = [];
  const checked: Record<string, unknown> = { ...cfg };
  for (const spec of COMMON_OPTIONS) {
    const v = (cfg as unknown as Record<string, unknown>)[spec.key];
    if (v !== undefined && v !== null) checked[spec.key] = checkOption(spec, v);
  }
  const config = checked as unknown as TrainConfig;
  if (!recipeNames().includes(config.recipe)) throw new UsageError(`--recipe must be one of ${recipeNames().join(', ')}, got "${config.recipe}"`);
  const depth = Number(config.model.slice(6));
  if (!MODEL.test(config.model) || (config.model !== 'small-cnn' && (depth < 8 || (depth - 2) % 6 !== 0))) {
    throw new UsageError(`--model must be small-cnn or resnet<6n+2> (resnet20, resnet32, resnet56, ...), got "${config.model}"`);
  }
  const spec = datasetSpec(config.dataset);
  if (config.labels !== 'fine' && config.dataset !== 'cifar100') throw new UsageError(`--labels ${config.labels} applies to --dataset cifar100 only, got --dataset ${config.dataset}`);
  if (config.dataFile !== undefined && spec.source !== 'file') throw new UsageError(`--data-file applies to --dataset medmnist only (use --data-dir for ${config.dataset})`);
  if (config.dataDir !== undefined && spec.source !== 'folder') throw new UsageError(`--data-dir does not apply to --dataset ${config.dataset}: give its file with --data-file`);
  if (config.binary && config.binary[0] === config.binary[1]) throw new UsageError(`--binary needs two different classes, got ${config.binary.join(',')}`);
  let warmup = config.warmupEpochs;
  if (warmup >= config.epochs) {
    warmup = config.epochs - 1;
    notes.push(`warm-up clamped from ${config.warmupEpochs} to ${warmup} epoch(s): the run has ${config.epochs}`);
  }
  const milestones = config.milestones;
  if (config.schedule === 'step' && milestones.some((m, i) => m < warmup || (i > 0 && m <= milestones[i - 1]))) {
    throw new UsageError(`--milestones must be increasing epochs ≥ the warm-up (${warmup}), got ${milestones.join(',')}`);
  }
  if (config.schedule !== 'step' && milestones.length) throw new UsageError('--milestones applies to --schedule step only');
  const perEpoch = lrSchedule({
    base: config.lr, warmup,
    decay: config.schedule === 'cosine' ? { kind: 'cosine', total: config.epochs } : { kind: 'step', milestones, gamma: config.gamma },
  });
  const schedule = (epoch: number, step: number, steps: number) => (config.warmupMode === 'per-step' && epoch < warmup
    ? (config.lr * (epoch * steps + step + 1)) / (warmup * steps)
    : perEpoch(epoch));
  const options = resolveRecipeOptions(config.recipe, config.options, { batchSize: config.batchSize, binary: config.binary !== null });
  return { config: { ...config, binary: config.binary ? [config.binary[0], config.binary[1]] : null, options }, schedule, notes };
}

/** A paper configuration: what it sets, and why. */
export interface Preset {
  description: string;
  config: Partial<TrainConfig>;
}

/** BCL's long-tailed CIFAR training (its paper's Sec. 4.1), dataset aside. */
const BCL_CIFAR: Partial<TrainConfig> = {
  imbalance: 100, model: 'resnet32', classifier: 'cosine', recipe: 'bcl', epochs: 200, batchSize: 256,
  lr: 0.15, momentum: 0.9, weightDecay: 5e-4, schedule: 'step', warmupEpochs: 5, warmupMode: 'per-epoch', milestones: [160, 180], gamma: 0.1,
  options: { lambda: 2, mu: 0.6, temperature: 0.1, featDim: 128 },
};
const BCL_CIFAR_SETTINGS = 'ResNet-32, cosine classifier, 200 epochs, batch 256, lr 0.15 warmed up over 5 epochs (per epoch, as its code), ×0.1 at 160 and 180, wd 5e-4, λ 2, μ 0.6, τ 0.1';

/**
 * The papers' configurations, for GPUs (hours to days on the CPU fallback). Each sets the dataset,
 * protocol, model, schedule and recipe options as its paper; flags given after it override it.
 */
export const PRESETS: Readonly<Record<string, Preset>> = {
  'bcl-cifar100-lt': { description: `BCL on CIFAR-100-LT IF 100 (BCL paper, Sec. 4.1): ${BCL_CIFAR_SETTINGS}`, config: { ...BCL_CIFAR, dataset: 'cifar100' } },
  'bcl-cifar10-lt': { description: `BCL on CIFAR-10-LT IF 100 (BCL paper, Sec. 4.1): ${BCL_CIFAR_SETTINGS}`, config: { ...BCL_CIFAR, dataset: 'cifar10' } },
  'rebsupcon-cifar100-lt': {
    description: 'Reb-SupCon on CIFAR-100-LT IF 100 (Reb-SupCon paper, Sec. 4.2): ResNet-32, 400 epochs, batch 128, lr 0.02 cosine to 0, wd 5e-4, τ 0.05 (its CIFAR-100-LT value), 300 prototypes (3 per class)',
    config: {
      dataset: 'cifar100', imbalance: 100, model: 'resnet32', recipe: 'rebsupcon', epochs: 400, batchSize: 128,
      lr: 0.02, momentum: 0.9, weightDecay: 5e-4, schedule: 'cosine', warmupEpochs: 0,
      options: { temperature: 0.05, numPrototypes: 300 },
    },
  },
  'twoclasses-cifar10': {
    description: 'the Two Classes binary protocol on CIFAR-10: cat (3) vs dog (5) at a 1 % minority share, SupCon pre-training of a ResNet-32 for 200 epochs (batch 256, lr 0.05 cosine after 10 warm-up epochs), linear probe on a balanced 1 %; choose the loss with --recipe supmin|supproto',
    config: {
      dataset: 'cifar10', binary: [3, 5], minorityShare: 0.01, model: 'resnet32', recipe: 'supcon', epochs: 200, batchSize: 256,
      lr: 0.05, momentum: 0.9, weightDecay: 1e-4, schedule: 'cosine', warmupEpochs: 10, imbalance: 1,
    },
  },
};
