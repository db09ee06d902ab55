// The main job: training on a long-tailed dataset from the command line, by recipe.
//   npm run train -- [--recipe ce|ce-la|balanced-softmax|bcl|supcon-lc|supcon|simclr|supmin|supproto|rebsupcon] [--bcl-ablation full|complement|averaging] [--reb-ablation queue|rebalance|prototypes|full] [--model small-cnn|resnet32] [--epochs N] ...
// Prints progress lines, per-epoch evaluation, and as its last line one JSON summary; writes
// <out>/log.jsonl and <out>/checkpoint.safetensors. --resume continues the run found in <out>.
import { parseArgs } from 'node:util';
import { SAMPLER_KINDS } from '../data/samplers.js';
import {
  BCL_ABLATIONS, defaultTemperature, PROTO_PLACEMENTS, REB_ABLATIONS, REB_CLASSIFIERS, REB_DEFAULTS, REB_WEIGHTINGS, RECIPES, type RecipeName,
} from '../train/recipes.js';
import { DEFAULT_CONFIG, train, type TrainConfig } from '../train/node/trainer.js';

/** The former --loss values, kept as aliases of the baseline recipes. */
const LOSS_RECIPES: Record<string, RecipeName> = { ce: 'ce', la: 'ce-la', bs: 'balanced-softmax' };

