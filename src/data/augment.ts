// Training batches assembled on the device (shaders/augment.wgsl): the dataset stays on the GPU as one
// f32 tensor [images, C, H, W] in [0, 1]; each step uploads a small plan (index, crop origin, flip per
// image), never pixels.
import { engine } from '../engine.js';
import { tensor } from '../ops/creation.js';
import { Uniforms } from '../ops/uniforms.js';
import { assertDType, describe } from '../ops/validate.js';
import { Tensor } from '../tensor.js';

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

const WG = 256;

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
 * by `pad` pixels, and normalising each channel.
 */
export function makeBatch(data: Tensor, plan: Int32Array, pad: number, norm: Normalization): Tensor {
  assertDType('makeBatch', data, ['f32'], 'dataset');
  if (data.rank !== 4) throw new Error(`makeBatch: dataset must be [images, C, H, W], got ${describe(data)}`);
  const [images, channels, height, width] = data.shape;
  if (channels > 4) throw new Error(`makeBatch: at most 4 channels, got ${describe(data)}`);
  if (norm.mean.length !== channels || norm.std.length !== channels || norm.std.some((s) => !(s > 0))) {
    throw new Error(`makeBatch: need ${channels} means and ${channels} positive stds for ${describe(data)}, got mean [${norm.mean}] std [${norm.std}]`);
  }
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`makeBatch: pad must be an integer >= 0, got ${pad}`);
  if (plan.length % 4 !== 0) throw new Error(`makeBatch: a plan has 4 entries per image, got ${plan.length}`);
  const batch = plan.length / 4;
  for (let b = 0; b < batch; b++) {
    const [src, oy, ox] = [plan[4 * b], plan[4 * b + 1], plan[4 * b + 2]];
    if (!(src >= 0 && src < images) || oy < 0 || oy > 2 * pad || ox < 0 || ox > 2 * pad) {
      throw new Error(`makeBatch: plan entry ${b} (image ${src}, origin ${oy},${ox}) is outside ${images} images / pad ${pad}`);
    }
  }
  const out = Tensor.empty([batch, channels, height, width]);
  if (out.size === 0) return out;
  const planTensor = tensor(plan, [batch, 4], 'i32');
  const vec4 = (v: readonly number[]) => [0, 1, 2, 3].map((c) => v[c] ?? 0);
  const e = engine();
  e.dispatch({
    family: 'augment',
    entry: 'crop_flip_normalize',
    constants: { WG },
    params: new Uniforms(64).u32(batch, channels, height, width, pad, images, 0, 0).f32(...vec4(norm.mean), ...vec4(norm.std.map((s) => 1 / s))).buffer,
    buffers: [out.bufferFor('makeBatch'), data.bufferFor('makeBatch'), planTensor.bufferFor('makeBatch')],
    groups: e.grid(Math.ceil(out.size / WG)),
  });
  planTensor.dispose();
  return out;
}
