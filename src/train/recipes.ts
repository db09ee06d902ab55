// Training recipes (issue 5): what one training step computes and how a model is evaluated, on top of
// one shared trainer loop (src/train/node/trainer.ts).
//   ce, ce-la, balanced-softmax: supervised baselines (pad-crop-flip batches, CE with an optional prior shift).
//   bcl, supcon-lc: BCL's two-branch framework (SPEC 2): one backbone; logit-compensated CE on view v1
//     (RandAugment) and a contrastive loss on views v2, v3 (SimAugment) through an MLP head.
//   supcon, simclr, supmin, supproto: contrastive pre-training of encoder + projection head on two
//     SimAugment views, evaluated by linear probing on the balanced 1 % probe subset (Two Classes
//     protocol, SPEC 3); supmin and supproto need two classes (the trainer's binary protocol).
//   rebsupcon: Reb-SupCon (SPEC 5, 6) on a MoCo query/key pair with a labelled key queue, the rebalancing
//     factor and the SwAV-style prototype module, with a jointly trained classifier or a linear probe.
import * as T from '../index.js';
import { cropFlipPlan, makeBatch, type DeviceImages, type Normalization } from '../data/augment.js';
import { probeSubset } from '../data/longtail.js';
import type { Policy } from '../data/policies.js';
import { augmentViews } from '../data/views.js';
import { bcl, ntXent, supCon, supMin, supProto } from '../losses/contrastive.js';
import { antipodalPrototypes, fitPrototypes } from '../losses/prototypes.js';
import { perSampleGradNorms, Rebalancer, rebSupCon } from '../losses/rebalance.js';
import { prototypeLoss, renormalizePrototypes } from '../losses/swav.js';
import { classWeightRows, ProjectionHead } from '../nn/heads.js';
import { Linear } from '../nn/linear.js';
import { logitAdjustedCrossEntropy, logitAdjustment } from '../nn/losses.js';
import { copyParameters, KeyQueue, momentumUpdate } from '../nn/moco.js';
import type { Module } from '../nn/module.js';
import type { Classifier } from '../nn/resnet.js';
import { cleanBatches, evaluateClassifier, linearProbe, type Evaluation } from './evaluate.js';

export type RecipeName = 'ce' | 'ce-la' | 'balanced-softmax' | 'bcl' | 'supcon-lc' | 'supcon' | 'simclr' | 'supmin' | 'supproto' | 'rebsupcon';
export const RECIPES: readonly RecipeName[] = ['ce', 'ce-la', 'balanced-softmax', 'bcl', 'supcon-lc', 'supcon', 'simclr', 'supmin', 'supproto', 'rebsupcon'];

/**
 * BCL's Table 2 ablations of recipe bcl: 'full' (Eq. 9: class-complement + class-averaging),
 * 'complement' (prototypes in the contrast set, every column weight 1: `bcl(..., { classAveraging: false })`)
 * and 'averaging' (class-averaging over the batch views, no prototypes and no head_fc: Eq. 6, variant 'L1').
 */
export type BclAblation = 'full' | 'complement' | 'averaging';
export const BCL_ABLATIONS: readonly BclAblation[] = ['full', 'complement', 'averaging'];

/**
 * Where supproto's two fixed prototypes come from (SPEC 3.2, SPEC 7 item 9): 'antipodal' = the released
 * code's random pair [p, −p] drawn from the seed; 'fitted' = the paper's placement, p_maj fitted to the
 * unaugmented training embeddings of the initial encoder ({@link fitPrototypes}), p_min = −p_maj.
 */
export type ProtoPlacement = 'antipodal' | 'fitted';
export const PROTO_PLACEMENTS: readonly ProtoPlacement[] = ['antipodal', 'fitted'];

/**
 * Reb-SupCon's Table 6 ablations of recipe rebsupcon: 'queue' = SupCon on the MoCo queue alone (ω ≡ 1, no
 * prototype module), 'rebalance' = + the rebalancing factor ω, 'prototypes' = + the prototype module
 * (ω ≡ 1), 'full' = both (the method).
 */
