// The reproduction suites: each a grid of ordinary training runs (groups × seeds) of the existing
// recipes, given as `npm run train` flags, at a scale: `cpu` (sized by measurement to finish within an
// hour with 3 seeds on a 2-core machine without a GPU), `paper` (the papers' configurations, for a GPU)
// or `smoke` (seconds a cell: checks the pipeline, proves nothing). Nothing is re-implemented here.

import { COMMON_OPTIONS, PRESETS } from '../train/config.js';
import { allRecipeOptions, recipeOptions } from '../train/recipes/index.js';

/** One configuration of a suite, run once per seed. */
export interface Group {
  /** Short id used in folder names and in the claims' checks, e.g. `supcon-1` or `bcl`. */
  id: string;
  /** What a table shows, e.g. "SupCon, 1 %". */
  label: string;
  /** `npm run train` flags of this group (the suite's common flags come first). */
  args: string[];
  /** The recipe's name, for the tables. */
  method: string;
  /** Two-classes: the minority share in percent, the x axis of the collapse plots. */
  share?: number;
}

export const SUITE_NAMES = ['two-classes', 'long-tail', 'rebsupcon', 'geometry'] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];
export const SCALES = ['cpu', 'paper', 'smoke'] as const;
export type Scale = (typeof SCALES)[number];

/** A suite at one scale: its groups and the flags every cell shares. */
export interface Suite {
  name: SuiteName;
  title: string;
  scale: Scale;
  /** Flags of every cell, before the group's. */
  common: string[];
  /** What the scale changes against the papers, in words (the results page states it). */
  scaleNote: string;
  groups: Group[];
  /** The columns of the suite's main table (metric ids of {@link METRICS}). */
  columns: string[];
}

/** Dataset choice given to `npm run reproduce` (any dataset of the registry). */
export interface SuiteData {
  dataset?: string;
  dataDir?: string;
  dataFile?: string;
  /** Two-classes: the pair A,B (B the minority). */
  binary?: [number, number];
  /** Long tail: the imbalance factor. */
  imbalance?: number;
}

const TWO_CLASS_METHODS = [
  { recipe: 'supcon', name: 'SupCon' },
  { recipe: 'supmin', name: 'SupMin' },
  { recipe: 'supproto', name: 'SupProto' },
];
/** The default binary pair per dataset: Pullover vs Coat, and the Two Classes preset's cat vs dog. */
const DEFAULT_PAIRS: Record<string, [number, number]> = { 'fashion-mnist': [2, 4], cifar10: [3, 5] };

/** Minority shares of Two Classes' Table 1, in percent. */
export const SHARES = [50, 5, 1];

const LONG_TAIL_GROUPS: Group[] = [
  { id: 'ce', label: 'CE', method: 'ce', args: ['--recipe', 'ce'] },
  { id: 'ce-la', label: 'LC (logit-adjusted CE)', method: 'ce-la', args: ['--recipe', 'ce-la'] },
  { id: 'balanced-softmax', label: 'Balanced softmax', method: 'balanced-softmax', args: ['--recipe', 'balanced-softmax'] },
  { id: 'supcon-lc', label: 'LC + SupCon', method: 'supcon-lc', args: ['--recipe', 'supcon-lc'] },
  { id: 'bcl-complement', label: 'LC + SC + class-complement', method: 'bcl', args: ['--recipe', 'bcl', '--bcl-ablation', 'complement'] },
  { id: 'bcl-averaging', label: 'LC + SC + class-averaging', method: 'bcl', args: ['--recipe', 'bcl', '--bcl-ablation', 'averaging'] },
  { id: 'bcl', label: 'BCL (both)', method: 'bcl', args: ['--recipe', 'bcl'] },
];

const REB_GROUPS: Group[] = [
  { id: 'supcon-lc', label: 'LC + SupCon (no queue)', method: 'supcon-lc', args: ['--recipe', 'supcon-lc'] },
  { id: 'reb-queue', label: 'SupCon on the MoCo queue', method: 'rebsupcon', args: ['--recipe', 'rebsupcon', '--reb-ablation', 'queue'] },
  { id: 'reb-rebalance', label: '+ rebalancing factor', method: 'rebsupcon', args: ['--recipe', 'rebsupcon', '--reb-ablation', 'rebalance'] },
  { id: 'reb-prototypes', label: '+ prototype module', method: 'rebsupcon', args: ['--recipe', 'rebsupcon', '--reb-ablation', 'prototypes'] },
  { id: 'reb-full', label: 'Reb-SupCon (both)', method: 'rebsupcon', args: ['--recipe', 'rebsupcon', '--reb-ablation', 'full'] },
];

const dataArgs = (d: SuiteData, dflt: string) => [
  '--dataset', d.dataset ?? dflt,
  ...(d.dataDir ? ['--data-dir', d.dataDir] : []),
  ...(d.dataFile ? ['--data-file', d.dataFile] : []),
];

// Chosen by measurement on the 2-core machine (SwiftShader): a two-classes cell of 2000 images trains
// ~20 s an epoch plus ~15 s of probe and diagnostics; BCL trains ~40 images/s (three views) and its
// diagnostics take ~35 s on 5000 test images, hence 200 a class. The results pages give the wall times.
const CPU = {
  twoClasses: ['--binary-total', '2000', '--epochs', '3'],
  longTail: ['--n-max', '600', '--epochs', '4', '--test-per-class', '200'],
  /** Reb-SupCon's own options at this scale (its groups only: the LC + SupCon baseline refuses them). */
  queue: ['--queue-size', '512', '--moco-momentum', '0.99'],
};
const SMOKE = ['--epochs', '2', '--batch-size', '16', '--test-per-class', '12', '--log-every', '1'];

