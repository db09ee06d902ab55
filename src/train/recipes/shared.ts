// What several recipe families share: augmentation policies, view plumbing, the two evaluations (own
// classifier, linear probe) and the option declarations more than one family takes.
import { type DeviceImages } from '../../data/augment.js';
import { probeSubset } from '../../data/longtail.js';
import type { Policy } from '../../data/policies.js';
import { augmentViews } from '../../data/views.js';
import { reshape, transpose } from '../../ops/shape.js';
import { ProjectionHead } from '../../nn/heads.js';
import type { Tensor } from '../../tensor.js';
import { evaluateClassifier, linearProbe } from '../evaluate.js';
import type { OptionSpec } from '../options.js';
import type { Recipe, RecipeContext, StepInput } from './types.js';

/** RandAugment n = 2, m = 9 (BCL's classifier view). */
export const RAND_AUGMENT: Policy = { kind: 'randaugment', n: 2, m: 9 };
/** SimAugment with SupCon's CIFAR crop scale. */
export const SIM_AUGMENT: Policy = { kind: 'sim' };

/** View pairs [B, V, D] from view-major rows [V*B, D] (augmentViews' row v*B + i). */
export function byViews(z: Tensor, views: number): Tensor {
  const b = z.shape[0] / views;
  return transpose(reshape(z, [views, b, z.shape[1]]), 0, 1);
}

/** The step's views of its batch under `policies`, one batch [V*B, C, H, W] (view v of image i at row v*B + i). */
export function stepViews(ctx: RecipeContext): (input: StepInput, policies: Policy[]) => Tensor {
  const images: DeviceImages = { data: ctx.trainImages, format: 'f32', shape: ctx.trainImages.shape as [number, number, number, number] };
  return (input, policies) => augmentViews(images, input.indices, policies, { seed: ctx.seed, step: input.step, norm: ctx.norm }).batch;
}

/** Evaluation by the model's own classifier on the test set. */
export function evaluateOwn(ctx: RecipeContext): Recipe['evaluate'] {
  return () => evaluateClassifier(ctx.model, ctx.testImages, ctx.testLabels, ctx.trainCounts, ctx.batchSize, ctx.norm);
}

/** Evaluation by a linear probe on the balanced probe subset (options probeFraction, probeSteps, probeLr). */
export function evaluateProbe(ctx: RecipeContext): Recipe['evaluate'] {
  const { trainLabels, trainCounts, options } = ctx;
  const probe = probeSubset(trainLabels, { numClasses: trainCounts.length, seed: ctx.seed, fraction: options.probeFraction as number });
  const probeLabels = Int32Array.from(probe.indices, (i) => trainLabels[i]);
  return () => linearProbe(ctx.model, ctx.trainImages, probe.indices, probeLabels, ctx.testImages, ctx.testLabels, trainCounts, {
    steps: options.probeSteps as number, lr: options.probeLr as number, batchSize: ctx.batchSize, norm: ctx.norm,
  });
}

/** The contrastive temperature τ, with each family's default. */
export const temperature = (defaults: Record<string, number>): OptionSpec => ({
  flag: 'temperature', key: 'temperature', type: 'number', above: 0, arg: 'T', default: undefined, defaults,
  help: 'contrastive temperature τ',
});

/** The prior shift τ of logit adjustment / compensation (BCL's L_LC uses τ = 1). */
export const priorShift = (recipes?: readonly string[]): OptionSpec => ({
  flag: 'tau', key: 'tau', type: 'number', min: 0, arg: 'TAU', default: 1, ...(recipes ? { recipes } : {}),
  help: 'prior shift of the logit adjustment: logits + τ log(n_c / n)',
});

/** The projection head's layout, with each family's default (its paper's code). */
export const projectionHead = (defaults: Record<string, 'mlp' | 'mlp-bn'>): OptionSpec => ({
  flag: 'head', key: 'head', type: 'choice', choices: ['mlp', 'mlp-bn'], default: undefined, defaults,
  help: 'projection head: mlp = Linear-ReLU-Linear (SupContrast, the Two Classes code, MoCo v2), mlp-bn = Linear-BN-ReLU-Linear (BCL)',
});

/** A projection head of `ctx`'s layout (option head) from the backbone's features to `featDim`. */
export function headFor(ctx: RecipeContext, featDim: number): ProjectionHead {
  return new ProjectionHead(ctx.model.featureDim, featDim, undefined, { batchNorm: ctx.options.head === 'mlp-bn' });
}

export const FEAT_DIM: OptionSpec = {
  flag: 'feat-dim', key: 'featDim', type: 'integer', min: 1, arg: 'D', default: 128, help: 'output width of the projection head(s)',
};

/** The linear probe's settings (recipes evaluated by probing). */
export const PROBE_OPTIONS: readonly OptionSpec[] = [
  { flag: 'probe-fraction', key: 'probeFraction', type: 'number', above: 0, max: 1, arg: 'F', default: 0.01, help: 'share of the training set (balanced) the linear probe is trained on' },
  { flag: 'probe-steps', key: 'probeSteps', type: 'integer', min: 1, arg: 'N', default: 200, help: 'full-batch SGD steps of the linear probe' },
  { flag: 'probe-lr', key: 'probeLr', type: 'number', above: 0, arg: 'X', default: 1, help: 'learning rate of the linear probe' },
];