export type RebAblation = 'queue' | 'rebalance' | 'prototypes' | 'full';
export const REB_ABLATIONS: readonly RebAblation[] = ['queue', 'rebalance', 'prototypes', 'full'];
/** ω's reading (SPEC 7.16): 'paper' = SPEC 6.1's formula 1 / (1 + α ∇ ω_f); 'inverse' = 1 + α ∇ ω_f. */
export type RebWeighting = 'paper' | 'inverse';
export const REB_WEIGHTINGS: readonly RebWeighting[] = ['paper', 'inverse'];
/** rebsupcon's classifier: 'joint' = a linear classifier trained with the encoder; 'probe' = linear probing. */
export type RebClassifier = 'joint' | 'probe';
export const REB_CLASSIFIERS: readonly RebClassifier[] = ['joint', 'probe'];

/** The settings only recipe rebsupcon reads (absent in a {@link RecipeConfig} = these defaults). */
export interface RebSupConSettings {
  rebAblation: RebAblation;
  rebWeighting: RebWeighting;
  rebClassifier: RebClassifier;
  /** λ_ce of the joint classifier's logit-compensated CE (L = L_reb + L_proto + λ_ce L_LC). */
  rebCeWeight: number;
  /** Q, rows of the labelled key queue (≥ the batch size; need not be a multiple of it). */
  queueSize: number;
  /** K, trainable prototypes of the prototype module. */
  numPrototypes: number;
  /** m of the key encoder's EMA θ_k ← m θ_k + (1 − m) θ_q. */
  mocoMomentum: number;
}

/**
 * rebsupcon's defaults. 'joint': PaCo, whose recipe Reb-SupCon follows (SPEC 7.19), trains its
 * classifier in the same run, and here it sees the whole long-tailed training set (logit-compensated)
 * rather than the probe's 1 %; λ_ce = 1 as PaCo weighs its classifier term. Q = 4096: 32 batches of 128,
 * 28 % of Fashion-MNIST-LT's 14 886 images (PaCo: 8192 of ImageNet-LT's 115.8 K; a larger share would
 * hold keys from too many steps ago). K = 30: three prototypes per class for 10 classes, the ratio of the
 * paper's K = 3000 on ImageNet-LT's 1000 classes, and few enough that a batch of 128 still spreads over
 * every prototype (Sinkhorn's equipartition gives each ≈ B/K ≈ 4 samples). m = 0.999 (MoCo, SPEC 5).
 */
export const REB_DEFAULTS: RebSupConSettings = {
  rebAblation: 'full', rebWeighting: 'paper', rebClassifier: 'joint', rebCeWeight: 1, queueSize: 4096, numPrototypes: 30, mocoMomentum: 0.999,
};

/** The settings the recipes read (a part of the trainer's config). */
export interface RecipeConfig {
  recipe: RecipeName;
  /** Prior shift tau of ce-la, and of the logit compensation of bcl / supcon-lc (SPEC 2.3: 1). */
  tau: number;
  /** Weights of the two-branch loss lambda * L_LC + mu * L_contrastive (BCL's CIFAR values 2 and 0.6). */
  lambda: number;
  mu: number;
  /** Which loss recipe bcl uses ({@link BclAblation}); absent = 'full'. Other recipes take only 'full'. */
  bclAblation?: BclAblation;
  /** Contrastive temperature; see {@link defaultTemperature}. */
  temperature: number;
  /** supproto's pull margins [eps_0, eps_1] (SPEC 3.2: TTC's config 1, 1). */
  eps: [number, number];
  /** supproto's prototype placement; absent = 'antipodal'. */
  protoPlacement?: ProtoPlacement;
  /** rebsupcon's settings ({@link RebSupConSettings}); absent = {@link REB_DEFAULTS}. Other recipes take only the defaults. */
  rebAblation?: RebAblation;
  rebWeighting?: RebWeighting;
  rebClassifier?: RebClassifier;
  rebCeWeight?: number;
  queueSize?: number;
  numPrototypes?: number;
  mocoMomentum?: number;
  /** Output width of the projection head(s). */
  featDim: number;
  /** Linear probe: share of the training set (balanced), full-batch SGD steps and learning rate. */
  probeFraction: number;
  probeSteps: number;
  probeLr: number;
  pad: number;
  flip: boolean;
  seed: number;
  batchSize: number;
}

