// Training-step benchmark: images/s of one full SGD step (forward, cross-entropy, backward, update with
// momentum 0.9) for two networks built identically in each framework:
//   small-cnn: 3 x [conv3x3 (pad 1) - BN - ReLU - maxpool2] with 16/32/64 channels + dense, batch 128,
//              32x32x3 inputs;
//   resnet32:  the CIFAR ResNet-32 (option-A shortcuts), batch 32.
// Peer: TensorFlow.js's WebGPU backend on OUR GPUDevice, the networks written with tfjs-core ops (batch
// norm in training mode through tf.moments). Context: PyTorch CPU (Debian's python3-torch, 2 threads)
// run as a subprocess in the same run (bench/torch_train_step.py).
//
//   npm run bench:train-step [-- --quick] [-- --only=small-cnn|resnet32]
//   (--quick: one timed step each after one warm-up step)
import { spawnSync } from 'node:child_process';
import * as T from '../src/node.js';
import { ResNetCifar, SmallCNN, type Classifier } from '../src/nn/resnet.js';
import { benchHeader, flag, registerTfjsGradients, formatTable, printReport, row, timeIt, trainStepRate, type PeerTF, type ResultRow } from './common.js';

const quick = flag('quick');
const e = await T.init({ log: false });
const adapter = e.describeAdapter();

interface Case {
  name: 'small-cnn' | 'resnet32';
  batch: number;
}
const CASES: Case[] = [
  { name: 'small-cnn', batch: 128 },
  { name: 'resnet32', batch: 32 },
];
/**
 * Floating-point operations of one training step per image: the convolutions and the dense layer,
 * 2 * (multiply-adds) each, three times over (forward, input gradient, weight gradient) except the
 * input gradient of the first layer, which no network computes. Batch norm, activations, pooling and
 * the update are not counted: the step's FLOP rate over our matmul rate then says how much of the step
 * runs at matmul speed.
 */
function stepFlopsPerImage(c: Case): number {
  // [cin, cout, output height = width, kernel area]
  const layers: [number, number, number, number][] = [];
  if (c.name === 'small-cnn') {
    layers.push([3, 16, 32, 9], [16, 32, 16, 9], [32, 64, 8, 9], [64 * 4 * 4, 10, 1, 1]);
  } else {
    layers.push([3, 16, 32, 9]);
    let inp = 16;
    [16, 32, 64].forEach((planes, s) => {
      const size = 32 >> s;
      for (let b = 0; b < 5; b++) {
        layers.push([inp, planes, size, 9], [planes, planes, size, 9]);
        inp = planes;
      }
    });
    layers.push([64, 10, 1, 1]);
  }
  const fwd = layers.map(([cin, cout, hw, k]) => 2 * cin * cout * hw * hw * k);
  return 3 * fwd.reduce((a, b) => a + b, 0) - fwd[0];
}

/** Our matmul rate (GFLOP/s) at 1024 x 1024 x 1024 in this run, the yardstick of the step's efficiency. */
async function matmulRate(): Promise<number> {
  const a = T.randn([1024, 1024], 0, 1, { seed: 3 });
  const b = T.randn([1024, 1024], 0, 1, { seed: 4 });
  const t = await timeIt(async () => {
    T.scope(() => void T.matmul(a, b));
    await e.sync();
  }, { minMs: 0, minReps: 3, warmup: 1 });
  a.dispose();
  b.dispose();
  return (2 * 1024 ** 3) / t.bestMs / 1e6;
}

const budget = { minMs: quick ? 0 : 10_000, minReps: quick ? 1 : 3, maxReps: 20, warmup: 1 };

async function ours(c: Case): Promise<number> {
  T.manualSeed(1);
  const model: Classifier = c.name === 'small-cnn' ? new SmallCNN(10, { inChannels: 3, inputSize: 32 }) : new ResNetCifar(32, 10);
  return trainStepRate(e, model, c.batch, [3, 32, 32], budget);
}

