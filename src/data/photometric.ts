// Photometric augmentations: op codes understood by shaders/augment.wgsl (which states each op's
// math), and torchvision's ColorJitter parameter draw. The kernel applies a plan's ops in order on
// values in [0, 1], clamping like torchvision on float tensors.
import type { Rng } from './random.js';

/** Op codes of shaders/augment.wgsl. */
export const PhotoCode = {
  brightness: 1,
  contrast: 2,
  saturation: 3,
  hue: 4,
  grayscale: 5,
  solarize: 6,
  posterize: 7,
  autocontrast: 8,
  equalize: 9,
  sharpness: 10,
} as const;

type PhotoKind = keyof typeof PhotoCode;

/** One photometric op: a factor (brightness, contrast, saturation, sharpness), a hue shift in [-0.5, 0.5], a
 * solarize threshold in [0, 1], posterize bits in 0..8, or nothing (grayscale, autocontrast, equalize). */
export interface PhotoOp {
  kind: PhotoKind;
  param?: number;
}

/** Ops that mix channels and so need RGB input. */
const RGB_ONLY: ReadonlySet<PhotoKind> = new Set<PhotoKind>(['saturation', 'hue', 'grayscale']);

/** Throws unless `op` is valid for `channels`-channel images; `what` names the caller. */
export function checkPhotoOp(op: PhotoOp, channels: number, what: string): void {
  if (!(op.kind in PhotoCode)) throw new Error(`${what}: unknown photometric op '${op.kind}'`);
  if (RGB_ONLY.has(op.kind) && channels !== 3) throw new Error(`${what}: ${op.kind} needs 3 channels, the images have ${channels}`);
  if ((op.kind === 'contrast' || op.kind === 'autocontrast') && channels !== 1 && channels !== 3) {
    throw new Error(`${what}: ${op.kind} needs 1 or 3 channels, the images have ${channels}`);
  }
  const v = op.param ?? 0;
  const bad =
    !Number.isFinite(v) ||
    ((op.kind === 'brightness' || op.kind === 'contrast' || op.kind === 'saturation' || op.kind === 'sharpness') && v < 0) ||
    (op.kind === 'hue' && Math.abs(v) > 0.5) ||
    (op.kind === 'solarize' && (v < 0 || v > 1)) ||
    (op.kind === 'posterize' && !(Number.isInteger(v) && v >= 0 && v <= 8));
  if (bad) throw new Error(`${what}: ${op.kind} parameter ${op.param} is out of range`);
}

/** torchvision's ColorJitter(brightness, contrast, saturation, hue) strengths. */
export interface ColorJitter {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** Throws unless the strengths are torchvision-valid (factors >= 0, hue in [0, 0.5]). */
export function checkColorJitter(j: ColorJitter, what: string): void {
  for (const k of ['brightness', 'contrast', 'saturation'] as const) {
    if (!(j[k] >= 0 && Number.isFinite(j[k]))) throw new Error(`${what}: jitter ${k} must be >= 0, got ${j[k]}`);
  }
  if (!(j.hue >= 0 && j.hue <= 0.5)) throw new Error(`${what}: jitter hue must be in [0, 0.5], got ${j.hue}`);
}

/**
 * One ColorJitter draw, as torchvision's get_params: a random order of the four ops, factors uniform in
 * [max(0, 1 - s), 1 + s] and a hue shift uniform in [-hue, hue]. Ops with zero strength are left out,
 * and so are saturation and hue on 1-channel images (torchvision leaves those unchanged).
 */
export function drawColorJitter(rng: Rng, j: ColorJitter, channels: number): PhotoOp[] {
  const order = rng.shuffle([0, 1, 2, 3]);
  const factor = (s: number) => rng.uniform(Math.max(0, 1 - s), 1 + s);
  const params = [factor(j.brightness), factor(j.contrast), factor(j.saturation), rng.uniform(-j.hue, j.hue)];
  const kinds: PhotoKind[] = ['brightness', 'contrast', 'saturation', 'hue'];
  const strengths = [j.brightness, j.contrast, j.saturation, j.hue];
  return order
    .filter((k) => strengths[k] > 0 && (channels === 3 || k < 2))
    .map((k) => ({ kind: kinds[k], param: params[k] }));
}