/**
 * BCL's tau = 0.1 for the two-branch recipes; SupContrast's and TTC's 0.07 for pre-training; Reb-SupCon's
 * 0.2 for rebsupcon (SPEC 6.2: the paper's value on ImageNet-LT and iNaturalist; its 0.05 on CIFAR-100-LT
 * only copies MoCo's setting "for fair comparison", so nothing ties it to small images). Not tuned on
 * Fashion-MNIST.
 */
export function defaultTemperature(recipe: RecipeName): number {
  if (recipe === 'rebsupcon') return 0.2;
  return recipe === 'bcl' || recipe === 'supcon-lc' ? 0.1 : 0.07;
}

/** What a recipe trains on, all on the device. */
export interface RecipeData {
  model: Classifier;
  /** f32 [images, C, H, W] in [0, 1]. */
  trainImages: T.Tensor;
  trainLabels: Int32Array;
  trainCounts: number[];
  testImages: T.Tensor;
  testLabels: Int32Array;
  norm: Normalization;
  /** A fresh model of `model`'s architecture (recipe rebsupcon's key encoder). */
  makeModel: () => Classifier;
}

/** One training step's batch. */
export interface StepInput {
  /** Rows of the training images. */
  indices: Int32Array;
  /** Their labels, i32 [B] on the device. */
  labels: T.Tensor;
  /** Global step (0-based): multi-view plans are drawn from it, so a resumed run draws the same views. */
  step: number;
  /** The epoch's crop-and-flip draws (baselines). */
  random: () => number;
}

export interface Recipe {
  /** Modules saved in the checkpoint, by name prefix ('' = the model: its PyTorch names unchanged). */
  parts: [string, Module][];
  /** The trained parameters, named as in the checkpoint. */
  named: [string, T.Tensor][];
  /** How the evaluation line is labelled: 'eval' (own classifier) or 'probe' (linear probe). */
  evalLabel: string;
  /**
   * Tensors that are not trained by the optimizer but belong to the run's state (fixed prototypes, a key
   * queue, running statistics of a loss), saved in the checkpoint as `state.<name>` and written back on
   * resume. The recipe owns them.
   */
  state?: [string, T.Tensor][];
  /**
   * Prepares a fresh run before its first step (not called on resume: the state comes from the
   * checkpoint), e.g. fits prototypes to the initial encoder's embeddings.
   */
  init?(): Promise<void>;
  /**
   * Called on resume instead of init, once the checkpoint's tensors (the state included) are back, for
   * host-side values kept in state tensors (a queue's write pointer).
   */
  resumed?(): Promise<void>;
  /** The step's scalar loss (called inside a scope; the trainer runs backward). */
  loss(input: StepInput): T.Tensor;
  /**
   * Called in the step's scope after the optimizer step, for updates that must follow the backward
   * (a queue enqueue, an EMA of the weights); no read-back.
   */
  afterStep?(input: StepInput): void;
  /** Test-set accuracies and predictions; `auc` (ROC AUC) too on a binary task. */
  evaluate(): Promise<Evaluation>;
  /** The projection head whose output the contrastive loss sees, if any (the diagnostics save that space too). */
  head?: ProjectionHead;
  dispose(): void;
}

/** RandAugment n = 2, m = 9 (BCL's classifier view), and SimAugment with SupCon's CIFAR crop scale. */
const RAND_AUGMENT: Policy = { kind: 'randaugment', n: 2, m: 9 };
export const SIM_AUGMENT: Policy = { kind: 'sim' };