const flagValue = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** A preset's common settings as `npm run train` flags, but the dataset and imbalance (the suite's data choice sets them). */
function presetFlags(name: string): string[] {
  const { recipe: _, options: __, dataset: ___, imbalance: ____, ...common } = PRESETS[name].config;
  return Object.entries(common).flatMap(([key, v]) => {
    const spec = COMMON_OPTIONS.find((o) => o.key === key)!;
    return spec.type === 'boolean' ? (v ? [`--${spec.flag}`] : []) : [`--${spec.flag}`, flagValue(v)];
  });
}

/**
 * A preset's recipe options that `keep` accepts, as flags: a group whose recipe differs from the
 * preset's, or an ablation without the module an option configures, takes only those that apply to it.
 */
function presetOptionFlags(name: string, keep: (optionKey: string) => boolean): string[] {
  return Object.entries(PRESETS[name].config.options ?? {}).filter(([k]) => keep(k)).flatMap(([k, v]) => [`--${allRecipeOptions().find((o) => o.key === k)!.flag}`, flagValue(v)]);
}

/** The suite `name` at `scale` (`geometry` has no groups: it reads the runs of the other suites). */
export function suite(name: SuiteName, scale: Scale, data: SuiteData = {}): Suite {
  if (name === 'two-classes') {
    const dataset = data.dataset ?? (scale === 'paper' ? 'cifar10' : 'fashion-mnist');
    const binary = data.binary ?? DEFAULT_PAIRS[dataset];
    if (!binary) throw new Error(`two-classes: give the pair of classes with --binary A,B for --dataset ${dataset}`);
    const common = scale === 'paper'
      ? ['--preset', 'twoclasses-cifar10', ...dataArgs(data, 'cifar10')]
      : [...dataArgs(data, 'fashion-mnist'), ...(scale === 'cpu' ? CPU.twoClasses : [...SMOKE, '--binary-total', '100', '--probe-steps', '10'])];
    common.push('--binary', binary.join(','));
    return {
      name, scale, title: 'Two Classes: SupCon, SupMin and SupProto against the minority share', common,
      scaleNote: scale === 'paper'
        ? 'the Two Classes protocol on CIFAR-10 cat vs dog with a ResNet-32 trained 200 epochs (the paper uses iNaturalist pairs and a ResNet-50)'
        : scale === 'cpu'
          ? 'the small CNN (8/16/32) trained 3 epochs on 2000 training images at every share (the paper: a ResNet-50, 10 000+ images, hundreds of epochs); 2000 test images, probe on a balanced 1 %'
          : 'a pipeline check: 100 images, 2 epochs',
      groups: TWO_CLASS_METHODS.flatMap((m) => SHARES.filter((s) => !(m.recipe === 'supmin' && s === 50)).map((s) => ({
        id: `${m.recipe}-${s}`, label: `${m.name}, ${s} %`, method: m.recipe, share: s,
        args: ['--recipe', m.recipe, '--minority-share', String(s / 100)],
      }))),
      columns: ['balacc', 'auc', 'saa_maj', 'saa_min', 'cac_maj', 'cac_min', 'sad_maj', 'sad_min', 'unif_maj', 'unif_min'],
    };
  }
  if (name === 'long-tail' || name === 'rebsupcon') {
    const imbalance = String(data.imbalance ?? 100);
    const preset = name === 'long-tail' ? 'bcl-cifar100-lt' : 'rebsupcon-cifar100-lt';
    // Paper scale: the preset's settings as flags (its options where they apply), then the dataset.
    const common = scale === 'paper'
      ? [...presetFlags(preset), ...dataArgs(data, 'cifar100')]
      : [...dataArgs(data, 'fashion-mnist'), ...(scale === 'cpu' ? CPU.longTail : [...SMOKE, '--n-max', '100'])];
    common.push('--imbalance', imbalance);
    const own = (g: Group) => {
      if (scale !== 'paper') return g.method === 'rebsupcon' ? (scale === 'cpu' ? CPU.queue : ['--queue-size', '32']) : [];
      const prototypes = !g.args.includes('queue') && !g.args.includes('rebalance');
      return presetOptionFlags(preset, (k) => recipeOptions(g.method).some((o) => o.key === k) && (k !== 'numPrototypes' || prototypes));
    };
    const groups = (name === 'long-tail' ? LONG_TAIL_GROUPS : REB_GROUPS).map((g) => ({ ...g, args: [...g.args, ...own(g)] }));
    return {
      name, scale, common, groups,
      title: name === 'long-tail' ? `Long tail (IF ${imbalance}): CE, logit adjustment, balanced softmax, LC + SupCon and BCL with its Table-2 ablations` : `Reb-SupCon's Table-6 ablations (IF ${imbalance}) against LC + SupCon`,
      scaleNote: scale === 'paper'
        ? `the paper's configuration (${preset}: CIFAR-100-LT, ResNet-32) for every group`
        : scale === 'cpu'
          ? `the small CNN (8/16/32), linear classifier, trained 4 epochs on a long tail with n_max = 600 (1485 images; the papers: CIFAR-100-LT, 10 847 images, ResNet-32, 200–400 epochs); a balanced test set of 200 images a class${name === 'rebsupcon' ? '; queue of 512 keys, key-encoder momentum 0.99 (the paper: 4096, 0.999)' : ''}`
          : 'a pipeline check: 2 epochs on a tiny long tail',
      columns: ['top1', 'many', 'medium', 'few'],
    };
  }
  return { name, scale, title: 'Learned against optimal class-mean geometry, for every trained run', common: [], scaleNote: 'the runs of the other suites', groups: [], columns: [] };
}
