// Augmentation policies: each draws one ImagePlan per image on the host (a few numbers; the pixels are
// transformed on the device by shaders/augment.wgsl). Geometric ops become one affine matrix, composed
// in the order they apply; photometric ops keep their order.
//
// Known deviation from torchvision: inside RandAugment, geometric and photometric ops may interleave;
// here the composed geometric map is sampled first and the photometric ops follow in their drawn
// order. Pointwise ops commute with the geometric part except through the 0 fill and the interpolation;
// contrast, autocontrast and equalize see the transformed image's statistics.
import { MAX_OPS } from '../ops/augment.js';
import { compose, flipX, identity, padCrop, resizedCrop, rotate, sampleResizedCrop, shear, translate, type Affine } from './affine.js';
import { checkColorJitter, drawColorJitter, type ColorJitter, type PhotoOp } from './photometric.js';
import type { Rng } from './random.js';

/** What the kernel does to one image (see shaders/augment.wgsl). */
export interface ImagePlan {
  /** Dataset image to read. */
  src: number;
  /** Forward geometric map (input -> output pixel coordinates). */
  affine: Affine;
  /** Photometric ops, in order. */
  ops: PhotoOp[];
  /** Cutout box [y0, y1) x [x0, x1) set to 0 after everything else, or null. */
  cutout: [number, number, number, number] | null;
}

/** Image geometry the policies draw for. */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** No augmentation: the image as it is (evaluation). */
export interface NonePolicy {
  kind: 'none';
}

/** CIFAR standard: RandomCrop(size, padding=pad) + RandomHorizontalFlip (+ optional Cutout). */
export interface CifarPolicy {
  kind: 'cifar';
  /** Default 4. */
  pad?: number;
  /** Default true. */
  flip?: boolean;
  /** Cutout side length in pixels (DeVries & Taylor, one hole); default 0 = none. */
  cutout?: number;
}

/**
 * SimAugment (SimCLR as used by SupCon / PaCo / BCL on CIFAR): RandomResizedCrop(scale, ratio),
 * RandomHorizontalFlip, RandomApply(ColorJitter(0.4, 0.4, 0.4, 0.1), p = 0.8), RandomGrayscale(p = 0.2).
 */
export interface SimPolicy {
  kind: 'sim';
  /** Area fraction range, default [0.2, 1] (SupCon's CIFAR setting; torchvision's default is [0.08, 1]). */
  scale?: [number, number];
  /** Aspect ratio range, default [3/4, 4/3]. */
  ratio?: [number, number];
  /** Default { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }. */
  jitter?: ColorJitter;
  /** Probability of applying the colour jitter, default 0.8. */
  jitterP?: number;
  /** Probability of grayscale (3-channel images only), default 0.2. */
  grayscaleP?: number;
}

/**
 * RandAugment (torchvision's, num_magnitude_bins = 31): n ops drawn uniformly from Identity, ShearX/Y,
 * TranslateX/Y, Rotate, Brightness, Color, Contrast, Sharpness, Posterize, Solarize, AutoContrast,
 * Equalize, each at magnitude m of 30, the signed ones negated with probability 1/2 (+ optional Cutout).
 * Geometric ops are sampled bilinearly (torchvision's default is nearest).
 */
export interface RandAugmentPolicy {
  kind: 'randaugment';
  /** Ops per image, default 2. */
  n?: number;
  /** Magnitude bin in [0, 30], default 9. */
  m?: number;
  /** Cutout side length in pixels, default 0 = none. */
  cutout?: number;
}

export type Policy = NonePolicy | CifarPolicy | SimPolicy | RandAugmentPolicy;

const SIM_JITTER: ColorJitter = { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 };
const BINS = 31;

/** RandAugment's ops, in torchvision's order. */
export const RAND_AUGMENT_OPS = [
  'identity', 'shearX', 'shearY', 'translateX', 'translateY', 'rotate',
  'brightness', 'color', 'contrast', 'sharpness', 'posterize', 'solarize', 'autocontrast', 'equalize',
] as const;

function checkRange(r: readonly number[] | undefined, lo: number, hi: number, what: string): void {
  if (r === undefined) return;
  if (r.length !== 2 || !(r[0] >= lo && r[0] <= r[1] && r[1] <= hi)) throw new Error(`${what} must be [low, high] with ${lo} <= low <= high <= ${hi}, got [${r}]`);
}

function checkProbability(p: number | undefined, what: string): void {
  if (p !== undefined && !(p >= 0 && p <= 1)) throw new Error(`${what} must be a probability in [0, 1], got ${p}`);
}

function checkLength(v: number | undefined, max: number, what: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= max)) throw new Error(`${what} must be an integer in [0, ${max}], got ${v}`);
}