/** View pairs [B, V, D] from view-major rows [V*B, D] (augmentViews' row v*B + i). */
function byViews(z: T.Tensor, views: number): T.Tensor {
  const b = z.shape[0] / views;
  return T.transpose(T.reshape(z, [views, b, z.shape[1]]), 0, 1);
}

/**
 * Checks the recipe options of `cfg` (values, and options given to a recipe that does not take them) and
 * returns rebsupcon's settings with the defaults filled in. Host-only: the trainer calls it before any
 * GPU work, so a bad option fails at once with a message that names it.
 */
export function checkRecipeConfig(cfg: RecipeConfig): RebSupConSettings {
  const ablation = cfg.bclAblation ?? 'full';
  if (!BCL_ABLATIONS.includes(ablation)) throw new Error(`train: bclAblation must be ${BCL_ABLATIONS.join(', ')}, got ${String(ablation)}`);
  if (ablation !== 'full' && cfg.recipe !== 'bcl') throw new Error(`train: the BCL ablation '${ablation}' needs recipe bcl, got ${cfg.recipe}`);
  const placement = cfg.protoPlacement ?? 'antipodal';
  if (!PROTO_PLACEMENTS.includes(placement)) throw new Error(`train: protoPlacement must be ${PROTO_PLACEMENTS.join(', ')}, got ${String(placement)}`);
  if (placement !== 'antipodal' && cfg.recipe !== 'supproto') throw new Error(`train: the prototype placement '${placement}' needs recipe supproto, got ${cfg.recipe}`);
  const names = Object.keys(REB_DEFAULTS) as (keyof RebSupConSettings)[];
  const reb = Object.fromEntries(names.map((k) => [k, cfg[k] ?? REB_DEFAULTS[k]])) as unknown as RebSupConSettings;
  if (cfg.recipe !== 'rebsupcon') {
    for (const k of names) {
      if (reb[k] !== REB_DEFAULTS[k]) throw new Error(`train: ${k} = ${String(reb[k])} is a Reb-SupCon option and needs recipe rebsupcon, got ${cfg.recipe}`);
    }
    return reb;
  }
  const oneOf = <V extends string>(k: keyof RebSupConSettings, allowed: readonly V[]) => {
    if (!allowed.includes(reb[k] as V)) throw new Error(`train: rebsupcon's ${k} must be one of ${allowed.join(', ')}, got '${String(reb[k])}'`);
  };
  oneOf('rebAblation', REB_ABLATIONS);
  oneOf('rebWeighting', REB_WEIGHTINGS);
  oneOf('rebClassifier', REB_CLASSIFIERS);
  if (!Number.isInteger(reb.queueSize) || reb.queueSize < cfg.batchSize) {
    throw new Error(`train: rebsupcon's queue size ${reb.queueSize} must be an integer ≥ the batch size ${cfg.batchSize} (each step enqueues B keys; Q need not be a multiple of B, the queue wraps around)`);
  }
  if (!Number.isInteger(reb.numPrototypes) || reb.numPrototypes < 1) throw new Error(`train: rebsupcon's numPrototypes must be an integer ≥ 1, got ${reb.numPrototypes}`);
  if (!(reb.mocoMomentum >= 0 && reb.mocoMomentum <= 1)) throw new Error(`train: rebsupcon's mocoMomentum must be in [0, 1], got ${reb.mocoMomentum}`);
  if (!(reb.rebCeWeight >= 0) || !Number.isFinite(reb.rebCeWeight)) throw new Error(`train: rebsupcon's rebCeWeight must be a finite number ≥ 0, got ${reb.rebCeWeight}`);
  const rebalanced = reb.rebAblation === 'rebalance' || reb.rebAblation === 'full';
  if (!rebalanced && reb.rebWeighting !== REB_DEFAULTS.rebWeighting) {
    throw new Error(`train: rebWeighting '${reb.rebWeighting}' needs the rebalancing factor (rebAblation rebalance or full), got rebAblation '${reb.rebAblation}'`);
  }
  const withPrototypes = reb.rebAblation === 'prototypes' || reb.rebAblation === 'full';
  if (!withPrototypes && reb.numPrototypes !== REB_DEFAULTS.numPrototypes) {
    throw new Error(`train: numPrototypes needs the prototype module (rebAblation prototypes or full), got rebAblation '${reb.rebAblation}'`);
  }
  return reb;
}