const HELP = `Usage: npm run train -- [options]
  --dataset fashion-mnist       dataset (Debian's dataset-fashion-mnist; --data-dir or FASHION_MNIST_DIR to point elsewhere)
  --imbalance IF                imbalance factor n_max / n_min (default ${DEFAULT_CONFIG.imbalance}); --profile exp|step
  --binary A,B                  binary protocol instead: classes A (label 0) and B (label 1, the minority)
  --minority-share S            share of label 1 in the binary training set (default ${DEFAULT_CONFIG.minorityShare})
  --model NAME                  small-cnn (default, sized for the CPU fallback) or resnet32 / resnet<6n+2>
  --widths 8,16,32              channel widths of small-cnn
  --classifier linear|cosine    classifier head (cosine: BCL's normalised one, s = 30)
  --recipe NAME                 ce (default): cross-entropy; ce-la: logit-adjusted CE (--tau);
                                balanced-softmax; bcl: BCL's two-branch training, lambda * logit-compensated
                                CE on a RandAugment view + mu * BCL loss on two SimAugment views through an
                                MLP head, prototypes = MLP of the classifier weights; supcon-lc: the same
                                with plain SupCon; supcon, simclr, supmin, supproto (the last two with
                                --binary): contrastive pre-training of encoder + head, evaluated by a
                                linear probe on a balanced 1 % of the training set (+ ROC AUC if binary);
                                rebsupcon: Reb-SupCon, MoCo query/key encoders + heads with a labelled key
                                queue, rebalanced SupCon + SwAV-style prototypes (options below)
  --bcl-ablation full|complement|averaging   bcl's loss (BCL Table 2): full (default) = class-complement
                                + class-averaging; complement = prototypes in the contrast set, no
                                class-averaging; averaging = class-averaging, no prototypes (no head_fc)
  --loss ce|la|bs               the same as --recipe ce|ce-la|balanced-softmax
  --reb-ablation queue|rebalance|prototypes|full   rebsupcon's loss (Reb-SupCon Table 6): queue = SupCon
                                on the MoCo queue alone (omega = 1, no prototypes); rebalance = + the
                                rebalancing factor omega; prototypes = + the prototype module; full (default)
  --reb-weighting paper|inverse omega = 1 / (1 + a g w_f) as the paper's formula (default; it lowers the
                                weight of hard and rare classes), or its inverse 1 + a g w_f (the prose's intent)
  --reb-classifier joint|probe  rebsupcon's classifier: joint (default) = a linear classifier on the query
                                features trained with logit-compensated CE (--tau, --reb-ce-weight, default
                                ${REB_DEFAULTS.rebCeWeight}); probe = the linear probe of supcon
  --queue-size Q                rebsupcon's key queue (default ${REB_DEFAULTS.queueSize}; Q >= batch size, any multiple or not: it wraps around)
  --prototypes K                rebsupcon's trainable prototypes (default ${REB_DEFAULTS.numPrototypes})
  --moco-momentum M             rebsupcon's key-encoder EMA (default ${REB_DEFAULTS.mocoMomentum}; 1 / (1 - M) steps of memory)
  --lambda L --mu M             bcl / supcon-lc loss weights (default ${DEFAULT_CONFIG.lambda}, ${DEFAULT_CONFIG.mu})
  --temperature T               contrastive temperature (default 0.1 for bcl / supcon-lc, 0.2 for rebsupcon, 0.07 otherwise)
  --eps E0,E1                   supproto's pull margins (default 1,1)
  --proto-placement antipodal|fitted   supproto's prototypes: the released code's random pair [p, -p]
                                (default) or the paper's p_maj fitted to the clean training embeddings
                                of the initial encoder, p_min = -p_maj
  --feat-dim D                  projection head output (default ${DEFAULT_CONFIG.featDim})
  --probe-fraction F --probe-steps N --probe-lr X   linear probe (default ${DEFAULT_CONFIG.probeFraction}, ${DEFAULT_CONFIG.probeSteps}, ${DEFAULT_CONFIG.probeLr})
  --epochs N --batch-size B --lr X --momentum M --nesterov --weight-decay W --no-decay-bn-bias
  --sampler KIND                shuffled (default; every image once an epoch), class-balanced (each class
                                equally likely) or every-class (each batch holds every class at least once)
  --schedule cosine|step        --warmup-epochs W --milestones 160,180 --gamma G
  --pad P --no-flip             ce recipes' augmentation: pad-and-random-crop by P pixels, horizontal flips
                                (bcl, supcon-lc: RandAugment + 2 SimAugment views; the pre-training recipes: 2 SimAugment;
                                rebsupcon: RandAugment query view, SimAugment key view)
  --seed S --out DIR --resume   reproducibility, output folder, continue the run in DIR
  --log-every N                 steps between progress lines
  --limit-per-class N --test-per-class N   smaller runs (0 = all)`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean' },
    dataset: { type: 'string' }, 'data-dir': { type: 'string' }, imbalance: { type: 'string' }, binary: { type: 'string' }, 'minority-share': { type: 'string' }, eps: { type: 'string' }, 'proto-placement': { type: 'string' }, profile: { type: 'string' },
    model: { type: 'string' }, widths: { type: 'string' }, classifier: { type: 'string' }, loss: { type: 'string' }, recipe: { type: 'string' }, 'bcl-ablation': { type: 'string' }, tau: { type: 'string' },
    epochs: { type: 'string' }, 'batch-size': { type: 'string' }, sampler: { type: 'string' }, lr: { type: 'string' }, momentum: { type: 'string' },
    nesterov: { type: 'boolean' }, 'weight-decay': { type: 'string' }, 'no-decay-bn-bias': { type: 'boolean' },
    schedule: { type: 'string' }, 'warmup-epochs': { type: 'string' }, milestones: { type: 'string' }, gamma: { type: 'string' },
    pad: { type: 'string' }, 'no-flip': { type: 'boolean' }, seed: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean' },
    lambda: { type: 'string' }, mu: { type: 'string' }, temperature: { type: 'string' }, 'feat-dim': { type: 'string' },
    'probe-fraction': { type: 'string' }, 'probe-steps': { type: 'string' }, 'probe-lr': { type: 'string' },
    'log-every': { type: 'string' }, 'limit-per-class': { type: 'string' }, 'test-per-class': { type: 'string' },
    'reb-ablation': { type: 'string' }, 'reb-weighting': { type: 'string' }, 'reb-classifier': { type: 'string' }, 'reb-ce-weight': { type: 'string' },
    'queue-size': { type: 'string' }, prototypes: { type: 'string' }, 'moco-momentum': { type: 'string' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function num(name: string, v: string | undefined, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0 || (integer && !Number.isInteger(x))) throw new Error(`train: --${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'}, got '${v}'`);
  return x;
}
function oneOf<K extends string>(name: string, v: string | undefined, allowed: readonly K[], fallback: K): K {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as K)) throw new Error(`train: --${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as K;
}
const list = (name: string, v: string | undefined, fallback: number[]) => (v === undefined ? fallback : v.split(',').map((s) => num(name, s, 0, true)));

function pair(name: string, v: number[]): [number, number] {
  if (v.length !== 2) throw new Error(`train: --${name} takes two comma-separated values, got ${v.length}`);
  return [v[0], v[1]];
}

const d = DEFAULT_CONFIG;
if (values.loss !== undefined && values.recipe !== undefined) throw new Error('train: give --recipe or --loss, not both');
const recipe = values.loss !== undefined ? LOSS_RECIPES[oneOf('loss', values.loss, ['ce', 'la', 'bs'] as const, 'ce')] : oneOf('recipe', values.recipe, RECIPES, d.recipe);
if (values['bcl-ablation'] !== undefined && recipe !== 'bcl') throw new Error('train: --bcl-ablation needs --recipe bcl');
if (values['proto-placement'] !== undefined && recipe !== 'supproto') throw new Error('train: --proto-placement needs --recipe supproto');
const REB_FLAGS = ['reb-ablation', 'reb-weighting', 'reb-classifier', 'reb-ce-weight', 'queue-size', 'prototypes', 'moco-momentum'] as const;
for (const flag of REB_FLAGS) if (values[flag] !== undefined && recipe !== 'rebsupcon') throw new Error(`train: --${flag} needs --recipe rebsupcon`);
const r = REB_DEFAULTS;
const cfg: TrainConfig = {
  dataset: oneOf('dataset', values.dataset, ['fashion-mnist'] as const, d.dataset),
  dataDir: values['data-dir'],
  imbalance: num('imbalance', values.imbalance, d.imbalance),
  profile: oneOf('profile', values.profile, ['exp', 'step'] as const, d.profile),
  model: values.model ?? d.model,
  widths: list('widths', values.widths, d.widths),
  classifier: oneOf('classifier', values.classifier, ['linear', 'cosine'] as const, d.classifier),
  recipe,
  bclAblation: oneOf('bcl-ablation', values['bcl-ablation'], BCL_ABLATIONS, d.bclAblation ?? 'full'),
  protoPlacement: oneOf('proto-placement', values['proto-placement'], PROTO_PLACEMENTS, d.protoPlacement ?? 'antipodal'),
  tau: num('tau', values.tau, d.tau),
  lambda: num('lambda', values.lambda, d.lambda),
  mu: num('mu', values.mu, d.mu),
  temperature: num('temperature', values.temperature, defaultTemperature(recipe)),
  featDim: num('feat-dim', values['feat-dim'], d.featDim, true),
  probeFraction: num('probe-fraction', values['probe-fraction'], d.probeFraction),
  probeSteps: num('probe-steps', values['probe-steps'], d.probeSteps, true),
  probeLr: num('probe-lr', values['probe-lr'], d.probeLr),
  epochs: num('epochs', values.epochs, d.epochs, true),
  batchSize: num('batch-size', values['batch-size'], d.batchSize, true),
  sampler: oneOf('sampler', values.sampler, SAMPLER_KINDS, d.sampler),
  lr: num('lr', values.lr, d.lr),
  momentum: num('momentum', values.momentum, d.momentum),
  nesterov: values.nesterov ?? d.nesterov,
  weightDecay: num('weight-decay', values['weight-decay'], d.weightDecay),
  noDecayBnBias: values['no-decay-bn-bias'] ?? d.noDecayBnBias,
  schedule: oneOf('schedule', values.schedule, ['cosine', 'step'] as const, d.schedule),
  warmupEpochs: num('warmup-epochs', values['warmup-epochs'], d.warmupEpochs, true),
  milestones: list('milestones', values.milestones, d.milestones),
  gamma: num('gamma', values.gamma, d.gamma),
  pad: num('pad', values.pad, d.pad, true),
  flip: !values['no-flip'],
  seed: num('seed', values.seed, d.seed, true),
  out: values.out ?? d.out,
  logEvery: num('log-every', values['log-every'], d.logEvery, true) || 1,
  limitPerClass: num('limit-per-class', values['limit-per-class'], d.limitPerClass, true),
  testPerClass: num('test-per-class', values['test-per-class'], d.testPerClass, true),
  binary: values.binary === undefined ? d.binary : pair('binary', list('binary', values.binary, [])),
  minorityShare: num('minority-share', values['minority-share'], d.minorityShare),
  eps: values.eps === undefined ? d.eps : pair('eps', values.eps.split(',').map((v) => num('eps', v, 0))),
  // rebsupcon's settings only where given: a config without them reads as the defaults (REB_DEFAULTS).
  ...(recipe === 'rebsupcon' ? {
    rebAblation: oneOf('reb-ablation', values['reb-ablation'], REB_ABLATIONS, r.rebAblation),
    rebWeighting: oneOf('reb-weighting', values['reb-weighting'], REB_WEIGHTINGS, r.rebWeighting),
    rebClassifier: oneOf('reb-classifier', values['reb-classifier'], REB_CLASSIFIERS, r.rebClassifier),
    rebCeWeight: num('reb-ce-weight', values['reb-ce-weight'], r.rebCeWeight),
    queueSize: num('queue-size', values['queue-size'], r.queueSize, true),
    numPrototypes: num('prototypes', values.prototypes, r.numPrototypes, true),
    mocoMomentum: num('moco-momentum', values['moco-momentum'], r.mocoMomentum),
  } : {}),
};

try {
  const result = await train(cfg, { resume: values.resume });
  console.log(JSON.stringify(result));
  process.exit(0);
} catch (err) {
  console.error(`[train] ${(err as Error).message}`);
  process.exit(1);
}