/** The same networks in tfjs-core ops, NCHW semantics kept by working in NHWC throughout. */
async function tfjs(peer: PeerTF, c: Case): Promise<number> {
  const tf = peer.tf;
  const vars: import('@tensorflow/tfjs-core').Variable[] = [];
  const v = (shape: number[], std: number) => {
    const t = tf.variable(tf.randomNormal(shape, 0, std));
    vars.push(t);
    return t;
  };
  const conv = (cin: number, cout: number) => v([3, 3, cin, cout], Math.sqrt(2 / (9 * cin)));
  const bn = (ch: number) => ({ g: (vars.push(tf.variable(tf.ones([ch]))), vars.at(-1)!), b: (vars.push(tf.variable(tf.zeros([ch]))), vars.at(-1)!) });
  type X = import('@tensorflow/tfjs-core').Tensor4D;
  const batchNorm = (x: X, p: { g: import('@tensorflow/tfjs-core').Variable; b: import('@tensorflow/tfjs-core').Variable }) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.batchNorm(x, mean, variance, p.b as never, p.g as never, 1e-5);
  };
  let forward: (x: X) => import('@tensorflow/tfjs-core').Tensor2D;
  if (c.name === 'small-cnn') {
    const widths = [16, 32, 64];
    const layers = widths.map((w, i) => ({ k: conv(i ? widths[i - 1] : 3, w), bias: v([w], 0.01), n: bn(w) }));
    const fc = v([64 * 4 * 4, 10], Math.sqrt(1 / 1024));
    forward = (x) => {
      let h = x;
      for (const l of layers) h = tf.maxPool(tf.relu(batchNorm(tf.add(tf.conv2d(h, l.k as never, 1, 'same'), l.bias) as X, l.n)) as X, 2, 2, 'valid') as X;
      return tf.matMul(tf.reshape(h, [h.shape[0], -1]), fc) as import('@tensorflow/tfjs-core').Tensor2D;
    };
  } else {
    const stem = { k: conv(3, 16), n: bn(16) };
    const blocks: { k1: ReturnType<typeof conv>; n1: ReturnType<typeof bn>; k2: ReturnType<typeof conv>; n2: ReturnType<typeof bn>; stride: number; planes: number; down: boolean }[] = [];
    let inp = 16;
    [16, 32, 64].forEach((planes, s) => {
      for (let b = 0; b < 5; b++) {
        const stride = s > 0 && b === 0 ? 2 : 1;
        blocks.push({ k1: conv(inp, planes), n1: bn(planes), k2: conv(planes, planes), n2: bn(planes), stride, planes, down: stride !== 1 || inp !== planes });
        inp = planes;
      }
    });
    const fc = v([64, 10], Math.sqrt(2 / 64));
    // x[:, ::2, ::2, :] through reshape + slice: TF.js has no gradient for a strided slice, and its WebGPU
    // pad (the slice's gradient) takes rank <= 4, hence rows and columns folded as [N*H/2, 2, W/2, 2*C].
    const subsample2 = (h: X) => {
      const [n, hh, ww, ch] = h.shape;
      const r = tf.reshape(h, [n * (hh / 2), 2, ww / 2, 2 * ch]);
      return tf.reshape(tf.slice(r, [0, 0, 0, 0], [n * (hh / 2), 1, ww / 2, ch]), [n, hh / 2, ww / 2, ch]) as X;
    };
    forward = (x) => {
      let h = tf.relu(batchNorm(tf.conv2d(x, stem.k as never, 1, 'same'), stem.n)) as X;
      for (const b of blocks) {
        const o = batchNorm(tf.conv2d(tf.relu(batchNorm(tf.conv2d(h, b.k1 as never, b.stride, [[0, 0], [1, 1], [1, 1], [0, 0]]), b.n1)) as X, b.k2 as never, 1, 'same'), b.n2);
        const sc = b.down ? tf.pad(subsample2(h), [[0, 0], [0, 0], [0, 0], [b.planes / 4, b.planes / 4]]) : h;
        h = tf.relu(tf.add(o, sc)) as X;
      }
      return tf.matMul(tf.mean(h, [1, 2]), fc) as import('@tensorflow/tfjs-core').Tensor2D;
    };
  }
  const x = tf.randomNormal([c.batch, 32, 32, 3]) as X;
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: c.batch }, (_, i) => i % 10), 'int32'), 10);
  const opt = tf.train.momentum(0.01, 0.9);
  const t = await timeIt(async () => {
    tf.tidy(() => {
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)) as import('@tensorflow/tfjs-core').Scalar, false, vars);
    });
    await peer.sync();
  }, budget);
  tf.dispose([x, y, ...vars]);
  opt.dispose();
  return (c.batch * 1000) / t.bestMs;
}

function torch(): Record<string, number> | null {
  const r = spawnSync('/usr/bin/python3', ['bench/torch_train_step.py', ...(quick ? ['--quick'] : [])], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`PyTorch peer unavailable (install Debian's python3-torch: SETUP_BENCH=1 npm run setup): ${r.stderr.trim().split('\n').at(-1)}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!).results;
}

const peer = await benchHeader('train-step bench', e);
if (!peer) throw new Error('train-step bench: the TF.js peer is required');
await registerTfjsGradients();
const torchRates = torch();
const results: (ResultRow & { torch_cpu: number | null; step_gflops: number; matmul_gflops: number; efficiency: number })[] = [];
const table: (string | number)[][] = [['case', 'batch', 'ours img/s', 'tfjs img/s', 'ratio', 'torch cpu img/s', 'ours step GFLOP/s', 'efficiency']];
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const mm = await matmulRate();
for (const c of CASES.filter((k) => !only || k.name === only)) {
  const a = await ours(c);
  const b = await tfjs(peer, c);
  // A WebGPU error in TF.js's work (e.g. an invalid pipeline) would make its figure meaningless.
  e.checkHealthy();
  const stepGflops = (a * stepFlopsPerImage(c)) / 1e9;
  const r = { ...row(c.name, a, b, 'images/s'), torch_cpu: torchRates?.[c.name] ?? null, step_gflops: stepGflops, matmul_gflops: mm, efficiency: stepGflops / mm };
  results.push(r);
  table.push([c.name, c.batch, a.toFixed(2), b.toFixed(2), r.ratio.toFixed(2), r.torch_cpu?.toFixed(1) ?? '-', stepGflops.toFixed(3), `${(100 * r.efficiency).toFixed(0)} %`]);
}
console.log(formatTable(table));
console.log(`efficiency: the step's conv + dense GFLOP/s over our 1024^3 matmul in this run (${mm.toFixed(3)} GFLOP/s)`);
printReport('train-step', adapter, results);
process.exit(0);