/** Builds the recipe `cfg.recipe` around `data.model`. */
export function makeRecipe(cfg: RecipeConfig, data: RecipeData): Recipe {
  const reb = checkRecipeConfig(cfg);
  const { model, trainImages, trainLabels, trainCounts, testImages, testLabels, norm } = data;
  const images: DeviceImages = { data: trainImages, format: 'f32', shape: trainImages.shape as [number, number, number, number] };
  const views = (input: StepInput, policies: Policy[]) => augmentViews(images, input.indices, policies, { seed: cfg.seed, step: input.step, norm }).batch;
  const evaluateOwn = () => evaluateClassifier(model, testImages, testLabels, trainCounts, cfg.batchSize, norm);
  const ablation = cfg.bclAblation ?? 'full';
  const placement = cfg.protoPlacement ?? 'antipodal';
  const probeOf = () => {
    const probe = probeSubset(trainLabels, { numClasses: trainCounts.length, seed: cfg.seed, fraction: cfg.probeFraction });
    const probeLabels = Int32Array.from(probe.indices, (i) => trainLabels[i]);
    return () => linearProbe(model, trainImages, probe.indices, probeLabels, testImages, testLabels, trainCounts, {
      steps: cfg.probeSteps, lr: cfg.probeLr, batchSize: cfg.batchSize, norm,
    });
  };
  const base = { parts: [['', model]] as [string, Module][], named: model.namedParameters(), evalLabel: 'eval', evaluate: evaluateOwn };

  switch (cfg.recipe) {
    case 'ce':
    case 'ce-la':
    case 'balanced-softmax': {
      // Balanced softmax is the tau = 1 shift (src/nn/losses.ts).
      const adjustment = cfg.recipe === 'ce' ? null : logitAdjustment(trainCounts, cfg.recipe === 'balanced-softmax' ? 1 : cfg.tau);
      return {
        ...base,
        loss: ({ indices, labels, random }) => {
          const logits = model.forward(makeBatch(trainImages, cropFlipPlan(indices, { pad: cfg.pad, flip: cfg.flip }, random), cfg.pad, norm));
          return adjustment ? logitAdjustedCrossEntropy(logits, labels, adjustment) : T.crossEntropy(logits, labels);
        },
        dispose: () => adjustment?.dispose(),
      };
    }
    case 'bcl':
    case 'supcon-lc': {
      const adjustment = logitAdjustment(trainCounts, cfg.tau);
      const head = new ProjectionHead(model.featureDim, cfg.featDim);
      // BCL's head_fc: same structure as the head, its own weights (SPEC 2.2); SupCon and the
      // class-averaging-only ablation have no prototypes.
      const protoHead = cfg.recipe === 'bcl' && ablation !== 'averaging' ? new ProjectionHead(model.featureDim, cfg.featDim) : null;
      const heads: [string, Module][] = protoHead ? [['head', head], ['head_fc', protoHead]] : [['head', head]];
      return {
        ...base,
        head,
        parts: [...base.parts, ...heads.map(([n, m]): [string, Module] => [`${n}.`, m])],
        named: [...base.named, ...heads.flatMap(([n, m]) => m.namedParameters(`${n}.`))],
        loss: (input) => {
          const b = input.indices.length;
          // [v1; v2; v3] as one batch: the backbone's and the head's batch norms see all 3B rows (SPEC 2.2).
          const feat = model.features(views(input, [RAND_AUGMENT, SIM_AUGMENT, SIM_AUGMENT]));
          const logits = model.fc.forward(T.slice(feat, 0, 0, b));
          const pair = byViews(T.slice(head.forward(feat), 0, b), 2);
          const t = cfg.temperature;
          const contrastive = protoHead
            ? bcl(pair, input.labels, protoHead.forward(classWeightRows(model.fc)), { temperature: t, classAveraging: ablation === 'full' })
            : cfg.recipe === 'bcl'
              ? bcl(pair, input.labels, null, { temperature: t, variant: 'L1', numClasses: trainCounts.length })
              : // T_base = T: mu weighs the plain SupCon mean, as it weighs BCL's (which has no T/T_base factor).
              supCon(pair, input.labels, { temperature: cfg.temperature, baseTemperature: cfg.temperature });
          return T.add(T.scale(logitAdjustedCrossEntropy(logits, input.labels, adjustment), cfg.lambda), T.scale(contrastive, cfg.mu));
        },
        dispose: () => {
          adjustment.dispose();
          for (const [, m] of heads) m.dispose();
        },
      };
    }
    case 'supcon':
    case 'simclr':
    case 'supmin':
    case 'supproto': {
      const binary = cfg.recipe === 'supmin' || cfg.recipe === 'supproto';
      if (binary && trainCounts.length !== 2) throw new Error(`train: recipe ${cfg.recipe} needs two classes (--binary A,B), got ${trainCounts.length}`);
      const head = new ProjectionHead(model.featureDim, cfg.featDim);
      // SupProto's released placement [p, -p] (TTC's simulate_prototypes, SPEC 3.2) drawn from the seed;
      // the fitted placement overwrites it in init(). Either is checkpointed as state.
      const prototypes = cfg.recipe === 'supproto' ? antipodalPrototypes(cfg.featDim, cfg.seed).keep() : null;
      const fitted = prototypes && placement === 'fitted';
      return {
        head,
        parts: [...base.parts, ['head.', head]],
        // The classifier is not trained here: the probe replaces it.
        named: [...model.namedParameters().filter(([n]) => !n.startsWith('fc.')), ...head.namedParameters('head.')],
        evalLabel: 'probe',
        ...(prototypes ? { state: [['prototypes', prototypes]] as [string, T.Tensor][] } : {}),
        ...(fitted ? {
          // The paper fits p_maj once, before training, to the clean embeddings z = head(f(x)) of the
          // training set (evaluation mode, so fitting leaves the batch-norm statistics untouched).
          init: async () => {
            const z = cleanBatches(model, trainImages, null, cfg.batchSize, norm, (x) => head.forward(model.features(x)));
            try {
              T.scope(() => {
                // The binary protocol's label 0 is the majority; a capped, balanced subset keeps that convention.
                const majorityClass = trainCounts[1] > trainCounts[0] ? 1 : 0;
                const fit = fitPrototypes(z, trainLabels, { seed: cfg.seed, majorityClass });
                T.noGrad(() => T.assign(prototypes!, fit));
              });
            } finally {
              z.dispose();
            }
          },
        } : {}),
        loss: (input) => {
          const pair = byViews(head.forward(model.features(views(input, [SIM_AUGMENT, SIM_AUGMENT]))), 2);
          const t = { temperature: cfg.temperature };
          if (cfg.recipe === 'supcon') return supCon(pair, input.labels, t);
          if (cfg.recipe === 'supmin') return supMin(pair, input.labels, t);
          if (prototypes) return supProto(pair, input.labels, prototypes, { ...t, eps: cfg.eps });
          return ntXent(pair, t);
        },
        evaluate: probeOf(),
        dispose: () => {
          head.dispose();
          prototypes?.dispose();
        },
      };
    }
    case 'rebsupcon':
      return rebSupConRecipe(cfg, reb, data, views, probeOf, evaluateOwn);
  }
}

