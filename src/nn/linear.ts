// Fully connected layers: nn.Linear, and the cosine classifier of BCL (`NormedLinear`).
import { rand } from '../ops/creation.js';
import { add, scale } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { l2Normalize } from '../ops/rowwise.js';
import { transpose } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/**
 * y = x W^T + b with W [out, in] (PyTorch's layout and init: W and b uniform in +-1/sqrt(in), which is
 * kaiming_uniform with a = sqrt(5)).
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', rand([outFeatures, inFeatures], -bound, bound));
    this.bias = opts.bias === false ? null : this.param('bias', rand([outFeatures], -bound, bound));
  }

  forward(x: Tensor): Tensor {
    const y = matmul(x, this.weight, { transB: true });
    return this.bias ? add(y, this.bias) : y;
  }
}

/**
 * Cosine classifier: logits = s * normalize(x, rows) . normalize(W, columns), W [in, out] (BCL's
 * NormedLinear, whose weight is the transpose of nn.Linear's), s = 30 by default. Its init follows
 * BCL: uniform in [-1, 1] (the column norms are divided out anyway).
 */
export class CosineClassifier extends Module {
  readonly weight: Tensor;

  constructor(readonly inFeatures: number, readonly classes: number, readonly s = 30) {
    super();
    this.weight = this.param('weight', rand([inFeatures, classes], -1, 1));
  }

  forward(x: Tensor): Tensor {
    // Columns of W are rows of W^T: normalise those, multiply by W^T transposed back.
    const wn = l2Normalize(transpose(this.weight));
    return scale(matmul(l2Normalize(x), wn, { transB: true }), this.s);
  }
}
