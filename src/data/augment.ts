// Training batches assembled on the device: the dataset stays on the GPU as [images, C, H, W] in [0, 1];
// each step uploads a small plan per output image (source index, one affine map, photometric ops, a
// Cutout box), never pixels, encoded here for the kernel of ops/augment.ts, whose one dispatch builds
// every image of every view. policies.ts draws plans, views.ts runs several policies over one batch of
// indices.
import { augmentImages, checkAugmentable, MAX_OPS } from '../ops/augment.js';
import { tensor } from '../ops/creation.js';
import { assertDType, describe } from '../ops/validate.js';
import { formatShape, Tensor } from '../tensor.js';
import { compose, flipX, identity, inverseRows, padCrop } from './affine.js';
import { checkPhotoOp, PhotoCode } from './photometric.js';
import type { ImagePlan } from './policies.js';

/** Per-channel normalisation: (v - mean) / std. */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/** What the batch plan draws: pad-and-crop offsets up to `pad` pixels, and flips. */
export interface CropFlip {
  pad: number;
  flip: boolean;
}

/**
 * A dataset on the device. 'f32': one float per pixel. 'u8': four uint8 pixels per 32-bit word (value k
 * means k / 255), a quarter of the memory and the same batches; f32 is the default, 10-25 % faster on
 * SwiftShader at 32x32x3 (figures in shaders/augment.wgsl).
 */
export interface DeviceImages {
  /** f32 [images, C, H, W], or u32 [ceil(images C H W / 4)] for 'u8'. */
  data: Tensor;
  format: 'f32' | 'u8';
  shape: [number, number, number, number];
}

/** Floats of one image's plan (PLAN vec4s in shaders/augment.wgsl). */
export const PLAN_FLOATS = 28;

/**
 * Uploads images [images, C, H, W]: uint8 pixels (0..255) or floats in [0, 1]. uint8 input can be kept
 * 'u8'-packed or expanded to 'f32'; float input is kept 'f32'.
 */
export function uploadImages(pixels: Uint8Array | Float32Array, shape: readonly number[], format: 'f32' | 'u8' = 'f32'): DeviceImages {
  const n = shape.reduce((a, b) => a * b, 1);
  if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`uploadImages: shape must be [images, C, H, W] of positive integers, got ${formatShape(shape)}`);
  }
  if (pixels.length !== n) throw new Error(`uploadImages: ${pixels.length} pixels for shape ${formatShape(shape)} (${n})`);
  const s = shape as [number, number, number, number];
  if (format === 'u8') {
    if (!(pixels instanceof Uint8Array)) throw new Error(`uploadImages: format 'u8' needs uint8 pixels, got a ${pixels.constructor.name}`);
    const words = new Uint32Array(Math.ceil(n / 4));
    new Uint8Array(words.buffer).set(pixels);
    return { data: tensor(words, [words.length], 'u32'), format, shape: s };
  }
  const f = pixels instanceof Uint8Array ? Float32Array.from(pixels, (v) => v / 255) : pixels;
  return { data: tensor(f, s), format, shape: s };
}

function asImages(data: Tensor | DeviceImages, what: string): DeviceImages {
  if (!(data instanceof Tensor)) return data;
  assertDType(what, data, ['f32'], 'dataset');
  if (data.rank !== 4) throw new Error(`${what}: dataset must be [images, C, H, W], got ${describe(data)}`);
  return { data, format: 'f32', shape: data.shape as [number, number, number, number] };
}

/** Throws unless `norm` has one mean and one positive std per channel. */
function checkNormalization(norm: Normalization, channels: number, what: string): void {
  if (norm.mean.length !== channels || norm.std.length !== channels || norm.std.some((s) => !(s > 0)) || norm.mean.some((m) => !Number.isFinite(m))) {
    throw new Error(`${what}: need ${channels} means and ${channels} positive stds, got mean [${norm.mean}] std [${norm.std}]`);
  }
}

/**
 * Encodes plans into the kernel's layout, PLAN_FLOATS per image (see shaders/augment.wgsl), checking
 * every entry against the dataset first.
 */
