// The main job until the training stack lands: fit a 2-layer MLP to a synthetic 3-class spiral
// (a problem no linear model solves) with plain SGD, printing the adapter, the loss as it falls, the
// time per step and the held-out accuracy. Usage: npm run train -- [--steps N] [--hidden H] [--lr X]
import { parseArgs } from 'node:util';
import * as T from '../index.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '400' },
    hidden: { type: 'string', default: '64' },
    lr: { type: 'string', default: '0.5' },
    batch: { type: 'string', default: '192' },
    seed: { type: 'string', default: '7' },
    adapter: { type: 'string' },
  },
});
const steps = Number(values.steps);
const hidden = Number(values.hidden);
const lr = Number(values.lr);
const batch = Number(values.batch);
const seed = Number(values.seed);
for (const [name, v] of Object.entries({ steps, hidden, lr, batch, seed })) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`demo: --${name} must be a positive number, got ${v}`);
}

const CLASSES = 3;

/** n points per class on three interleaved noisy spiral arms, as [x, y] rows, with their labels. */
function spiral(n: number, seedValue: number): { points: Float32Array; labels: Int32Array } {
  let s = seedValue >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const points = new Float32Array(n * CLASSES * 2);
  const labels = new Int32Array(n * CLASSES);
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < n; i++) {
      const r = i / n;
      const angle = (c * 2 * Math.PI) / CLASSES + 4 * r + 0.2 * (uniform() - 0.5) * 2;
      const k = c * n + i;
      points[2 * k] = r * Math.cos(angle);
      points[2 * k + 1] = r * Math.sin(angle);
      labels[k] = c;
    }
  }
  return { points, labels };
}

await T.init({ adapter: values.adapter, log: true });
console.log(`[demo] 2-layer MLP 2 -> ${hidden} -> ${CLASSES} on a 3-class spiral; SGD lr ${lr}, batch ${batch}, ${steps} steps`);

const train = spiral(batch / CLASSES, seed);
const test = spiral(300, seed + 1);
const x = T.tensor(train.points, [batch, 2]);
const y = T.tensor(train.labels, [batch], 'i32');
T.manualSeed(seed);
const params = [
  T.randn([2, hidden], 0, Math.sqrt(2 / 2)),
  T.zeros([hidden]),
  T.randn([hidden, CLASSES], 0, Math.sqrt(1 / hidden)),
  T.zeros([CLASSES]),
].map((p) => p.requireGrad());
const [w1, b1, w2, b2] = params;
const forward = (input: T.Tensor) => T.add(T.matmul(T.relu(T.add(T.matmul(input, w1), b1)), w2), b2);

const logEvery = Math.max(1, Math.floor(steps / 10));
let t0 = performance.now();
for (let step = 1; step <= steps; step++) {
  const loss = T.scope(() => {
    const l = T.crossEntropy(forward(x), y);
    l.backward();
    T.noGrad(() => {
      for (const p of params) {
        T.assign(p, T.sub(p, T.scale(p.grad!, lr)));
        p.grad!.dispose();
        p.grad = null;
      }
    });
    return l;
  });
  // Only the logged steps read back; the others stay on the GPU queue.
  if (step % logEvery === 0 || step === steps) {
    const value = await loss.item();
    const ms = (performance.now() - t0) / (step % logEvery || logEvery);
    if (!Number.isFinite(value)) {
      throw new Error(`demo: loss became ${value} at step ${step}; stopping (try a smaller --lr)`);
    }
    console.log(`step ${String(step).padStart(5)}  loss ${value.toFixed(4)}  ${ms.toFixed(2)} ms/step`);
    t0 = performance.now();
  }
  loss.dispose();
}

const xt = T.tensor(test.points, [test.labels.length, 2]);
const predicted = (await T.noGrad(() => T.scope(() => T.argmax(forward(xt), -1))).read()) as Int32Array;
const correct = predicted.reduce((n, p, i) => n + (p === test.labels[i] ? 1 : 0), 0);
console.log(`[demo] held-out accuracy ${((100 * correct) / test.labels.length).toFixed(1)} % on ${test.labels.length} points (chance 33.3 %)`);
process.exit(0);
