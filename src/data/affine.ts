// Geometric augmentations as affine maps (gl-matrix mat3, column-major), in continuous pixel
// coordinates: pixel (x, y) covers [x, x+1) x [y, y+1), so its centre is (x + 0.5, y + 0.5) and the image
// spans [0, W] x [0, H]. Each builder returns the FORWARD map (input point -> output point); a policy
// composes them in the order the ops apply (later op on the left) and the kernel samples through the
// inverse (shaders/augment.wgsl). The y axis points down, as in image rows.
import { mat3 } from 'gl-matrix';
import type { Rng } from './random.js';

export type Affine = mat3;

/** The identity map. */
export function identity(): Affine {
  return mat3.create();
}

/** `after ∘ before`: apply `before`, then `after`. */
export function compose(after: Affine, before: Affine): Affine {
  return mat3.multiply(mat3.create(), after, before);
}

/** Mirror left-right: x -> W - x. */
export function flipX(width: number): Affine {
  return mat3.fromValues(-1, 0, 0, 0, 1, 0, width, 0, 1);
}

/** Shift by (dx, dy) pixels: the content moves right / down. */
export function translate(dx: number, dy: number): Affine {
  return mat3.fromTranslation(mat3.create(), [dx, dy]);
}

/**
 * Pad by `pad` pixels, then crop the original size at (oy, ox) in the padded image (torchvision's
 * RandomCrop(size, padding=pad)): the content shifts by (pad - ox, pad - oy).
 */
export function padCrop(pad: number, oy: number, ox: number): Affine {
  return translate(pad - ox, pad - oy);
}

/** Rotation by `degrees` counter-clockwise as displayed (torchvision's sense), about the image centre. */
export function rotate(degrees: number, width: number, height: number): Affine {
  const a = (degrees * Math.PI) / 180;
  const [c, s] = [Math.cos(a), Math.sin(a)];
  // With y pointing down, a counter-clockwise turn on screen is (x, y) -> (c x + s y, -s x + c y).
  const r = mat3.fromValues(c, -s, 0, s, c, 0, 0, 0, 1);
  return compose(translate(width / 2, height / 2), compose(r, translate(-width / 2, -height / 2)));
}

/**
 * Shear x' = x + sx (y - cy), y' = y + sy (x - cx) about (cx, cy); sx, sy are the tangents of the shear
 * angles. torchvision's RandAugment shears about the origin (0, 0), as PIL does.
 */
export function shear(sx: number, sy: number, cx = 0, cy = 0): Affine {
  const m = mat3.fromValues(1, sy, 0, sx, 1, 0, 0, 0, 1);
  return compose(translate(cx, cy), compose(m, translate(-cx, -cy)));
}

/** The crop [top, top + h) x [left, left + w) resized to width x height (bilinear upsampling). */
export function resizedCrop(top: number, left: number, h: number, w: number, width: number, height: number): Affine {
  const scale = mat3.fromScaling(mat3.create(), [width / w, height / h]);
  return compose(scale, translate(-left, -top));
}

/** A crop window: top row, left column, height, width. */
export interface CropBox {
  top: number;
  left: number;
  h: number;
  w: number;
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 attempts at an area fraction uniform in `scale`
 * and a log-uniform aspect ratio in `ratio`; if none fits, the central crop clamped to `ratio`.
 */
export function sampleResizedCrop(rng: Rng, width: number, height: number, scale: readonly [number, number], ratio: readonly [number, number]): CropBox {
  const area = width * height;
  const [lr0, lr1] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(lr0, lr1));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.below(height - h + 1), left: rng.below(width - w + 1), h, w };
    }
  }
  const inRatio = width / height;
  let [w, h] = [width, height];
  if (inRatio < ratio[0]) h = roundHalfEven(w / ratio[0]);
  else if (inRatio > ratio[1]) w = roundHalfEven(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), h, w };
}

/**
 * The kernel's six numbers: the inverse map's rows (a, b, tx, c, d, ty), so that an output point
 * (X, Y) samples the input at (a X + b Y + tx, c X + d Y + ty). Throws on a singular map.
 */
export function inverseRows(m: Affine, what = 'inverseRows'): [number, number, number, number, number, number] {
  const inv = mat3.invert(mat3.create(), m);
  if (!inv || !Array.from(inv).every(Number.isFinite)) throw new Error(`${what}: the affine map [${Array.from(m)}] is singular`);
  return [inv[0], inv[3], inv[6], inv[1], inv[4], inv[7]];
}
