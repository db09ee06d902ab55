// The augmentation kernel (shaders/augment.wgsl) op by op against a float64 CPU reference, the
// policies' parameter draws, multi-view determinism, and rejection of bad input before GPU work.
import { mat3 } from 'gl-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { compose, flipX, identity, padCrop, resizedCrop, rotate, sampleResizedCrop, shear, translate, type Affine } from '../src/data/affine.js';
import { augmentBatch, encodePlans, uploadImages, type DeviceImages } from '../src/data/augment.js';
import type { PhotoOp } from '../src/data/photometric.js';
import { drawImagePlan, type ImagePlan, type Policy } from '../src/data/policies.js';
import { Rng } from '../src/data/random.js';
import { augmentViews, drawViewPlans } from '../src/data/views.js';
import { expectRejectedBeforeGpu } from './helpers.js';
import { referenceAugment } from './reference/augment.js';
import { expectClose, rng } from './reference/check.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const RAW = { mean: [0, 0, 0], std: [1, 1, 1] };
const raw = (c: number) => ({ mean: RAW.mean.slice(0, c), std: RAW.std.slice(0, c) });

/** Random uint8 images [n, c, h, w] with levels in [lo, hi], and their float copy k / 255. */
function images(n: number, c: number, h: number, w: number, seed: number, lo = 0, hi = 255) {
  const next = rng(seed);
  const u8 = Uint8Array.from({ length: n * c * h * w }, () => lo + Math.floor(next() * (hi - lo + 1)));
  const f32 = Float32Array.from(u8, (v) => v / 255);
  return { u8, f32, shape: [n, c, h, w] };
}

/** Runs plans on the GPU and on the reference; returns both, image by image. */
async function run(set: ReturnType<typeof images>, data: DeviceImages, plans: ImagePlan[], norm = raw(set.shape[1])) {
  const out = augmentBatch(data, plans, norm);
  const got = (await out.read()) as Float32Array;
  out.dispose();
  const want = referenceAugment(set.f32, set.shape, encodePlans(plans, set.shape), norm);
  const per = got.length / plans.length;
  return plans.map((_, b) => ({ got: got.subarray(b * per, (b + 1) * per), want: want.subarray(b * per, (b + 1) * per) }));
}

const plan = (src: number, affine: Affine = identity(), ops: PhotoOp[] = [], cutout: ImagePlan['cutout'] = null): ImagePlan => ({ src, affine, ops, cutout });

describe.each([3, 1])('geometric ops, %i channel(s), 7x9 images', (C) => {
  const [H, W] = [7, 9];
  const set = images(3, C, H, W, 10 + C);
  let data: DeviceImages;
  beforeAll(() => {
    data = uploadImages(set.f32, set.shape);
  });

  it('identity and integer maps (flip, pad-and-crop) return input pixels exactly', async () => {
    const res = await run(set, data, [plan(2), plan(0, flipX(W)), plan(1, padCrop(2, 0, 3)), plan(1, compose(flipX(W), padCrop(4, 8, 1)))]);
    const n = C * H * W;
    expect(Array.from(res[0].got)).toEqual(Array.from(set.f32.subarray(2 * n, 3 * n)));
    for (const r of res) expect(Array.from(r.got)).toEqual(Array.from(r.want, Math.fround));
  });

  it('rotation, shear, translation, resized crop and their composition match the float64 reference', async () => {
    const box = sampleResizedCrop(new Rng(3), W, H, [0.2, 1], [3 / 4, 4 / 3]);
    const maps = [
      rotate(17, W, H),
      rotate(-90, W, H),
      shear(0.3, 0),
      shear(0, -0.21, W / 2, H / 2),
      translate(1.25, -2.5),
      resizedCrop(box.top, box.left, box.h, box.w, W, H),
      resizedCrop(1, 2, 4, 5, W, H),
      compose(rotate(12, W, H), compose(shear(-0.1, 0.05), compose(flipX(W), resizedCrop(0, 1, 6, 7, W, H)))),
    ];
    const res = await run(set, data, maps.map((m, k) => plan(k % 3, m)));
    res.forEach((r, k) => expectClose(r.got, r.want, 2e-6, `map ${k}`));
    // The maps do move pixels: the output is not the source image.
    expect(Array.from(res[0].got)).not.toEqual(Array.from(set.f32.subarray(0, C * H * W)));
  });
});

