// Checks and assembly shared by the loaders that produce an ImageSplit (IDX, CIFAR, MedMNIST), so that
// every format reports a bad label or a mismatched part in the same words.
import type { ImageSplit } from './idx.js';

/**
 * Throws, naming `source`, unless every label is an integer in 0..numClasses-1. `what` names the label
 * kind in the message (e.g. 'fine label' for CIFAR-100).
 */
export function checkLabels(labels: ArrayLike<number>, numClasses: number, source: string, what = 'label'): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!(Number.isInteger(v) && v >= 0 && v < numClasses)) {
      throw new Error(`${source}: ${what} ${v} of item ${i} is out of range (expected 0..${numClasses - 1})`);
    }
  }
}

/**
 * Joins splits of the same image size into one, in order (e.g. the five CIFAR-10 training batches).
 * Throws, naming the sources, when the channels or sizes differ. One split is returned as is (no copy).
 */
export function concatSplits(parts: ImageSplit[], sources: string[]): ImageSplit {
  if (parts.length === 0) throw new Error('concatSplits: no splits to join');
  if (sources.length !== parts.length) throw new Error(`concatSplits: ${parts.length} splits but ${sources.length} sources`);
  if (parts.length === 1) return parts[0];
  const { channels, height, width } = parts[0];
  parts.forEach((p, i) => {
    if (p.channels !== channels || p.height !== height || p.width !== width) {
      throw new Error(`${sources[i]}: images are ${p.channels}×${p.height}×${p.width}, but ${sources[0]} has ${channels}×${height}×${width}`);
    }
  });
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * channels * height * width);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * channels * height * width);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count, channels, height, width };
}
