// The training recipes end to end on tiny Fashion-MNIST-LT subsets: each runs, lowers its loss, writes a
// checkpoint with its heads, and resumes exactly.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { loadSafetensors } from '../src/io/node/safetensors.js';
import { DEFAULT_CONFIG, train, type TrainConfig } from '../src/train/node/trainer.js';
import type { RecipeName } from '../src/train/recipes.js';

let dir = '';
beforeAll(async () => {
  await T.init({ log: false });
  dir = await mkdtemp(join(tmpdir(), 'recipes-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** At most 24 images per class at imbalance 2, 4-8-8 channels, batches of 32, 10 test images per class. */
const tiny = (recipe: RecipeName, out: string, over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_CONFIG, recipe, widths: [4, 8, 8], epochs: 3, warmupEpochs: 0, batchSize: 32, limitPerClass: 24, testPerClass: 10,
  logEvery: 100, imbalance: 2, featDim: 16, probeSteps: 20, probeFraction: 0.1, lr: 0.05, out: join(dir, out), ...over,
});
const quiet = { log: () => {} };
const epochLosses = async (out: string) => (await readFile(join(dir, out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).loss as number);

const CASES: [RecipeName, string[]][] = [
  ['bcl', ['head.0.weight', 'head.1.running_mean', 'head_fc.3.weight', 'optimizer.momentum_buffer.head_fc.0.weight', 'fc.weight']],
  ['supcon-lc', ['head.3.bias', 'optimizer.momentum_buffer.head.0.weight']],
  ['supcon', ['head.3.weight', 'features.1.running_mean']],
  ['simclr', ['head.3.weight', 'optimizer.momentum_buffer.head.3.weight']],
];

describe.each(CASES)('recipe %s', (recipe, names) => {
  it('lowers its loss, checkpoints its heads, and resumes exactly', async () => {
    const lines: string[] = [];
    const whole = await train(tiny(recipe, `${recipe}-whole`), { log: (l) => lines.push(l) });
    const losses = await epochLosses(`${recipe}-whole`);
    expect(losses.length).toBe(3);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[2]).toBeLessThan(losses[0]);
    const label = recipe === 'supcon' || recipe === 'simclr' ? 'probe' : 'eval';
    expect(lines.some((l) => new RegExp(`^epoch 3/3 ${label} top1 `).test(l))).toBe(true);
    expect(whole.final.classAverage).toBeGreaterThanOrEqual(0);
    const ckpt = await loadSafetensors(join(dir, `${recipe}-whole`, 'checkpoint.safetensors'));
    for (const n of names) expect(ckpt.tensors.has(n), n).toBe(true);
    expect(JSON.parse(ckpt.metadata.config).recipe).toBe(recipe);

    // The schedule depends on the total number of epochs: stop after epoch 1 (lr = base either way), resume with the full config.
    await train(tiny(recipe, `${recipe}-split`, { epochs: 1 }), quiet);
    const resumed = await train(tiny(recipe, `${recipe}-split`), { ...quiet, resume: true });
    expect(resumed.final).toEqual(whole.final);
    const split = await loadSafetensors(join(dir, `${recipe}-split`, 'checkpoint.safetensors'));
    for (const [name, t] of ckpt.tensors) expect(Array.from(split.tensors.get(name)!.data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
  }, 300_000);
});
