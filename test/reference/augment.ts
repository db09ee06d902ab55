// Float64 CPU reference of shaders/augment.wgsl, read from the encoded plans (src/data/augment.ts
// encodePlans): affine bilinear sampling with zero fill, torchvision's photometric ops on float
// tensors, Cutout, normalisation. Also the plain-JS peer of bench/augment.ts.
import { PLAN_FLOATS } from '../../src/data/augment.js';
import { PhotoCode } from '../../src/data/photometric.js';

const gray = (r: number, g: number, b: number) => 0.2989 * r + 0.587 * g + 0.114 * b;
const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const quant = (v: number) => Math.floor(clamp01(v) * 255.999);

/** torchvision's adjust_hue on one pixel (_rgb2hsv, shift, _hsv2rgb). */
export function hueShift(r: number, g: number, b: number, shift: number): [number, number, number] {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  const eqc = maxc === minc;
  const cr = maxc - minc;
  const s = cr / (eqc ? 1 : maxc);
  const crd = eqc ? 1 : cr;
  const [rc, gc, bc] = [(maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd];
  let h = maxc === r ? bc - gc : maxc === g ? 2 + rc - bc : 4 + gc - rc;
  h = (((h / 6 + 1) % 1) + shift) % 1;
  if (h < 0) h += 1;
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const v = maxc;
  const p = clamp01(v * (1 - s));
  const q = clamp01(v * (1 - s * f));
  const t = clamp01(v * (1 - s * (1 - f)));
  return ([[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]] as [number, number, number][])[i % 6];
}

/** PIL's / torchvision's equalisation of one channel of uint8 levels. */
function equalizeLevels(levels: number[]): number[] | null {
  const hist = new Array(256).fill(0);
  for (const l of levels) hist[l]++;
  const nonzero = hist.filter((h) => h > 0);
  const step = Math.floor((levels.length - nonzero[nonzero.length - 1]) / 255);
  if (step === 0) return null;
  const lut: number[] = [];
  let cum = 0;
  for (let i = 0; i < 256; i++) {
    lut.push(Math.min(255, Math.floor((cum + Math.floor(step / 2)) / step)));
    cum += hist[i];
  }
  return levels.map((l) => lut[l]);
}

/** Applies one photometric op (kernel code, parameter) to a [C, H*W] image of rows of `width` in place. */
function applyOp(img: Float64Array[], width: number, code: number, f: number): void {
  const C = img.length;
  const n = img[0].length;
  const grayAt = (q: number) => (C === 3 ? gray(img[0][q], img[1][q], img[2][q]) : img[0][q]);
  switch (code) {
    case PhotoCode.brightness:
      for (const ch of img) for (let q = 0; q < n; q++) ch[q] = clamp01(f * ch[q]);
      return;
    case PhotoCode.contrast: {
      let m = 0;
      for (let q = 0; q < n; q++) m += grayAt(q);
      m /= n;
      for (const ch of img) for (let q = 0; q < n; q++) ch[q] = clamp01(f * ch[q] + (1 - f) * m);
      return;
    }
    case PhotoCode.saturation:
      for (let q = 0; q < n; q++) {
        const g = grayAt(q);
        for (const ch of img) ch[q] = clamp01(f * ch[q] + (1 - f) * g);
      }
      return;
    case PhotoCode.hue:
      for (let q = 0; q < n; q++) [img[0][q], img[1][q], img[2][q]] = hueShift(img[0][q], img[1][q], img[2][q], f);
      return;
    case PhotoCode.grayscale:
      for (let q = 0; q < n; q++) {
        const g = grayAt(q);
        for (const ch of img) ch[q] = g;
      }
      return;
    case PhotoCode.solarize:
      for (const ch of img) for (let q = 0; q < n; q++) ch[q] = ch[q] >= f ? 1 - ch[q] : ch[q];
      return;
    case PhotoCode.posterize: {
      const mask = (0xff << (8 - f)) & 0xff;
      for (const ch of img) for (let q = 0; q < n; q++) ch[q] = (quant(ch[q]) & mask) / 255;
      return;
    }
    case PhotoCode.autocontrast:
      for (const ch of img) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of ch) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
        if (hi > lo) for (let q = 0; q < n; q++) ch[q] = clamp01((ch[q] - lo) * (1 / (hi - lo)));
      }
      return;
    case PhotoCode.equalize:
      for (const ch of img) {
        const eq = equalizeLevels(Array.from(ch, quant));
        if (eq) for (let q = 0; q < n; q++) ch[q] = eq[q] / 255;
      }
      return;
    case PhotoCode.sharpness: {
      const W = width;
      const H = n / W;
      if (H <= 2 || W <= 2) return;
      for (const ch of img) {
        const src = Float64Array.from(ch);
        for (let q = 0; q < n; q++) {
          const [y, x] = [Math.floor(q / W), q % W];
          let blur = src[q];
          if (y >= 1 && y < H - 1 && x >= 1 && x < W - 1) {
            blur = 0;
            for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) blur += src[q + dy * W + dx] * (dx || dy ? 1 : 5);
            blur /= 13;
          }
          ch[q] = clamp01(f * src[q] + (1 - f) * blur);
        }
      }
      return;
    }
    default:
      throw new Error(`reference augment: unknown op code ${code}`);
  }
}

/**
 * The batch that `plans` (encoded, PLAN_FLOATS per image) describe over `pixels` [images, C, H, W] in
 * [0, 1], as float64 [count, C, H, W].
 */
export function referenceAugment(pixels: ArrayLike<number>, shape: readonly number[], plans: Float32Array, norm: { mean: readonly number[]; std: readonly number[] }): Float64Array {
  const [, C, H, W] = shape;
  const plane = H * W;
  const count = plans.length / PLAN_FLOATS;
  const out = new Float64Array(count * C * plane);
  for (let b = 0; b < count; b++) {
    const P = plans.subarray(b * PLAN_FLOATS, (b + 1) * PLAN_FLOATS);
    const [a, bb, tx, src, c, d, ty, nops] = P;
    const texel = (ch: number, x: number, y: number) => (x < 0 || y < 0 || x >= W || y >= H ? 0 : pixels[((src * C + ch) * H + y) * W + x]);
    const img = Array.from({ length: C }, () => new Float64Array(plane));
    for (let ch = 0; ch < C; ch++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const u = a * (x + 0.5) + bb * (y + 0.5) + tx - 0.5;
          const v = c * (x + 0.5) + d * (y + 0.5) + ty - 0.5;
          const [x0, y0] = [Math.floor(u), Math.floor(v)];
          const [fx, fy] = [u - x0, v - y0];
          const top = texel(ch, x0, y0) * (1 - fx) + texel(ch, x0 + 1, y0) * fx;
          const bottom = texel(ch, x0, y0 + 1) * (1 - fx) + texel(ch, x0 + 1, y0 + 1) * fx;
          img[ch][y * W + x] = top * (1 - fy) + bottom * fy;
        }
      }
    }
    for (let k = 0; k < nops; k++) applyOp(img, W, P[12 + 2 * k], P[13 + 2 * k]);
    const [y0, y1, x0, x1] = P.subarray(8, 12);
    for (let ch = 0; ch < C; ch++) {
      for (let q = 0; q < plane; q++) {
        const [y, x] = [Math.floor(q / W), q % W];
        const v = y >= y0 && y < y1 && x >= x0 && x < x1 ? 0 : img[ch][q];
        out[(b * C + ch) * plane + q] = (v - norm.mean[ch]) / norm.std[ch];
      }
    }
  }
  return out;
}
