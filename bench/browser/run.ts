// The training run bench/browser.ts times on both sides (Node, and a page in headless Chromium): the
// platform-neutral loop on synthetic 28×28 grey images of 10 classes (the same bytes on both sides),
// recipe ce, the small CNN 8/16/32, batch 128, 2 epochs of 20 steps; the rate is the median of epoch 2's
// progress windows are what counts (epoch 1 includes the kernels' compilation).
import { engine } from '../../src/engine.js';
import { stripes } from '../../src/data/synthetic.js';
import { defaultConfig, resolveConfig } from '../../src/train/config.js';
import { disposeData, selectData, uploadData } from '../../src/train/data.js';
import { Training } from '../../src/train/loop.js';

export interface BrowserBenchRun {
  adapter: string;
  /** Images per second of each progress window of epoch 2. */
  windows: number[];
}

export async function browserBenchRun(): Promise<BrowserBenchRun> {
  const [train, test] = [stripes(2560, { size: 28, classes: 10, seed: 1 }), stripes(200, { size: 28, classes: 10, seed: 2 })];
  const resolved = resolveConfig(defaultConfig({ imbalance: 1, widths: [8, 16, 32], batchSize: 128, epochs: 2, warmupEpochs: 0, logEvery: 4 }));
  const data = uploadData(selectData(resolved.config, train, test, 'synthetic', Array.from({ length: 10 }, (_, i) => String(i))), train, test);
  const training = new Training(resolved, data, { mean: [0.3], std: [0.3] });
  const windows: number[] = [];
  try {
    await training.start();
    await training.run({ onStep: (p) => void (p.epoch === 2 && windows.push(p.imagesPerSecond)) });
  } finally {
    training.dispose();
    disposeData(data);
  }
  return { adapter: engine().describeAdapter(), windows };
}