export function encodePlans(plans: readonly ImagePlan[], shape: readonly number[], what = 'encodePlans'): Float32Array {
  const [images, channels, height, width] = shape;
  const out = new Float32Array(plans.length * PLAN_FLOATS);
  plans.forEach((p, b) => {
    if (!(Number.isInteger(p.src) && p.src >= 0 && p.src < images)) throw new Error(`${what}: plan ${b} reads image ${p.src}, outside the ${images} images`);
    if (p.ops.length > MAX_OPS) throw new Error(`${what}: plan ${b} has ${p.ops.length} photometric ops, at most ${MAX_OPS}`);
    const [a, bb, tx, c, d, ty] = inverseRows(p.affine, `${what}: plan ${b}`);
    const o = b * PLAN_FLOATS;
    out.set([a, bb, tx, p.src, c, d, ty, p.ops.length], o);
    const box = p.cutout ?? [0, 0, 0, 0];
    if (!(box[0] >= 0 && box[0] <= box[1] && box[1] <= height && box[2] >= 0 && box[2] <= box[3] && box[3] <= width)) {
      throw new Error(`${what}: plan ${b} Cutout box [${box}] is not [y0, y1, x0, x1] inside ${height}x${width}`);
    }
    out.set(box, o + 8);
    p.ops.forEach((op, k) => {
      checkPhotoOp(op, channels, `${what}: plan ${b}`);
      out.set([PhotoCode[op.kind], op.param ?? 0], o + 12 + 2 * k);
    });
  });
  return out;
}

/**
 * Builds [plans.length, C, H, W]: image b follows plans[b] (shaders/augment.wgsl), normalised per
 * channel. `data` is an f32 tensor [images, C, H, W] or an uploadImages result. Everything is checked
 * before any GPU work.
 */
export function augmentBatch(data: Tensor | DeviceImages, plans: readonly ImagePlan[], norm: Normalization): Tensor {
  const images = asImages(data, 'augmentBatch');
  checkAugmentable(images.shape, 'augmentBatch');
  checkNormalization(norm, images.shape[1], 'augmentBatch');
  const encoded = encodePlans(plans, images.shape, 'augmentBatch');
  return augmentImages(images.data, images.format === 'u8', images.shape, encoded, plans.length, norm);
}

/**
 * The plan of one batch, 4 int32 per image (src, oy, ox, flip). `random` gives uniform numbers in [0, 1):
 * crop origins are uniform in [0, 2 pad] and flips have probability 1/2, as torchvision draws them.
 */
export function cropFlipPlan(indices: ArrayLike<number>, aug: CropFlip, random: () => number): Int32Array {
  const plan = new Int32Array(indices.length * 4);
  for (let b = 0; b < indices.length; b++) {
    plan[4 * b] = indices[b];
    plan[4 * b + 1] = Math.floor(random() * (2 * aug.pad + 1));
    plan[4 * b + 2] = Math.floor(random() * (2 * aug.pad + 1));
    plan[4 * b + 3] = aug.flip && random() < 0.5 ? 1 : 0;
  }
  return plan;
}

/** The plan that gathers `indices` unchanged (evaluation). */
export function gatherPlan(indices: ArrayLike<number>): Int32Array {
  return cropFlipPlan(indices, { pad: 0, flip: false }, () => 0);
}

/**
 * Builds the batch [plan.length / 4, C, H, W] from `data` following `plan` (see cropFlipPlan), padding
 * by `pad` pixels, and normalising each channel: augmentBatch with integer translations and flips,
 * which the kernel reproduces exactly.
 */
export function makeBatch(data: Tensor, plan: Int32Array, pad: number, norm: Normalization): Tensor {
  const images = asImages(data, 'makeBatch');
  const [n, channels] = images.shape;
  if (channels > 4) throw new Error(`makeBatch: at most 4 channels, got ${describe(data)}`);
  checkNormalization(norm, channels, `makeBatch: for ${describe(data)}`);
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`makeBatch: pad must be an integer >= 0, got ${pad}`);
  if (plan.length % 4 !== 0) throw new Error(`makeBatch: a plan has 4 entries per image, got ${plan.length}`);
  const plans: ImagePlan[] = [];
  for (let b = 0; b < plan.length / 4; b++) {
    const [src, oy, ox, flip] = [plan[4 * b], plan[4 * b + 1], plan[4 * b + 2], plan[4 * b + 3]];
    if (!(src >= 0 && src < n) || oy < 0 || oy > 2 * pad || ox < 0 || ox > 2 * pad) {
      throw new Error(`makeBatch: plan entry ${b} (image ${src}, origin ${oy},${ox}) is outside ${n} images / pad ${pad}`);
    }
    const crop = padCrop(pad, oy, ox);
    // torchvision's order: crop, then flip.
    plans.push({ src, affine: flip ? compose(flipX(images.shape[3]), crop) : pad ? crop : identity(), ops: [], cutout: null });
  }
  return augmentBatch(images, plans, norm);
}