/**
 * Recipe rebsupcon (SPEC 5, 6; README "Reb-SupCon"). Per step, on the view pair [RandAugment query;
 * SimAugment key] of the batch:
 *   1. the query branch: backbone features → projection head → zq (unit rows);
 *   2. the key branch (MoCo): θ_k ← m θ_k + (1 − m) θ_q for the key encoder and key head, then the keys
 *      zk = keyHead(keyEncoder(key view)) without gradient (unit rows);
 *   3. L = L_reb(zq, zk, queue snapshot; ω(y) detached) [+ L_proto(zq, zk, C)] [+ λ_ce L_LC(fc(features))];
 *   4. after backward and the optimizer step: enqueue (zk, y), renormalise C.
 * ω (full / rebalance ablations) comes from the Rebalancer's per-class EMA of previous steps: this step's
 * gradient norms are folded in during its backward, after ω was read.
 */
function rebSupConRecipe(
  cfg: RecipeConfig, reb: RebSupConSettings, data: RecipeData, views: (input: StepInput, policies: Policy[]) => T.Tensor,
  probeOf: () => Recipe['evaluate'], evaluateOwn: Recipe['evaluate'],
): Recipe {
  const { model, trainCounts } = data;
  const b = cfg.batchSize;
  const t = cfg.temperature;
  const m = reb.mocoMomentum;
  const rebalanced = reb.rebAblation === 'rebalance' || reb.rebAblation === 'full';
  const withPrototypes = reb.rebAblation === 'prototypes' || reb.rebAblation === 'full';
  const joint = reb.rebClassifier === 'joint';
  const head = new ProjectionHead(model.featureDim, cfg.featDim);
  // The key branch: the same architectures, θ_k = θ_q at the start (MoCo's copy), then only the EMA moves
  // them, so they are checkpointed (`parts`) but not trained (`named`: SGD never sees them). The key
  // encoder is a whole model, as PaCo's encoder_k; its fc is averaged but unused. Batch-norm running
  // statistics are not averaged (MoCo averages parameters only): the key encoder's come from its own
  // forward passes in training mode, and are checkpointed with it.
  const keyModel = data.makeModel().train();
  const keyHead = new ProjectionHead(model.featureDim, cfg.featDim);
  copyParameters(keyModel, model);
  copyParameters(keyHead, head);
  // PaCo's start: random keys and labels, flushed after ⌈Q/B⌉ steps. The write pointer lives on the host
  // (a uniform of the enqueue kernel) and is mirrored in `ptr` for the checkpoint.
  const queue = new KeyQueue(reb.queueSize, cfg.featDim, trainCounts.length, { seed: cfg.seed });
  const ptr = T.tensor([0], [1], 'i32').keep();
  const rebalancer = rebalanced ? new Rebalancer(trainCounts, { reading: reb.rebWeighting === 'paper' ? 'formula' : 'inverse' }) : null;
  // C [K, D]: SwAV's prototypes, the weight of a bias-free Linear(D, K), unit rows from the start.
  const prototypes = withPrototypes ? new Linear(cfg.featDim, reb.numPrototypes, { bias: false }) : null;
  if (prototypes) renormalizePrototypes(prototypes.weight);
  // The joint classifier: logit-compensated CE (BCL's L_LC, SPEC 2.3, prior shift tau) on the query view's
  // features; its gradient reaches the backbone too, as PaCo's classifier term.
  const adjustment = joint ? logitAdjustment(trainCounts, cfg.tau) : null;
  const trained: [string, Module][] = prototypes ? [['head', head], ['prototypes', prototypes]] : [['head', head]];
  // This step's keys, from loss() to afterStep(): the backward reads the queue snapshot, so the enqueue follows it.
  let keys: T.Tensor | null = null;
  const state: [string, T.Tensor][] = [['queue.keys', queue.keys], ['queue.labels', queue.labels], ['queue.ptr', ptr]];
  if (rebalancer) state.push(['rebalancer.grad_norms', rebalancer.gradNorms], ['rebalancer.seen', rebalancer.seen]);
  return {
    head,
    parts: [['', model], ...trained.map(([n, mod]): [string, Module] => [`${n}.`, mod]), ['key.', keyModel], ['key_head.', keyHead]],
    // The probe replaces the classifier, which is then not trained.
    named: [...model.namedParameters().filter(([n]) => joint || !n.startsWith('fc.')), ...trained.flatMap(([n, mod]) => mod.namedParameters(`${n}.`))],
    evalLabel: joint ? 'eval' : 'probe',
    state,
    resumed: async () => {
      const p = await ptr.item();
      if (!(Number.isInteger(p) && p >= 0 && p < queue.size)) throw new Error(`train: the checkpoint's queue pointer ${p} is outside the queue of ${queue.size}`);
      queue.ptr = p;
    },
    loss: (input) => {
      const x = views(input, [RAND_AUGMENT, SIM_AUGMENT]);
      const feat = model.features(T.slice(x, 0, 0, b));
      const { hidden, output } = head.split(feat);
      // ω(y_i) from the EMA of the previous steps (read before this step's backward updates it), detached.
      const weights = rebalancer?.anchorWeights(input.labels);
      // ∇ (SPEC 6.1): L_i is the rebalanced contrastive loss of anchor i, θ the head's last linear layer
      // y = h Wᵀ + b (this project's choice). The hook sits on the path into L_reb only (L_proto sees y
      // directly) and receives δ = ∂L_reb/∂y during this backward. The batch gradient is Σ_i δ_i [h_i; 1]ᵀ;
      // sample i's term has norm ‖δ_i‖·sqrt(‖h_i‖² + 1), the gradient w.r.t. the copy of (W, b) that sample
      // i's forward uses (the queries are also contrast columns of the other anchors, so this is sample
      // i's share of the batch gradient). × B: L_reb is a mean over the B anchors. ÷ ω(y_i): ∇ measures the
      // class's difficulty, so it is taken before the weighting; this removes ω from the sample's own anchor
      // term (the small share through other anchors' columns keeps their ω). With ω left in, ∇ would feed
      // back into ω: stable for the paper's formula, a runaway for the inverse reading (ω grows with ∇; on
      // the tiny test its loss rose 32 → 44 in two epochs).
      const zq = T.l2Normalize(output);
      const zqReb = rebalancer && weights
        ? T.l2Normalize(T.gradHook(output, (delta) => {
          rebalancer.update(T.div(T.scale(perSampleGradNorms(delta, hidden, { bias: true }), b), weights), input.labels);
        }))
        : zq;
      // MoCo: the EMA first, then the keys, without gradient (unit rows from the key head).
      const zk = T.noGrad(() => {
        momentumUpdate(keyModel, model, m);
        momentumUpdate(keyHead, head, m);
        return keyHead.forward(keyModel.features(T.slice(x, 0, b, 2 * b)));
      });
      keys = zk;
      let loss = rebSupCon(zqReb, zk, input.labels, queue, { temperature: t, weights, normalize: false });
      if (prototypes) loss = T.add(loss, prototypeLoss(zq, zk, prototypes.weight, { temperature: t, normalize: false }).loss);
      if (adjustment) loss = T.add(loss, T.scale(logitAdjustedCrossEntropy(model.fc.forward(feat), input.labels, adjustment), reb.rebCeWeight));
      return loss;
    },
    afterStep: (input) => {
      if (!keys) throw new Error('train: rebsupcon afterStep() without a loss() before it');
      queue.enqueue(keys, input.labels);
      // Recorded as a copy from a fresh upload, not ptr.write(): a write into a buffer the step's recorded
      // work may use would submit that work first, splitting every step's command buffer in two.
      T.assign(ptr, T.tensor([queue.ptr], [1], 'i32'));
      keys = null;
      // SwAV keeps C unit-norm outside the graph: renormalised after every optimizer step.
      if (prototypes) renormalizePrototypes(prototypes.weight);
    },
    evaluate: joint ? evaluateOwn : probeOf(),
    dispose: () => {
      for (const mod of [head, keyModel, keyHead, prototypes]) mod?.dispose();
      for (const tn of [ptr, adjustment]) tn?.dispose();
      queue.dispose();
      rebalancer?.dispose();
    },
  };
}
