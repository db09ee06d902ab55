// Convolutional building blocks as modules: Conv2d, BatchNorm (1-d and 2-d), ReLU, pooling, Flatten.
import { full, rand, randn, ones, zeros } from '../ops/creation.js';
import { increment, relu } from '../ops/elementwise.js';
import { reshape } from '../ops/shape.js';
import { batchNorm } from '../ops/batchnorm.js';
import { conv2d } from '../ops/conv.js';
import { globalAvgPool2d, maxPool2d } from '../ops/pool.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** Weight initialisations used by the models. */
export type Init = 'pytorch' | 'kaiming-normal';

/**
 * 2-d convolution over NCHW, weight [out, in, kh, kw] as PyTorch. Init 'pytorch' is nn.Conv2d's
 * (uniform in +-1/sqrt(fan_in)); 'kaiming-normal' is N(0, 2 / fan_in), which the CIFAR ResNets use.
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly opts: { stride?: number; padding?: number; bias?: boolean; init?: Init } = {},
  ) {
    super();
    const fanIn = inChannels * kernel * kernel;
    const shape = [outChannels, inChannels, kernel, kernel];
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.param('weight', opts.init === 'kaiming-normal' ? randn(shape, 0, Math.sqrt(2 / fanIn)) : rand(shape, -bound, bound));
    this.bias = opts.bias === false ? null : this.param('bias', rand([outChannels], -bound, bound));
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias ?? undefined, { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0 });
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, H, W] (PyTorch's BatchNorm1d/2d): batch statistics and a
 * running-average update in training mode, the running statistics in evaluation mode.
 */
export class BatchNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** Training batches seen, int32 [] (PyTorch's int64 num_batches_tracked; it loads either). */
  readonly numBatchesTracked: Tensor;

  constructor(readonly channels: number, readonly momentum = 0.1, readonly eps = 1e-5) {
    super();
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
    this.runningMean = this.buffer('running_mean', zeros([channels]));
    this.runningVar = this.buffer('running_var', ones([channels]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', full([], 0, 'i32'));
  }

  forward(x: Tensor): Tensor {
    const y = batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, { training: this.training, momentum: this.momentum, eps: this.eps });
    if (this.training) increment(this.numBatchesTracked);
    return y;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernel: number, readonly stride = kernel, readonly padding = 0) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernel, this.stride, this.padding);
  }
}

/** [N, C, H, W] -> [N, C]: the mean over each feature map. */
export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

/** [N, ...] -> [N, prod(...)] (a view). */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], x.size / x.shape[0]]);
  }
}