describe('photometric ops', () => {
  const rgb = images(3, 3, 7, 9, 21);
  const mono = images(3, 1, 7, 9, 22);
  // Histogram ops need more pixels than bins to do anything; narrow level ranges make them visible.
  const rgbBig = images(2, 3, 23, 25, 23, 30, 160);
  const monoBig = images(2, 1, 29, 31, 24, 60, 140);
  const gpu: DeviceImages[] = [];
  beforeAll(() => {
    for (const s of [rgb, mono, rgbBig, monoBig]) gpu.push(uploadImages(s.u8, s.shape, 'f32'));
  });

  const continuous: PhotoOp[] = [
    { kind: 'brightness', param: 1.37 },
    { kind: 'brightness', param: 0.45 },
    { kind: 'contrast', param: 1.6 },
    { kind: 'contrast', param: 0.3 },
    { kind: 'solarize', param: 0.55 },
    { kind: 'autocontrast' },
    { kind: 'sharpness', param: 1.8 },
    { kind: 'sharpness', param: 0.1 },
  ];
  const rgbOnly: PhotoOp[] = [
    { kind: 'saturation', param: 1.8 },
    { kind: 'saturation', param: 0.2 },
    { kind: 'hue', param: 0.09 },
    { kind: 'hue', param: -0.5 },
    { kind: 'grayscale' },
  ];

  it('brightness, contrast, saturation, hue, grayscale, solarize, autocontrast, sharpness (3 channels) match within 1e-6', async () => {
    const ops = [...continuous, ...rgbOnly];
    const res = await run(rgb, gpu[0], ops.map((op, k) => plan(k % 3, identity(), [op])));
    res.forEach((r, k) => expectClose(r.got, r.want, 1e-6, `${ops[k].kind} ${ops[k].param ?? ''}`));
    // A colour-jitter chain in a torchvision order, then grayscale.
    const chain = await run(rgb, gpu[0], [plan(1, identity(), [{ kind: 'hue', param: -0.07 }, { kind: 'contrast', param: 0.7 }, { kind: 'saturation', param: 1.3 }, { kind: 'brightness', param: 1.2 }, { kind: 'grayscale' }])]);
    expectClose(chain[0].got, chain[0].want, 1e-6, 'jitter chain');
  });

  it('the channel-agnostic subset on 1-channel images matches within 1e-6', async () => {
    const res = await run(mono, gpu[1], continuous.map((op, k) => plan(k % 3, identity(), [op])));
    res.forEach((r, k) => expectClose(r.got, r.want, 1e-6, `${continuous[k].kind} ${continuous[k].param ?? ''}`));
  });

  it('posterize and equalize are exact on quantised inputs (uint8 semantics), 3 and 1 channels', async () => {
    const ops: PhotoOp[] = [{ kind: 'posterize', param: 4 }, { kind: 'posterize', param: 7 }, { kind: 'posterize', param: 1 }, { kind: 'equalize' }];
    for (const [set, data] of [[rgbBig, gpu[2]], [monoBig, gpu[3]], [rgb, gpu[0]]] as const) {
      const res = await run(set, data, ops.map((op, k) => plan(k % 2, identity(), [op])));
      res.forEach((r, k) => expect(Array.from(r.got), `${ops[k].kind} ${ops[k].param ?? ''} on [${set.shape}]`).toEqual(Array.from(r.want, Math.fround)));
    }
    // Equalize did change the large images, and left the 63-pixel ones (step 0) as they were.
    const eq = await run(monoBig, gpu[3], [plan(0, identity(), [{ kind: 'equalize' }])]);
    expect(Array.from(eq[0].got)).not.toEqual(Array.from(monoBig.f32.subarray(0, 29 * 31)));
  });

  it('Cutout zeroes its box before normalisation; normalisation uses each channel mean / std', async () => {
    const norm = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.3, 0.25] };
    const res = await run(rgb, gpu[0], [plan(0, rotate(10, 9, 7), [{ kind: 'contrast', param: 1.2 }], [1, 4, 2, 9]), plan(2, identity(), [], [0, 7, 0, 0])], norm);
    for (const r of res) expectClose(r.got, r.want, 2e-6, 'cutout + normalise');
    expect(res[0].got[(0 * 7 + 2) * 9 + 5]).toBeCloseTo(-0.4 / 0.2, 5);
  });

  it('the uint8-packed dataset gives the same batch as the f32 one', async () => {
    const packed = uploadImages(rgb.u8, rgb.shape, 'u8');
    const plans = [plan(1, rotate(33, 9, 7), [{ kind: 'equalize' }]), plan(2, flipX(9), [{ kind: 'hue', param: 0.2 }]), plan(0)];
    const a = augmentBatch(packed, plans, raw(3));
    const b = augmentBatch(gpu[0], plans, raw(3));
    expect(Array.from((await a.read()) as Float32Array)).toEqual(Array.from((await b.read()) as Float32Array));
    for (const t of [a, b, packed.data]) t.dispose();
  });
});

