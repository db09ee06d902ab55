// The trainer end to end on small Fashion-MNIST-LT subsets: learning, exact resume, the NaN stop that
// keeps the last good checkpoint, and clear errors for missing data.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { loadSafetensors } from '../src/io/node/safetensors.js';
import { writeReport } from '../src/report/node/load-run.js';
import { defaultConfig, type TrainConfig } from '../src/train/config.js';
import { train } from '../src/train/node/trainer.js';

let dir = '';
beforeAll(async () => {
  await T.init({ log: false });
  dir = await mkdtemp(join(tmpdir(), 'train-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A tiny run: at most 40 images per class at imbalance 2, 4-8-8 channels, 20 test images per class. */
const tiny = (out: string, over: Partial<TrainConfig> = {}): TrainConfig => defaultConfig({
  widths: [4, 8, 8], epochs: 2, warmupEpochs: 0, batchSize: 64, limitPerClass: 40, testPerClass: 20,
  logEvery: 2, imbalance: 2, out: join(dir, out), ...over,
});
const quiet = { log: () => {} };

describe('train', () => {
  it('learns: the loss falls and accuracy beats chance clearly; log and checkpoint are written', async () => {
    const lines: string[] = [];
    const r = await train(tiny('learn', { epochs: 3, limitPerClass: 80, lr: 0.1 }), { log: (l) => lines.push(l) });
    const records = (await readFile(join(dir, 'learn', 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    // One record per progress window (every 2 steps, and at each epoch's end), one per epoch with its evaluation.
    const log = records.filter((e) => 'top1' in e);
    const steps = records.filter((e) => !('top1' in e));
    expect(log.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(log[2].loss).toBeLessThan(log[0].loss);
    expect(steps.length).toBeGreaterThanOrEqual(3 * Math.ceil((r.steps / 3) / 2));
    expect(steps.map((e) => e.step)).toEqual([...steps.map((e) => e.step)].sort((a, b) => a - b));
    // The epoch's loss is the mean over all its steps: the progress windows weighted by their steps.
    const perEpoch = r.steps / 3;
    for (const [k, rec] of log.entries()) {
      const mine = steps.filter((e) => e.epoch === k + 1);
      let weighted = 0;
      let prev = k * perEpoch;
      for (const e of mine) {
        weighted += e.loss * (e.step - prev);
        prev = e.step;
      }
      expect(rec.loss).toBeCloseTo(weighted / perEpoch, 5);
    }
    expect(r.final.top1).toBeGreaterThan(0.4); // chance is 0.1
    expect(r.trainCounts.length).toBe(10);
    expect(lines.some((l) => /^epoch 1\/3 step \d+\/\d+ loss \d+\.\d+ lr .* images\/s ETA \d+(s|m\d\ds)$/.test(l))).toBe(true);
    const ckpt = await loadSafetensors(join(dir, 'learn', 'checkpoint.safetensors'));
    expect(ckpt.metadata.epoch).toBe('3');
    expect(ckpt.tensors.has('features.1.running_mean')).toBe(true);
    expect(ckpt.tensors.has('optimizer.momentum_buffer.fc.weight')).toBe(true);
    // The run ends with its summary; the HTML report is built from the run directory (the CLI asks for it).
    const summary = JSON.parse(await readFile(join(dir, 'learn', 'summary.json'), 'utf8'));
    expect(summary.trainCounts).toEqual(r.trainCounts);
    expect(lines.at(-1)).toMatch(/^\[train\] diagnostics: /);
    const html = await readFile(await writeReport(join(dir, 'learn')), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Ankle boot'); // class names from the dataset registry

    // The diagnostics: test embeddings with labels and the classifier's weights ...
    const emb = await loadSafetensors(join(dir, 'learn', 'embeddings.safetensors'));
    const [n, d] = emb.tensors.get('embeddings')!.shape;
    expect(n).toBe(200);
    expect(emb.tensors.get('labels')!.data).toHaveLength(200);
    expect(emb.tensors.get('weights')!.shape).toEqual([10, d]);
    expect(Array.from(emb.tensors.get('weights')!.data as Float32Array)).toEqual(Array.from(ckpt.tensors.get('fc.weight')!.data as Float32Array));
    expect(emb.tensors.has('projections')).toBe(false); // ce has no projection head
    // ... and metrics.json, consistent with the run's own evaluation.
    const m = JSON.parse(await readFile(join(dir, 'learn', 'metrics.json'), 'utf8'));
    expect(m.balancedAccuracy).toBeCloseTo(r.final.classAverage, 12); // balanced test set: the same number
    const { predicted, labels } = m.predictions;
    expect(predicted.filter((p: number, i: number) => p === labels[i]).length / labels.length).toBeCloseTo(r.final.top1, 12);
    expect(m.twoClasses).toMatchObject({ m: 20, space: 'embeddings (L2-normalised)' });
    expect(m.twoClasses.classes).toHaveLength(10);
    for (const c of m.twoClasses.classes) expect(c.saa).toBeGreaterThanOrEqual(0);
    expect(m.geometry.embeddings.gram).toHaveLength(10);
    expect(m.geometry.embeddings.etfDistance).toBeGreaterThan(0);
    expect(m.classifierNorms).toHaveLength(10);
    expect(m.gradientNorms.classifier).toBe('linear');
    expect(m.gradientNorms.samples).toEqual(r.trainCounts);
    for (const g of m.gradientNorms.perClass) expect(g).toBeGreaterThan(0);
    // The report draws them all: no 'missing data' note for these sections.
    for (const h of ['<h3>Learned vs optimal geometry', 'Minority-collapse thresholds', 'mean ‖∂CE_i/∂W‖', '<th>SAD</th>', 'Confusion matrix']) expect(html).toContain(h);
    expect(html).not.toMatch(/No embeddings|No Two-Classes metrics|No gradient norms|No classifier weights|No optimal geometry|No threshold curves/);
  }, 300_000);

  it('a probe recipe saves the projections and the probe as its classifier', async () => {
    await train(tiny('probe', { recipe: 'supcon', epochs: 1, options: { probeSteps: 20 } }), quiet);
    const emb = await loadSafetensors(join(dir, 'probe', 'embeddings.safetensors'));
    expect(emb.tensors.get('projections')!.shape).toEqual([200, 128]);
    const m = JSON.parse(await readFile(join(dir, 'probe', 'metrics.json'), 'utf8'));
    expect(m.gradientNorms.classifier).toBe('probe');
    expect(m.twoClasses.space).toBe('projections');
    expect(Object.keys(m.geometry)).toEqual(['embeddings', 'projections']);
    const html = await readFile(await writeReport(join(dir, 'probe')), 'utf8');
    expect(html).toContain('learned (projections)');
    expect(html).toContain('linear probe');
  }, 300_000);

  it('resuming after epoch 1 reproduces the uninterrupted run exactly', async () => {
    const whole = await train(tiny('whole'), quiet);
    await train(tiny('split', { epochs: 1 }), quiet);
    // The schedule depends on the total number of epochs: resume with the full config.
    const resumed = await train(tiny('split'), { ...quiet, resume: true });
    expect(resumed.final).toEqual(whole.final);
    const [a, b] = await Promise.all([loadSafetensors(join(dir, 'whole', 'checkpoint.safetensors')), loadSafetensors(join(dir, 'split', 'checkpoint.safetensors'))]);
    for (const [name, t] of a.tensors) expect(Array.from(b.tensors.get(name)!.data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
  }, 300_000);

  it('a run that diverges in epoch 2 stops with a message naming the parameter and leaves the last good checkpoint', async () => {
    // The step schedule multiplies the rate by 1e37 after epoch 1.
    const diverging = tiny('nan', { schedule: 'step', milestones: [1], gamma: 1e37 });
    const path = join(dir, 'nan', 'checkpoint.safetensors');
    await expect(train(diverging, quiet)).rejects.toThrow(
      /^a NaN or infinite value appeared in parameter '[a-z0-9_.]+' or its gradient at epoch 2, steps \d+-\d+; stopped\. The last good checkpoint \(end of epoch 1\) is .*checkpoint\.safetensors/,
    );
    expect((await loadSafetensors(path)).metadata.epoch).toBe('1');
  }, 300_000);

  it('a NaN loss in the first epoch says that no checkpoint was written', async () => {
    await expect(train(tiny('nan0', { lr: 1e38, epochs: 1 }), quiet)).rejects.toThrow(/stopped\. No checkpoint was written/);
  }, 300_000);

  it('a missing dataset is a clear error naming the folder and the Debian package', async () => {
    await expect(train(tiny('missing', { dataDir: join(dir, 'nowhere') }), quiet)).rejects.toThrow(/nowhere[\s\S]*dataset-fashion-mnist/);
  });
});
