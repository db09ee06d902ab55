// Batches built on the device: gather + pad-and-crop + flip + normalise against a CPU reference.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { cropFlipPlan, gatherPlan, makeBatch } from '../src/data/augment.js';
import { expectClose, rng } from './reference/check.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const [N, C, H, W] = [5, 3, 5, 7];
const next = rng(77);
const pixels = Float32Array.from({ length: N * C * H * W }, () => 0.05 + 0.9 * next());
const norm = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.5] };

/** torchvision's RandomCrop(padding=pad) + flip + Normalize, on one image, in float64. */
function reference(plan: Int32Array, pad: number): Float64Array {
  const batch = plan.length / 4;
  const out = new Float64Array(batch * C * H * W);
  for (let b = 0; b < batch; b++) {
    const [src, oy, ox, flip] = plan.subarray(4 * b, 4 * b + 4);
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const sy = y + oy - pad;
          const sx = (flip ? W - 1 - x : x) + ox - pad;
          const v = sy >= 0 && sy < H && sx >= 0 && sx < W ? pixels[((src * C + c) * H + sy) * W + sx] : 0;
          out[((b * C + c) * H + y) * W + x] = (v - norm.mean[c]) / norm.std[c];
        }
      }
    }
  }
  return out;
}

describe('makeBatch', () => {
  it('crops, flips and normalises every image as planned (repeated indices, corner crops)', async () => {
    const data = T.tensor(pixels, [N, C, H, W]);
    const pad = 2;
    const plan = cropFlipPlan([4, 0, 2, 2, 1, 3], { pad, flip: true }, next);
    // Force the extreme origins and both flip states to appear.
    plan.set([4, 0, 0, 1], 0);
    plan.set([0, 4, 4, 0], 4);
    const batch = makeBatch(data, plan, pad, norm);
    expect(batch.shape).toEqual([6, C, H, W]);
    expectClose((await batch.read()) as Float32Array, reference(plan, pad), 1e-6, 'augmented batch');
    const evalBatch = makeBatch(data, gatherPlan([3, 1]), 0, norm);
    expectClose((await evalBatch.read()) as Float32Array, reference(gatherPlan([3, 1]), 0), 1e-6, 'evaluation batch');
    for (const t of [data, batch, evalBatch]) t.dispose();
  });

  it('plans are reproducible and cover every offset and both flips', () => {
    const a = cropFlipPlan(Array.from({ length: 400 }, (_, i) => i % N), { pad: 4, flip: true }, rng(5));
    const b = cropFlipPlan(Array.from({ length: 400 }, (_, i) => i % N), { pad: 4, flip: true }, rng(5));
    expect(Array.from(a)).toEqual(Array.from(b));
    const origins = new Set<number>();
    let flips = 0;
    for (let i = 0; i < 400; i++) {
      origins.add(a[4 * i + 1]);
      flips += a[4 * i + 3];
    }
    expect([...origins].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(flips).toBeGreaterThan(150);
    expect(flips).toBeLessThan(250);
  });

  it('refuses bad plans and shapes before any GPU work', () => {
    const data = T.tensor(pixels, [N, C, H, W]);
    const before = T.engine().dispatchCount;
    expect(() => makeBatch(data, Int32Array.from([5, 0, 0, 0]), 0, norm)).toThrow(/plan entry 0 \(image 5, origin 0,0\) is outside 5 images/);
    expect(() => makeBatch(data, Int32Array.from([0, 3, 0, 0]), 1, norm)).toThrow(/outside 5 images \/ pad 1/);
    expect(() => makeBatch(data, gatherPlan([0]), 0, { mean: [0.5], std: [1] })).toThrow(/need 3 means and 3 positive stds/);
    expect(() => makeBatch(T.reshape(data, [N * C, H, W]), gatherPlan([0]), 0, norm)).toThrow(/dataset must be \[images, C, H, W\]/);
    expect(T.engine().dispatchCount).toBe(before);
    data.dispose();
  });
});