describe('policies', () => {
  const shape = { channels: 3, height: 32, width: 32 };
  const draw = (policy: Policy, n: number, seed = 1) => {
    const r = new Rng(seed, 5);
    return Array.from({ length: n }, (_, i) => drawImagePlan(policy, r, shape, i % 7));
  };
  /** Forward linear part of the affine and its translation. */
  const linear = (m: Affine) => [m[0], m[1], m[3], m[4], m[6], m[7]];

  it('SimAugment draws crops, flips, jitter (p 0.8) and grayscale (p 0.2) in their ranges', () => {
    const plans = draw({ kind: 'sim' }, 2000);
    let flips = 0;
    let jittered = 0;
    let grays = 0;
    for (const p of plans) {
      const [sx, , , sy, tx, ty] = linear(p.affine);
      expect(p.affine[1]).toBe(0);
      expect(p.affine[3]).toBe(0);
      flips += +(sx < 0);
      // Crop of w x h pixels scaled to 32 x 32: area fraction w h / 1024 in [0.2, 1] up to rounding.
      const [w, h] = [32 / Math.abs(sx), 32 / sy];
      expect(w * h).toBeGreaterThanOrEqual(0.2 * 1024 - 2 * 32);
      expect(w * h).toBeLessThanOrEqual(1024 + 1e-3);
      expect(Number.isFinite(tx + ty)).toBe(true);
      const jitter = p.ops.filter((o) => o.kind !== 'grayscale');
      if (jitter.length) {
        jittered++;
        expect(jitter.map((o) => o.kind).sort()).toEqual(['brightness', 'contrast', 'hue', 'saturation']);
        for (const o of jitter) {
          if (o.kind === 'hue') expect(Math.abs(o.param!)).toBeLessThanOrEqual(0.1);
          else expect(o.param!).toBeGreaterThanOrEqual(0.6), expect(o.param!).toBeLessThanOrEqual(1.4);
        }
      }
      grays += +p.ops.some((o) => o.kind === 'grayscale');
    }
    expect(flips / 2000).toBeCloseTo(0.5, 1);
    expect(jittered / 2000).toBeCloseTo(0.8, 1);
    expect(grays / 2000).toBeCloseTo(0.2, 1);
    // The jitter order varies (torchvision's randperm).
    const orders = plans.map((p) => p.ops.filter((o) => o.kind !== 'grayscale').map((o) => o.kind).join()).filter((o) => o);
    expect(new Set(orders).size).toBe(24);
    // 1-channel images: brightness and contrast only, never grayscale.
    const r = new Rng(2);
    for (let i = 0; i < 200; i++) {
      const p = drawImagePlan({ kind: 'sim' }, r, { channels: 1, height: 28, width: 28 }, 0);
      for (const o of p.ops) expect(['brightness', 'contrast']).toContain(o.kind);
    }
  });

  it('RandAugment draws n ops at magnitude m with torchvision magnitudes (m = 9 of 30)', () => {
    const plans = draw({ kind: 'randaugment', n: 2, m: 9, cutout: 8 }, 3000);
    const seen = new Set<string>();
    for (const p of plans) {
      expect(p.ops.length).toBeLessThanOrEqual(2);
      for (const o of p.ops) {
        seen.add(o.kind);
        if (o.kind === 'brightness' || o.kind === 'contrast' || o.kind === 'saturation' || o.kind === 'sharpness') expect([0.73, 1.27]).toContain(Math.round(o.param! * 100) / 100);
        if (o.kind === 'posterize') expect(o.param).toBe(7);
        if (o.kind === 'solarize') expect(o.param).toBeCloseTo(0.7, 12);
      }
      // Geometric part: rotation <= 9 degrees, shear <= 0.09, translation <= trunc(150/331 * 32 * 0.3) = 4.
      const [a, b, c, d, tx, ty] = linear(p.affine);
      expect(Math.abs(a * d - b * c)).toBeCloseTo(1, 5);
      expect(Math.abs(tx) + Math.abs(ty)).toBeLessThanOrEqual(2 * 4 + 32 * 0.2);
      const [y0, y1, x0, x1] = p.cutout!;
      expect(y1 - y0).toBeLessThanOrEqual(8);
      expect(x1 - x0).toBeLessThanOrEqual(8);
    }
    expect([...seen].sort()).toEqual(['autocontrast', 'brightness', 'contrast', 'equalize', 'posterize', 'saturation', 'sharpness', 'solarize']);
    const geometric = plans.filter((p) => Array.from(p.affine).some((v, i) => v !== identity()[i])).length;
    // 2 draws from 14 ops, 5 of them geometric: P(any) = 1 - (9/14)^2 = 0.59.
    expect(geometric / 3000).toBeCloseTo(0.59, 1);
  });

  it('CIFAR standard draws integer shifts in [-pad, pad] and flips half the time', () => {
    const plans = draw({ kind: 'cifar', pad: 4 }, 1000);
    const shifts = new Set<number>();
    let flips = 0;
    for (const p of plans) {
      const [sx, , , , tx, ty] = linear(p.affine);
      flips += +(sx < 0);
      const dx = sx < 0 ? 32 - tx : tx;
      expect(Number.isInteger(dx) && Number.isInteger(ty)).toBe(true);
      shifts.add(ty);
      expect(Math.abs(dx)).toBeLessThanOrEqual(4);
    }
    expect([...shifts].sort((a, b) => a - b)).toEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4]);
    expect(flips / 1000).toBeCloseTo(0.5, 1);
  });

  it('RandomResizedCrop boxes lie inside the image; impossible ranges fall back to the central crop', () => {
    const r = new Rng(9);
    for (let i = 0; i < 500; i++) {
      const b = sampleResizedCrop(r, 9, 7, [0.08, 1], [3 / 4, 4 / 3]);
      expect(b.h >= 1 && b.w >= 1 && b.top >= 0 && b.left >= 0 && b.top + b.h <= 7 && b.left + b.w <= 9).toBe(true);
    }
    // Aspect ratios 3..4 never fit a near-full area of a square: after 10 attempts, the central crop
    // with the closest ratio, as torchvision.
    expect(sampleResizedCrop(r, 32, 32, [0.9, 1], [3, 4])).toEqual({ top: 10, left: 0, h: 11, w: 32 });
    expect(sampleResizedCrop(r, 32, 32, [0.9, 1], [1 / 4, 1 / 3])).toEqual({ top: 0, left: 10, h: 32, w: 11 });
  });

  it('plans are reproducible per (seed, step, view) and differ across seeds, steps and views', () => {
    const policies: Policy[] = [{ kind: 'randaugment' }, { kind: 'sim' }, { kind: 'sim' }];
    const key = (ps: ImagePlan[]) => JSON.stringify(ps.map((p) => [p.src, Array.from(p.affine), p.ops, p.cutout]));
    const shape4 = [10, 3, 32, 32];
    const a = drawViewPlans([1, 2, 3, 4], policies, shape4, 7, 3);
    expect(key(a)).toBe(key(drawViewPlans([1, 2, 3, 4], policies, shape4, 7, 3)));
    expect(key(a)).not.toBe(key(drawViewPlans([1, 2, 3, 4], policies, shape4, 8, 3)));
    expect(key(a)).not.toBe(key(drawViewPlans([1, 2, 3, 4], policies, shape4, 7, 4)));
    // The two SimAugment views of one image differ.
    expect(key(a.slice(4, 8))).not.toBe(key(a.slice(8, 12)));
    expect(a.map((p) => p.src)).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  });
});

