// Training recipes (issue 5): what one training step computes and how a model is evaluated, on top of
// one shared trainer loop (src/train/node/trainer.ts).
//   ce, ce-la, balanced-softmax: supervised baselines (pad-crop-flip batches, CE with an optional prior shift).
//   bcl, supcon-lc: BCL's two-branch framework (SPEC 2): one backbone; logit-compensated CE on view v1
//     (RandAugment) and a contrastive loss on views v2, v3 (SimAugment) through an MLP head.
//   supcon, simclr, supmin, supproto: contrastive pre-training of encoder + projection head on two
//     SimAugment views, evaluated by linear probing on the balanced 1 % probe subset (Two Classes
//     protocol, SPEC 3); supmin and supproto need two classes (the trainer's binary protocol).
import * as T from '../index.js';
import { cropFlipPlan, makeBatch, type DeviceImages, type Normalization } from '../data/augment.js';
import { probeSubset } from '../data/longtail.js';
import type { Policy } from '../data/policies.js';
import { augmentViews } from '../data/views.js';
import { bcl, ntXent, supCon, supMin, supProto } from '../losses/contrastive.js';
import { antipodalPrototypes } from '../losses/prototypes.js';
import { classWeightRows, ProjectionHead } from '../nn/heads.js';
import { logitAdjustedCrossEntropy, logitAdjustment } from '../nn/losses.js';
import type { Module } from '../nn/module.js';
import type { Classifier } from '../nn/resnet.js';
import { evaluateClassifier, linearProbe, type Evaluation } from './evaluate.js';

export type RecipeName = 'ce' | 'ce-la' | 'balanced-softmax' | 'bcl' | 'supcon-lc' | 'supcon' | 'simclr' | 'supmin' | 'supproto';
export const RECIPES: readonly RecipeName[] = ['ce', 'ce-la', 'balanced-softmax', 'bcl', 'supcon-lc', 'supcon', 'simclr', 'supmin', 'supproto'];

/**
 * BCL's Table 2 ablations of recipe bcl: 'full' (Eq. 9: class-complement + class-averaging),
 * 'complement' (prototypes in the contrast set, every column weight 1: `bcl(..., { classAveraging: false })`)
 * and 'averaging' (class-averaging over the batch views, no prototypes and no head_fc: Eq. 6, variant 'L1').
 */
export type BclAblation = 'full' | 'complement' | 'averaging';
export const BCL_ABLATIONS: readonly BclAblation[] = ['full', 'complement', 'averaging'];

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

/** BCL's tau = 0.1 for the two-branch recipes; SupContrast's and TTC's 0.07 for pre-training. */
export function defaultTemperature(recipe: RecipeName): number {
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
  /** The step's scalar loss (called inside a scope; the trainer runs backward). */
  loss(input: StepInput): T.Tensor;
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

/** Builds the recipe `cfg.recipe` around `data.model`. */
export function makeRecipe(cfg: RecipeConfig, data: RecipeData): Recipe {
  const { model, trainImages, trainLabels, trainCounts, testImages, testLabels, norm } = data;
  const images: DeviceImages = { data: trainImages, format: 'f32', shape: trainImages.shape as [number, number, number, number] };
  const views = (input: StepInput, policies: Policy[]) => augmentViews(images, input.indices, policies, { seed: cfg.seed, step: input.step, norm }).batch;
  const evaluateOwn = () => evaluateClassifier(model, testImages, testLabels, trainCounts, cfg.batchSize, norm);
  const ablation = cfg.bclAblation ?? 'full';
  if (!BCL_ABLATIONS.includes(ablation)) throw new Error(`train: bclAblation must be ${BCL_ABLATIONS.join(', ')}, got ${String(ablation)}`);
  if (ablation !== 'full' && cfg.recipe !== 'bcl') throw new Error(`train: the BCL ablation '${ablation}' needs recipe bcl, got ${cfg.recipe}`);
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
      // SupProto's released placement [p, -p] (TTC's simulate_prototypes, SPEC 3.2), constants drawn from
      // the run's seed alone, so a resumed run has them again.
      const prototypes = cfg.recipe === 'supproto' ? antipodalPrototypes(cfg.featDim, cfg.seed).keep() : null;
      const probe = probeSubset(trainLabels, { numClasses: trainCounts.length, seed: cfg.seed, fraction: cfg.probeFraction });
      const probeLabels = Int32Array.from(probe.indices, (i) => trainLabels[i]);
      return {
        head,
        parts: [...base.parts, ['head.', head]],
        // The classifier is not trained here: the probe replaces it.
        named: [...model.namedParameters().filter(([n]) => !n.startsWith('fc.')), ...head.namedParameters('head.')],
        evalLabel: 'probe',
        loss: (input) => {
          const pair = byViews(head.forward(model.features(views(input, [SIM_AUGMENT, SIM_AUGMENT]))), 2);
          const t = { temperature: cfg.temperature };
          if (cfg.recipe === 'supcon') return supCon(pair, input.labels, t);
          if (cfg.recipe === 'supmin') return supMin(pair, input.labels, t);
          if (prototypes) return supProto(pair, input.labels, prototypes, { ...t, eps: cfg.eps });
          return ntXent(pair, t);
        },
        evaluate: () => linearProbe(model, trainImages, probe.indices, probeLabels, testImages, testLabels, trainCounts, {
          steps: cfg.probeSteps, lr: cfg.probeLr, batchSize: cfg.batchSize, norm,
        }),
        dispose: () => {
          head.dispose();
          prototypes?.dispose();
        },
      };
    }
  }
}
