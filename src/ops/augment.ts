// Augmented images in one dispatch (shaders/augment.wgsl): one workgroup per output image reads its
// source image from a dataset on the device and applies a plan (affine map, photometric ops, Cutout,
// normalisation). The plans are drawn and encoded in data/ (policies.ts, augment.ts); this module knows
// only the kernel: its limits, its workgroup memory and its launch.
import { engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { tensor } from './creation.js';
import { Uniforms } from './uniforms.js';

/** Photometric ops per image the kernel holds (MAX_OPS in shaders/augment.wgsl). */
export const MAX_OPS = 8;
/** Largest image the kernel holds in workgroup memory (CAP in shaders/augment.wgsl). */
const MAX_IMAGE_ELEMENTS = 4096;

/**
 * Threads per workgroup: the whole image is one workgroup's work. CPU adapters want one SIMD vector
 * (SwiftShader, 3x32x32 SimAugment views: 1128/s at 4 threads, 492/s at 16, 271/s at 64).
 */
function workgroupSize(): number {
  return Math.min(64, Math.max(4, engine().cooperativeThreads));
}

/** Workgroup array sizes of shaders/augment.wgsl for one image shape. */
function workgroupArrays(channels: number, height: number, width: number) {
  return { CAP: Math.ceil((channels * height * width) / 256) * 256, CH: channels, WG: workgroupSize() };
}

/** Bytes of workgroup memory the kernel declares: image, histograms, levels, partials, op list. */
function workgroupBytes(channels: number, height: number, width: number): number {
  const a = workgroupArrays(channels, height, width);
  return 4 * (a.CAP + 256 * a.CH + 256 + 8 * a.WG + 8 + 2 * MAX_OPS + 1);
}

/** Throws unless the kernel can build images from a dataset [images, C, H, W] on this adapter; `what` names the caller. */
export function checkAugmentable(shape: readonly number[], what: string): void {
  const [n, channels, height, width] = shape;
  if (channels > 4) throw new Error(`${what}: at most 4 channels, got [${shape}]`);
  if (channels * height * width > MAX_IMAGE_ELEMENTS) {
    throw new Error(`${what}: an image of ${channels}x${height}x${width} exceeds the kernel's ${MAX_IMAGE_ELEMENTS} elements`);
  }
  if (n >= 2 ** 24) throw new Error(`${what}: at most 2^24 images (indices travel as f32), got ${n}`);
  const bytes = workgroupBytes(channels, height, width);
  const limit = engine().limits.maxComputeWorkgroupStorageSize;
  if (bytes > limit) {
    throw new Error(`${what}: a ${channels}x${height}x${width} image needs ${bytes} bytes of workgroup memory, this adapter allows ${limit}`);
  }
}

/**
 * Builds [count, C, H, W] from `dataset` (f32 [images, C, H, W], or uint8 pixels packed four a u32 word
 * when `packed`) of logical `shape`, following `plans` (count encoded plans, see data/augment.ts
 * encodePlans) and normalising channel c as (v − mean[c]) / std[c]. The caller checks everything first
 * ({@link checkAugmentable}, the plans, the normalisation).
 */
export function augmentImages(
  dataset: Tensor, packed: boolean, shape: readonly number[], plans: Float32Array, count: number,
  norm: { mean: readonly number[]; std: readonly number[] },
): Tensor {
  const op = 'augmentBatch';
  const [n, channels, height, width] = shape;
  const out = Tensor.empty([count, channels, height, width]);
  if (out.size === 0) return out;
  // The kernel's uint8 level table, k / 255 rounded once here (see shaders/augment.wgsl).
  const buffer = new Float32Array(256 + plans.length);
  for (let k = 0; k < 256; k++) buffer[k] = k / 255;
  buffer.set(plans, 256);
  const planTensor = tensor(buffer, [buffer.length]);
  const vec4 = (v: readonly number[]) => [0, 1, 2, 3].map((c) => v[c] ?? 0);
  const e = engine();
  e.dispatch({
    family: 'augment',
    entry: 'augment',
    // Workgroup arrays sized to the image (rounded up to 256 floats, so few pipelines are compiled).
    constants: { ...workgroupArrays(channels, height, width), PACKED: packed },
    params: new Uniforms(64).u32(count, channels, height, width, n, 0, 0, 0).f32(...vec4(norm.mean), ...vec4(norm.std.map((s) => 1 / s))).buffer,
    buffers: [out.bufferFor(op), dataset.bufferFor(op), planTensor.bufferFor(op)],
    groups: e.grid(count),
  });
  planTensor.dispose();
  return out;
}
