// Helpers shared by the test files: cooperative-width blocks, rejection before GPU work, normally
// distributed inputs, and temporary directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect } from 'vitest';
import * as T from '../src/index.js';
import { COMMON_OPTIONS, defaultConfig, type TrainConfig } from '../src/train/config.js';
import type { OptionValue } from '../src/train/options.js';
import { arr, size, type Arr } from './reference/ops.js';

/** Runs the enclosing describe block with `width` cooperating threads, restoring the engine's own after. */
export function useCooperativeThreads(width: number): void {
  let original = 0;
  beforeEach(() => {
    original ||= T.engine().cooperativeThreads;
    T.engine().cooperativeThreads = width;
  });
  afterAll(() => {
    T.engine().cooperativeThreads = original;
  });
}

/** Asserts that `fn` throws an Error matching `message` without recording any dispatch. */
export function expectRejectedBeforeGpu(fn: () => unknown, message: RegExp): void {
  const e = T.engine();
  const before = e.dispatchCount;
  let thrown: unknown;
  try {
    T.scope(() => void fn());
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected an error matching ${message}`).toBeInstanceOf(Error);
  expect((thrown as Error).message).toMatch(message);
  expect(e.dispatchCount, 'dispatches recorded before the error').toBe(before);
}

/**
 * Normal samples mean + std * z (Box-Muller), rounded to float32 so the reference sees exactly what the
 * GPU gets. A nonzero mean exercises the numerical stability of statistics.
 */
export function normalArr(shape: number[], next: () => number, mean = 0, std = 1): Arr {
  const data = Float32Array.from({ length: size(shape) }, () => {
    const u = 1 - next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  });
  return arr(shape, data);
}

/** A maker of fresh temporary directories named `<prefix>…`, all removed after the enclosing file or block. */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** The rows of a [N, D] array scaled to unit norm, rounded to float32 (so the reference sees what the GPU gets). */
export function normalizeRows(a: Arr): Arr {
  const d = a.shape[a.shape.length - 1];
  const out = arr(a.shape, a.data);
  for (let r = 0; r < out.data.length / d; r++) {
    const row = out.data.subarray(r * d, (r + 1) * d);
    const n = Math.hypot(...row);
    row.set(Float32Array.from(row, (x) => x / n));
  }
  return out;
}

/** Random unit vectors [n, d], rounded to float32. */
export function unitRows(n: number, d: number, next: () => number): Arr {
  return normalizeRows(normalArr([n, d], next));
}

/**
 * A training config from flat settings: the common ones (src/train/config.ts) go to the config, every
 * other key is a recipe option (featDim, probeSteps, queueSize, ...).
 */
export function trainConfig(over: Record<string, unknown>): TrainConfig {
  const common: Record<string, unknown> = {};
  const options: Record<string, OptionValue> = {};
  for (const [k, v] of Object.entries(over)) {
    if (k === 'recipe' || k === 'options' || COMMON_OPTIONS.some((o) => o.key === k)) common[k] = v;
    else options[k] = v as OptionValue;
  }
  return defaultConfig({ ...common, options: { ...(common.options as object), ...options } } as Partial<TrainConfig>);
}
