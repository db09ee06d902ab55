// The end-of-run diagnostics evaluate every module they run in evaluation mode: the saved projections
// equal an eval-mode forward of model and head, and no batch-norm running statistic moves.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';

beforeAll(async () => {
  await T.init({ log: false });
});

/** Every running statistic of the modules, by name. */
async function runningStats(modules: [string, T.Module][]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [prefix, m] of modules) {
    for (const [name, t] of m.stateDict(prefix)) if (name.includes('running_')) out.set(name, Array.from(await t.read()));
  }
  return out;
}

describe('diagnostics in evaluation mode', () => {
  it('bcl (a head with batch norm): projections equal the eval-mode forward; running statistics unchanged', async () => {
    const [train, test] = [T.stripes(96, { seed: 1 }), T.stripes(30, { seed: 2 })];
    const resolved = T.resolveConfig(T.defaultConfig({ imbalance: 1, widths: [4, 8], batchSize: 16, epochs: 1, warmupEpochs: 0, recipe: 'bcl', options: { featDim: 6 } }));
    const data = T.uploadData(T.selectData(resolved.config, train, test, 'synthetic', ['a', 'b', 'c', 'd']), train, test);
    const norm = { mean: [0.3], std: [0.3] };
    const training = new T.Training(resolved, data, norm);
    try {
      await training.start();
      const { evaluation } = await training.run();
      const head = training.recipe.head!;
      expect([...head.stateDict().keys()]).toContain('1.running_mean');
      const parts = training.recipe.parts;
      const before = await runningStats(parts);
      expect(before.size).toBeGreaterThan(4);
      const diag = await training.diagnostics(evaluation);
      expect(await runningStats(parts)).toEqual(before);
      // Both are still in training mode afterwards, as the loop left them.
      expect([training.model.training, head.training]).toEqual([true, true]);

      training.model.eval();
      head.eval();
      const rows = Array.from({ length: data.testLabels.length }, (_, i) => i);
      const want = await T.noGrad(() => T.scope(() => head.forward(training.model.features(T.makeBatch(data.testImages, T.gatherPlan(rows), 0, norm))))).read();
      training.model.train();
      head.train();
      const got = diag.tensors.projections!.data;
      expect(got.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst).toBeLessThan(1e-5);
    } finally {
      training.dispose();
      T.disposeData(data);
    }
  }, 120_000);
});
