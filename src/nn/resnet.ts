// Image classifiers for the training stack: the CIFAR ResNets of the long-tailed literature and a small
// CNN that trains in minutes on the CPU fallback.
import { zeros } from '../ops/creation.js';
import { add, relu } from '../ops/elementwise.js';
import { concat, slice } from '../ops/shape.js';
import { formatShape, type Tensor } from '../tensor.js';
import { BatchNorm, Conv2d, Flatten, GlobalAvgPool, MaxPool2d, ReLU } from './layers.js';
import { CosineClassifier, Linear } from './linear.js';
import { Module, Sequential } from './module.js';

/** A model with a feature extractor and a classifier on top (contrastive heads attach to `features`). */
export interface Classifier extends Module {
  /** The representation before the classifier, [N, featureDim]. */
  features(x: Tensor): Tensor;
  readonly featureDim: number;
  /** The classifier applied to the features (a Linear or a CosineClassifier). */
  readonly fc: Module;
}

export interface ModelOptions {
  /** Image channels: 1 for Fashion-MNIST, 3 for CIFAR. */
  inChannels?: number;
  /** 'linear' (nn.Linear) or 'cosine' (BCL's NormedLinear, s = 30). */
  classifier?: 'linear' | 'cosine';
}

/**
 * Option-A shortcut of the CIFAR ResNets (He et al. 2016; LDAM's resnet32): subsample by 2 and pad the
 * channels with zeros, F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4)). No parameters.
 */
function shortcutA(x: Tensor, planes: number): Tensor {
  const sub = slice(slice(x, 2, 0, undefined, 2), 3, 0, undefined, 2);
  const [n, , h, w] = sub.shape;
  const pad = zeros([n, planes / 4, h, w]);
  return concat([pad, sub, pad], 1);
}

class BasicBlock extends Module {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm;
  private readonly downsample: boolean;

  constructor(inPlanes: number, readonly planes: number, stride: number) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false, init: 'kaiming-normal' }));
    this.bn1 = this.child('bn1', new BatchNorm(planes));
    this.conv2 = this.child('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false, init: 'kaiming-normal' }));
    this.bn2 = this.child('bn2', new BatchNorm(planes));
    this.downsample = stride !== 1 || inPlanes !== planes;
  }

  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(relu(this.bn1.forward(this.conv1.forward(x)))));
    return relu(add(out, this.downsample ? shortcutA(x, this.planes) : x));
  }
}

/**
 * ResNet-(6n+2) for 32x32 inputs: conv3x3 -> 16 channels, BN, ReLU; three stages of n BasicBlocks with
 * 16, 32, 64 channels (the first block of stages 2 and 3 has stride 2 and an option-A shortcut); global
 * average pooling; classifier `fc`. Convolutions and a linear classifier use Kaiming-normal init, as
 * LDAM/BCL's `_weights_init`. Names follow PyTorch (`layer1.0.conv1.weight`, `bn1.running_mean`).
 */
export class ResNetCifar extends Module implements Classifier {
  readonly featureDim = 64;
  private readonly inChannels: number;
  private readonly stem: Sequential;
  private readonly stages: Module[];
  private readonly pool = new GlobalAvgPool();
  readonly fc: Module;

  constructor(readonly depth: number, readonly classes: number, opts: ModelOptions = {}) {
    super();
    if (!Number.isInteger((depth - 2) / 6) || depth < 8) throw new Error(`ResNetCifar: depth must be 6n + 2 (8, 14, 20, 32, 44, 56, 110), got ${depth}`);
    const n = (depth - 2) / 6;
    this.inChannels = opts.inChannels ?? 3;
    const conv1 = this.child('conv1', new Conv2d(this.inChannels, 16, 3, { padding: 1, bias: false, init: 'kaiming-normal' }));
    const bn1 = this.child('bn1', new BatchNorm(16));
    this.stem = new Sequential(conv1, bn1, new ReLU());
    let inPlanes = 16;
    this.stages = [16, 32, 64].map((planes, s) => {
      const blocks = Array.from({ length: n }, (_, b) => {
        const block = new BasicBlock(inPlanes, planes, s > 0 && b === 0 ? 2 : 1);
        inPlanes = planes;
        return block;
      });
      return this.child(`layer${s + 1}`, new Sequential(...blocks));
    });
    this.fc = this.child('fc', makeClassifier(this.featureDim, classes, opts));
  }

  features(x: Tensor): Tensor {
    checkInput(`ResNet-${this.depth}`, x, this.inChannels);
    return this.pool.forward(this.stages.reduce((h, stage) => stage.forward(h), this.stem.forward(x)));
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.features(x));
  }
}

/** Throws unless x is [N, channels, H, W] (with H = W = size when given), naming the model. */
function checkInput(model: string, x: Tensor, channels: number, size?: number): void {
  const ok = x.rank === 4 && x.shape[1] === channels && (size === undefined || (x.shape[2] === size && x.shape[3] === size));
  if (!ok) {
    throw new Error(`${model}: expected images [N, ${channels}, ${size ?? 'H'}, ${size ?? 'W'}], got ${formatShape(x.shape)} ${x.dtype}`);
  }
}

function makeClassifier(dim: number, classes: number, opts: ModelOptions): Module {
  return opts.classifier === 'cosine' ? new CosineClassifier(dim, classes) : new Linear(dim, classes);
}

/**
 * A small CNN for the CPU fallback: `widths.length` x [conv3x3 (padding 1) - BN - ReLU - maxpool 2], then
 * a linear classifier on the flattened maps. Children: `features` (a Sequential) and `fc`.
 */
export class SmallCNN extends Module implements Classifier {
  readonly featureDim: number;
  private readonly inChannels: number;
  private readonly inputSize: number;
  private readonly body: Sequential;
  readonly fc: Module;

  constructor(readonly classes: number, opts: ModelOptions & { widths?: number[]; inputSize?: number } = {}) {
    super();
    const widths = opts.widths ?? [16, 32, 64];
    this.inChannels = opts.inChannels ?? 3;
    this.inputSize = opts.inputSize ?? 32;
    let channels = this.inChannels;
    let size = this.inputSize;
    const layers: Module[] = [];
    for (const w of widths) {
      layers.push(new Conv2d(channels, w, 3, { padding: 1, init: 'kaiming-normal' }), new BatchNorm(w), new ReLU(), new MaxPool2d(2));
      channels = w;
      size = Math.floor(size / 2);
    }
    if (size < 1) throw new Error(`SmallCNN: input size ${opts.inputSize} is too small for ${widths.length} pooling stages`);
    layers.push(new Flatten());
    this.body = this.child('features', new Sequential(...layers));
    this.featureDim = channels * size * size;
    this.fc = this.child('fc', makeClassifier(this.featureDim, classes, opts));
  }

  features(x: Tensor): Tensor {
    checkInput('SmallCNN', x, this.inChannels, this.inputSize);
    return this.body.forward(x);
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.features(x));
  }
}