/** Throws, naming `what` and the field, unless `policy` is valid for images of `shape`. */
export function checkPolicy(policy: Policy, shape: ImageShape, what: string): void {
  const size = Math.max(shape.height, shape.width);
  switch (policy.kind) {
    case 'none':
      return;
    case 'cifar':
      checkLength(policy.pad, size, `${what}: cifar pad`);
      checkLength(policy.cutout, size, `${what}: cifar cutout`);
      return;
    case 'sim':
      checkRange(policy.scale, Number.MIN_VALUE, 1, `${what}: sim scale`);
      checkRange(policy.ratio, Number.MIN_VALUE, Infinity, `${what}: sim ratio`);
      if (policy.jitter) checkColorJitter(policy.jitter, `${what}: sim`);
      checkProbability(policy.jitterP, `${what}: sim jitterP`);
      checkProbability(policy.grayscaleP, `${what}: sim grayscaleP`);
      return;
    case 'randaugment':
      checkLength(policy.n, MAX_OPS, `${what}: randaugment n`);
      checkLength(policy.m, BINS - 1, `${what}: randaugment m`);
      checkLength(policy.cutout, size, `${what}: randaugment cutout`);
      return;
    default:
      throw new Error(`${what}: unknown policy kind '${(policy as { kind: string }).kind}'`);
  }
}

/** DeVries & Taylor's Cutout: a square of side `length` centred uniformly in the image, clipped. */
function drawCutout(rng: Rng, length: number, s: ImageShape): ImagePlan['cutout'] {
  if (!length) return null;
  const y = rng.below(s.height);
  const x = rng.below(s.width);
  const half = Math.floor(length / 2);
  const clip = (v: number, n: number) => Math.min(Math.max(v, 0), n);
  return [clip(y - half, s.height), clip(y + half, s.height), clip(x - half, s.width), clip(x + half, s.width)];
}

function drawRandAugment(rng: Rng, policy: RandAugmentPolicy, s: ImageShape, src: number): ImagePlan {
  const m = policy.m ?? 9;
  let affine = identity();
  const ops: PhotoOp[] = [];
  const level = (max: number) => (max * m) / (BINS - 1);
  for (let k = 0; k < (policy.n ?? 2); k++) {
    const op = RAND_AUGMENT_OPS[rng.below(RAND_AUGMENT_OPS.length)];
    // torchvision draws the sign only for signed ops, after the op.
    const signed = op.startsWith('shear') || op.startsWith('translate') || op === 'rotate' || op === 'brightness' || op === 'color' || op === 'contrast' || op === 'sharpness';
    const sign = signed && rng.below(2) ? -1 : 1;
    switch (op) {
      case 'shearX':
        affine = compose(shear(sign * level(0.3), 0), affine);
        break;
      case 'shearY':
        affine = compose(shear(0, sign * level(0.3)), affine);
        break;
      case 'translateX':
        affine = compose(translate(sign * Math.trunc(level((150 / 331) * s.width)), 0), affine);
        break;
      case 'translateY':
        affine = compose(translate(0, sign * Math.trunc(level((150 / 331) * s.height))), affine);
        break;
      case 'rotate':
        affine = compose(rotate(sign * level(30), s.width, s.height), affine);
        break;
      case 'brightness':
      case 'contrast':
      case 'sharpness':
        ops.push({ kind: op, param: 1 + sign * level(0.9) });
        break;
      case 'color':
        if (s.channels === 3) ops.push({ kind: 'saturation', param: 1 + sign * level(0.9) });
        break;
      case 'posterize':
        ops.push({ kind: 'posterize', param: 8 - Math.round(m / ((BINS - 1) / 4)) });
        break;
      case 'solarize':
        ops.push({ kind: 'solarize', param: 1 - level(1) });
        break;
      case 'autocontrast':
      case 'equalize':
        ops.push({ kind: op });
        break;
      case 'identity':
        break;
    }
  }
  return { src, affine, ops, cutout: drawCutout(rng, policy.cutout ?? 0, s) };
}

/**
 * Draws the plan of one image under `policy` from `rng` (call checkPolicy first). Draw order follows
 * torchvision's transform order, so one stream gives one reproducible sequence of plans.
 */
export function drawImagePlan(policy: Policy, rng: Rng, shape: ImageShape, src: number): ImagePlan {
  const { width: W, height: H, channels: C } = shape;
  switch (policy.kind) {
    case 'none':
      return { src, affine: identity(), ops: [], cutout: null };
    case 'cifar': {
      const pad = policy.pad ?? 4;
      let affine = padCrop(pad, rng.below(2 * pad + 1), rng.below(2 * pad + 1));
      if ((policy.flip ?? true) && rng.float() < 0.5) affine = compose(flipX(W), affine);
      return { src, affine, ops: [], cutout: drawCutout(rng, policy.cutout ?? 0, shape) };
    }
    case 'sim': {
      const box = sampleResizedCrop(rng, W, H, policy.scale ?? [0.2, 1], policy.ratio ?? [3 / 4, 4 / 3]);
      let affine = resizedCrop(box.top, box.left, box.h, box.w, W, H);
      if (rng.float() < 0.5) affine = compose(flipX(W), affine);
      const jitter = rng.float() < (policy.jitterP ?? 0.8);
      const ops = jitter ? drawColorJitter(rng, policy.jitter ?? SIM_JITTER, C) : [];
      if (rng.float() < (policy.grayscaleP ?? 0.2) && C === 3) ops.push({ kind: 'grayscale' });
      return { src, affine, ops, cutout: null };
    }
    case 'randaugment':
      return drawRandAugment(rng, policy, shape, src);
  }
}
