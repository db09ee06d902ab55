// A learnable toy dataset, the same bytes on every platform: for smoke tests, examples and benchmarks
// that need images but no dataset files.
import type { ImageSplit } from './idx.js';

/** Options of {@link stripes}. */
export interface StripesOptions {
  /** Image side (grey, size × size); default 12. */
  size?: number;
  /** Classes (labels i % classes); default 4. */
  classes?: number;
  /** Seed of the noise; default 1. */
  seed?: number;
}

/**
 * `count` images whose class is a bright vertical band (columns [c·w, (c + 1)·w), w = ⌊size / classes⌋,
 * at least 1) on a dark ground, plus seeded noise of up to 31 grey levels (an LCG: no Math.random).
 */
export function stripes(count: number, opts: StripesOptions = {}): ImageSplit {
  const { size = 12, classes = 4, seed = 1 } = opts;
  const band = Math.max(1, Math.floor(size / classes));
  const images = new Uint8Array(count * size * size);
  const labels = new Uint8Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < size * size; j++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      const col = j % size;
      images[i * size * size + j] = (col >= c * band && col < (c + 1) * band ? 200 : 30) + (s >>> 27);
    }
  }
  return { images, labels, count, channels: 1, height: size, width: size };
}
