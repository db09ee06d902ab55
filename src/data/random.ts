// A small seeded PRNG for CPU-side data choices (subsets, shuffles). Data selection must be reproducible
// from a seed alone, independently of the GPU's Philox stream and of Math.random.

/**
 * Stream tags of the data pipeline, one per kind of draw, so that two choices made with the same seed
 * are unrelated draws. Never renumber one: a run resumed from a checkpoint depends on them.
 */
export const STREAM = {
  longTail: 1,
  balanced: 2,
  epochOrder: 3,
  binary: 4,
  probe: 5,
  classBalanced: 6,
  /** Crop and flip draws of the trainer. */
  augment: 7,
  everyClass: 8,
  /** Multi-view augmentation plans: stream (seed, views, step, view). */
  views: 9,
} as const;

/** Checks that a seed is a 32-bit unsigned integer, so that distinct seeds never alias silently. */
export function checkSeed(seed: number, what: string): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`${what}: seed must be an integer in [0, 2^32), got ${seed}`);
  }
}

/** The MurmurHash3 finaliser: a bijection on 32-bit words that mixes every input bit into every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A generator for one named stream of a seed (e.g. seed s, class c), so that each class or epoch draws
 * from its own sequence: changing how much one stream consumes never shifts another.
 */
export class Rng {
  private state: number;

  constructor(seed: number, ...stream: number[]) {
    let h = fmix32(seed >>> 0);
    for (const w of stream) h = fmix32(h ^ fmix32((w >>> 0) + 0x9e3779b9));
    this.state = h;
  }

  /** The next 32-bit word (mulberry32). */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  float(): number {
    return this.nextU32() / 0x100000000;
  }

  /** A uniform number in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** A uniform integer in [0, n), n ≤ 2^32, without modulo bias (rejection of the incomplete last block). */
  below(n: number): number {
    const limit = 0x100000000 - (0x100000000 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<A extends { length: number; [i: number]: number }>(a: A): A {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
