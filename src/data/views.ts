// Multi-view augmentation for contrastive training: V differently augmented views of one batch of
// indices, drawn per step from named Rng streams and built in ONE dispatch (src/data/augment.ts).
import type { Tensor } from '../tensor.js';
import { augmentBatch, type DeviceImages, type Normalization } from './augment.js';
import { checkPolicy, drawImagePlan, type ImagePlan, type Policy } from './policies.js';
import { checkSeed, Rng, STREAM } from './random.js';

/** Views of one batch. */
export interface Views {
  /**
   * [V * B, C, H, W]: view v of image i is row v * B + i, so `[v1; v2; v3]` is already the concatenated
   * batch that BCL and PaCo feed the network (split with narrow/slice on dim 0 when needed).
   */
  batch: Tensor;
  /** The plans drawn, view by view (V * B), for inspection and tests. */
  plans: ImagePlan[];
  views: number;
}

/** Options of {@link augmentViews}. */
export interface ViewOptions {
  seed: number;
  /** Training step (or any counter): each step draws fresh plans. */
  step: number;
  norm: Normalization;
}

/** Plans of V views (one policy each) for `indices`, from streams (seed, STREAM.views, step, v). */
export function drawViewPlans(indices: ArrayLike<number>, policies: readonly Policy[], shape: readonly number[], seed: number, step: number): ImagePlan[] {
  checkSeed(seed, 'drawViewPlans');
  if (!(Number.isInteger(step) && step >= 0 && step < 2 ** 32)) throw new Error(`drawViewPlans: step must be an integer in [0, 2^32), got ${step}`);
  if (policies.length === 0) throw new Error('drawViewPlans: need at least one policy');
  const [images, channels, height, width] = shape;
  const s = { channels, height, width };
  policies.forEach((p, v) => checkPolicy(p, s, `drawViewPlans: view ${v}`));
  for (let i = 0; i < indices.length; i++) {
    if (!(Number.isInteger(indices[i]) && indices[i] >= 0 && indices[i] < images)) {
      throw new Error(`drawViewPlans: index ${indices[i]} at position ${i} is outside the ${images} images`);
    }
  }
  const plans: ImagePlan[] = [];
  policies.forEach((policy, v) => {
    const rng = new Rng(seed, STREAM.views, step, v);
    for (let i = 0; i < indices.length; i++) plans.push(drawImagePlan(policy, rng, s, indices[i]));
  });
  return plans;
}

/**
 * V views of `indices` (view v under policies[v]), normalised by `opts.norm`: e.g. BCL's
 * [RandAugment, SimAugment, SimAugment] or Reb-SupCon's [RandAugment query, SimAugment key].
 * Everything is validated before any GPU work.
 */
export function augmentViews(data: DeviceImages, indices: ArrayLike<number>, policies: readonly Policy[], opts: ViewOptions): Views {
  const plans = drawViewPlans(indices, policies, data.shape, opts.seed, opts.step);
  return { batch: augmentBatch(data, plans, opts.norm), plans, views: policies.length };
}