describe('augmentViews', () => {
  const set = images(6, 3, 9, 11, 31);
  const norm = { mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };
  let data: DeviceImages;
  beforeAll(() => {
    data = uploadImages(set.u8, set.shape, 'u8');
  });

  it('builds V views [V * B, C, H, W] in one dispatch, matching the reference of the drawn plans', async () => {
    const before = T.engine().dispatchCount;
    const v = augmentViews(data, [5, 0, 3], [{ kind: 'sim' }, { kind: 'sim' }, { kind: 'cifar', pad: 2, cutout: 4 }], { seed: 11, step: 2, norm });
    expect(T.engine().dispatchCount - before).toBe(1);
    expect(v.batch.shape).toEqual([9, 3, 9, 11]);
    const got = (await v.batch.read()) as Float32Array;
    expectClose(got, referenceAugment(set.f32, set.shape, encodePlans(v.plans, set.shape), norm), 1e-5, 'three views');
    v.batch.dispose();
  });

  it('same seed and step give the same views; another seed or step gives others (RandAugment + SimAugment)', async () => {
    const policies: Policy[] = [{ kind: 'randaugment', n: 2, m: 9 }, { kind: 'sim' }];
    const views = async (seed: number, step: number) => {
      const v = augmentViews(data, [1, 2, 3, 4], policies, { seed, step, norm });
      const out = Array.from((await v.batch.read()) as Float32Array);
      v.batch.dispose();
      return out;
    };
    const a = await views(1, 0);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(await views(1, 0)).toEqual(a);
    expect(await views(2, 0)).not.toEqual(a);
    expect(await views(1, 1)).not.toEqual(a);
  });

  it('refuses bad input before any GPU work', () => {
    const opts = { seed: 1, step: 0, norm };
    expectRejectedBeforeGpu(() => augmentViews(data, [0, 6], [{ kind: 'sim' }], opts), /drawViewPlans: index 6 at position 1 is outside the 6 images/);
    expectRejectedBeforeGpu(() => augmentViews(data, [0], [], opts), /need at least one policy/);
    expectRejectedBeforeGpu(() => augmentViews(data, [0], [{ kind: 'sim', scale: [0.5, 0.2] }], opts), /view 0: sim scale must be \[low, high\]/);
    expectRejectedBeforeGpu(() => augmentViews(data, [0], [{ kind: 'sim', jitterP: 1.5 }], opts), /sim jitterP must be a probability/);
    expectRejectedBeforeGpu(() => augmentViews(data, [0], [{ kind: 'sim', jitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.7 } }], opts), /jitter hue must be in \[0, 0.5\]/);
    expectRejectedBeforeGpu(() => augmentViews(data, [0], [{ kind: 'sim' }, { kind: 'randaugment', m: 31 }], opts), /view 1: randaugment m must be an integer in \[0, 30\]/);
    expectRejectedBeforeGpu(() => augmentViews(data, [0], [{ kind: 'randaugment', n: 9 }], opts), /randaugment n must be an integer in \[0, 8\]/);
    expectRejectedBeforeGpu(() => augmentViews(data, [0], [{ kind: 'sim' }], { ...opts, seed: -1 }), /seed must be an integer/);
    expectRejectedBeforeGpu(() => augmentViews(data, [0], [{ kind: 'sim' }], { ...opts, norm: { mean: [0.5], std: [0.2] } }), /augmentBatch: need 3 means and 3 positive stds/);
    expectRejectedBeforeGpu(() => augmentBatch(data, [plan(0, identity(), [{ kind: 'hue', param: 0.7 }])], norm), /plan 0: hue parameter 0.7 is out of range/);
    expectRejectedBeforeGpu(() => augmentBatch(data, [plan(0, identity(), [], [0, 10, 0, 3])], norm), /plan 0 Cutout box \[0,10,0,3\] is not/);
    expectRejectedBeforeGpu(() => augmentBatch(data, [plan(0, mat3.fromScaling(mat3.create(), [0, 1]))], norm), /plan 0: the affine map .* is singular/);
    expectRejectedBeforeGpu(() => augmentBatch(data, [plan(0, identity(), Array(9).fill({ kind: 'equalize' }))], norm), /9 photometric ops, at most 8/);
  });

  it('refuses unsupported images before any GPU work', () => {
    const five = uploadImages(new Float32Array(2 * 5 * 3 * 3), [2, 5, 3, 3]);
    const big = uploadImages(new Uint8Array(3 * 40 * 40), [1, 3, 40, 40], 'u8');
    const mono = uploadImages(new Float32Array(2 * 4 * 4), [2, 1, 4, 4]);
    const n5 = { mean: [0, 0, 0, 0, 0], std: [1, 1, 1, 1, 1] };
    expectRejectedBeforeGpu(() => augmentBatch(five, [plan(0)], n5), /augmentBatch: at most 4 channels, got \[2,5,3,3\]/);
    expectRejectedBeforeGpu(() => augmentBatch(big, [plan(0)], norm), /3x40x40 exceeds the kernel's 4096 elements/);
    expectRejectedBeforeGpu(() => augmentBatch(mono, [plan(0, identity(), [{ kind: 'saturation', param: 1.2 }])], raw(1)), /saturation needs 3 channels, the images have 1/);
    expect(() => uploadImages(new Float32Array(5), [1, 1, 2, 2])).toThrow(/uploadImages: 5 pixels for shape/);
    expect(() => uploadImages(new Float32Array(4), [1, 1, 2, 2], 'u8')).toThrow(/format 'u8' needs uint8 pixels/);
    for (const d of [five, big, mono]) d.data.dispose();
  });
});
