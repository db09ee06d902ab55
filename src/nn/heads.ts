// Projection heads of the contrastive recipes, L2-normalised: Linear(in, hidden) -> ReLU -> Linear(hidden,
// out) as SupContrast's and MoCo v2's, or with BatchNorm1d after the first layer as BCL's `head` /
// `head_fc` (docs/paper-vs-code.md SC-5, BCL-7).
import { l2Normalize } from '../ops/rowwise.js';
import { transpose } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { BatchNorm, ReLU } from './layers.js';
import { CosineClassifier, Linear } from './linear.js';
import { Sequential, type Module } from './module.js';

/**
 * The MLP head, children named 0..3 as torch's nn.Sequential (`head.0.weight`, `head.1.running_mean`).
 * forward returns unit rows [N, out]: every loss it feeds compares directions.
 */
export class ProjectionHead extends Sequential {
  /**
   * `batchNorm` true: Linear-BN-ReLU-Linear (BCL's heads; children 0..3); false: Linear-ReLU-Linear
   * (SupContrast's and the Two Classes code's `mlp` head, MoCo v2's; children 0..2).
   */
  constructor(readonly inFeatures: number, readonly outFeatures: number, hidden = inFeatures, opts: { batchNorm?: boolean } = {}) {
    super(...(opts.batchNorm ?? true
      ? [new Linear(inFeatures, hidden), new BatchNorm(hidden), new ReLU(), new Linear(hidden, outFeatures)]
      : [new Linear(inFeatures, hidden), new ReLU(), new Linear(hidden, outFeatures)]));
  }

  override forward(x: Tensor): Tensor {
    return l2Normalize(this.split(x).output);
  }

  /**
   * The head up to its last linear layer: `hidden` = that layer's input h [N, hidden] (after the ReLU)
   * and `output` = h Wᵀ + b [N, out] before the L2 normalisation (forward = l2Normalize(output)). For the
   * per-sample gradient norm of the last layer (Reb-SupCon's ∇, src/losses/rebalance.ts), which needs h
   * and the gradient arriving at `output`.
   */
  split(x: Tensor): { hidden: Tensor; output: Tensor } {
    const hidden = this.layers.slice(0, -1).reduce((h, m) => m.forward(h), x);
    return { hidden, output: this.layers[this.layers.length - 1].forward(hidden) };
  }
}

/**
 * The raw classifier weight as one row per class, [K, in]: nn.Linear's weight as it is, the cosine
 * classifier's [in, K] transposed (BCL feeds `fc.weight.T` of its NormedLinear to `head_fc`;
 * docs/paper-vs-code.md BCL-8).
 */
export function classWeightRows(fc: Module): Tensor {
  if (fc instanceof CosineClassifier) return transpose(fc.weight);
  if (fc instanceof Linear) return fc.weight;
  throw new Error(`classWeightRows: expected a Linear or CosineClassifier, got ${fc.constructor.name}`);
}
