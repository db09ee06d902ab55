// Augmentation benchmark: views/s of the on-device augmentation (src/data/views.ts, one dispatch per
// call, host plan drawing included) for a batch of 256 images, under SimAugment and RandAugment, two
// views per call, at 28x28x1 (Fashion-MNIST, feeds SmallCNN) and 32x32x3 (CIFAR, feeds ResNet-32);
// both dataset formats (f32, uint8-packed). Peer: the same augmentation in plain JS on the CPU (the
// float64 reference of the tests, test/reference/augment.ts, single-threaded).
// Context: the training step of the model the views feed, timed as bench/train-step.ts does (SGD with
// momentum, forward + cross-entropy + backward + update), as a per-image cost; `aug/step` is the
// augmentation's time per view over the step's time per image (every view goes through the network),
// the fraction of a contrastive step spent augmenting.
//
//   npm run bench:augment [-- --quick]     (--quick: fewer reps, smaller step batches)
import * as T from '../src/node.js';
import { encodePlans, uploadImages, type DeviceImages } from '../src/data/augment.js';
import type { Policy } from '../src/data/policies.js';
import { augmentViews, drawViewPlans } from '../src/data/views.js';
import { ResNetCifar, SmallCNN, type Classifier } from '../src/nn/resnet.js';
import { referenceAugment } from '../test/reference/augment.js';
import { describeHost, flag, formatTable, printReport, row, timeIt, trainStepRate, type ResultRow } from './common.js';

const quick = flag('quick');
const e = await T.init({ log: false });
const BATCH = 256;
const VIEWS = 2;
const IMAGES = 2048;

interface Case {
  name: string;
  shape: [number, number, number];
  model: 'small-cnn' | 'resnet32';
  stepBatch: number;
}
const CASES: Case[] = [
  { name: '28x28x1', shape: [1, 28, 28], model: 'small-cnn', stepBatch: quick ? 64 : 256 },
  { name: '32x32x3', shape: [3, 32, 32], model: 'resnet32', stepBatch: quick ? 16 : 64 },
];
const POLICIES: [string, Policy][] = [
  ['sim', { kind: 'sim' }],
  ['randaugment', { kind: 'randaugment', n: 2, m: 9 }],
];
const budget = { minMs: quick ? 300 : 3000, minReps: 3, maxReps: 30, warmup: 1 };

function dataset(c: Case): { u8: Uint8Array; f32: Float32Array; shape: number[] } {
  const shape = [IMAGES, ...c.shape];
  let s = 12345;
  const u8 = Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24));
  return { u8, f32: Float32Array.from(u8, (v) => v / 255), shape };
}

/** Views/s of augmentViews on the device (plans drawn on the host inside the timed step). */
async function gpuRate(data: DeviceImages, policy: Policy, norm: { mean: number[]; std: number[] }): Promise<number> {
  let step = 0;
  const indices = Array.from({ length: BATCH }, (_, i) => (i * 7) % IMAGES);
  const t = await timeIt(async () => {
    T.scope(() => void augmentViews(data, indices, Array(VIEWS).fill(policy), { seed: 1, step: step++, norm }).batch);
    await e.sync();
  }, budget);
  return (VIEWS * BATCH * 1000) / t.bestMs;
}

/** Views/s of drawing the plans alone (host). */
async function planRate(shape: number[], policy: Policy): Promise<number> {
  const indices = Array.from({ length: BATCH }, (_, i) => i);
  let step = 0;
  const t = await timeIt(async () => void drawViewPlans(indices, Array(VIEWS).fill(policy), shape, 1, step++), budget);
  return (VIEWS * BATCH * 1000) / t.bestMs;
}

/** Views/s of the plain-JS CPU augmentation (on 64 views, enough for a stable rate). */
async function cpuRate(set: { f32: Float32Array; shape: number[] }, policy: Policy, norm: { mean: number[]; std: number[] }): Promise<number> {
  const plans = encodePlans(drawViewPlans(Array.from({ length: 32 }, (_, i) => i), [policy, policy], set.shape, 1, 0), set.shape);
  const t = await timeIt(async () => void referenceAugment(set.f32, set.shape, plans, norm), { ...budget, maxReps: 10 });
  return (64 * 1000) / t.bestMs;
}

/** Images/s of one training step of the model the views feed (as bench/train-step.ts times it). */
async function stepRate(c: Case): Promise<number> {
  T.manualSeed(1);
  const [ch, h] = c.shape;
  const model: Classifier = c.model === 'small-cnn' ? new SmallCNN(10, { inChannels: ch, inputSize: h }) : new ResNetCifar(32, 10);
  return trainStepRate(e, model, c.stepBatch, c.shape, { minMs: 0, minReps: 1, maxReps: quick ? 1 : 3, warmup: 1 });
}

console.log(`# augment bench${quick ? ' (--quick)' : ''}`);
console.log(`adapter: ${e.describeAdapter()}`);
console.log(`host: ${await describeHost()}`);
console.log(`batch ${BATCH}, ${VIEWS} views per call of the same policy, dataset of ${IMAGES} images; peer: plain-JS CPU augmentation (test/reference/augment.ts)`);

const results: (ResultRow & { format: string; plans_views_s: number; step_img_s: number; aug_over_step: number })[] = [];
const table: (string | number)[][] = [['case', 'format', 'GPU views/s', 'plans views/s', 'CPU JS views/s', 'ratio', 'step img/s', 'model', 'aug/step']];
for (const c of CASES) {
  const set = dataset(c);
  const norm = { mean: Array(c.shape[0]).fill(0.5), std: Array(c.shape[0]).fill(0.25) };
  const step = await stepRate(c);
  const formats = { f32: uploadImages(set.f32, set.shape, 'f32'), u8: uploadImages(set.u8, set.shape, 'u8') };
  for (const [pname, policy] of POLICIES) {
    const plans = await planRate(set.shape, policy);
    const cpu = await cpuRate(set, policy, norm);
    for (const [fname, data] of Object.entries(formats)) {
      const gpu = await gpuRate(data, policy, norm);
      const fraction = step / gpu;
      results.push({ ...row(`${c.name} ${pname} ${fname}`, gpu, cpu, 'views/s'), format: fname, plans_views_s: plans, step_img_s: step, aug_over_step: fraction });
      table.push([`${c.name} ${pname}`, fname, gpu.toFixed(0), plans.toFixed(0), cpu.toFixed(0), (gpu / cpu).toFixed(1), step.toFixed(1), `${c.model} b${c.stepBatch}`, `${(100 * fraction).toFixed(2)} %`]);
    }
  }
  for (const d of Object.values(formats)) d.data.dispose();
}
console.log(formatTable(table));
console.log('aug/step: augmentation time per view / training-step time per image');
printReport('augment', e.describeAdapter(), results);
process.exit(0);
