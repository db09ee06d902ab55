// conv2d benchmark: GFLOP/s of our conv2d forward and backward (input and weight gradients) on the
// convolutions of a ResNet-32 for CIFAR (32x32x3 images), next to TensorFlow.js's WebGPU backend
// running on the SAME GPUDevice in the same run.
//
//   npm run bench:conv2d               # batch 32 and 128
//   tsx bench/conv2d.ts --quick        # batch 8
//
// Layers: the first conv (3 -> 16), the 3x3 convs of the three stages (16 ch at 32x32, 32 at 16x16,
// 64 at 8x8), the two stride-2 3x3 transitions, and the 1x1 stride-2 projection shortcuts (ResNet
// "option B"). FLOPs: forward 2·N·K·P·Q·C·R·S, backward twice that (dgrad and wgrad each as much as the
// forward). Case names: layer/batch/fwd|bwd; the last rows, resnet32 convs/batch/fwd+bwd, weight each
// layer by how often a ResNet-32 uses it (the 1x1 shortcuts not at all: option A shortcuts are identities).
//
// Our tensors are NCHW with OIHW weights; TF.js's are NHWC with HWIO filters: the inputs are transposed
// once on the CPU, outside the timing, so both sides start from identical data in their own layout.
// Before timing, the forward output and both gradients are compared with TF.js's (that run doubles as
// the warm-up: pipelines compiled, pools filled). Each timed rep records the work and waits until the
// GPU queue has finished it. GFLOP/s use the fastest rep; the detail table also shows the median.
// TF.js backward = its Conv2DBackpropInput and Conv2DBackpropFilter kernels, which are what tf.grad
// runs for conv2d; ours = conv2d's backward rule, run through backward() with the graph retained.
import { conv2d, init, tensor, type Engine } from '../src/node.js';
import {
  benchHeader, flag, formatTable, gflops, printReport, randomData, row, timeIt,
  yieldToEventLoop, type PeerTF, type ResultRow, type Timing,
} from './common.js';

interface Layer {
  name: string;
  /** How many times a ResNet-32 (option A shortcuts: identity, no projection convs) uses the layer. */
  inResNet32: number;
  c: number;
  k: number;
  /** Input height = width. */
  hw: number;
  /** Kernel height = width. */
  rs: number;
  stride: number;
  pad: number;
}

const LAYERS: Layer[] = [
  { name: 'conv1 3->16 32x32', inResNet32: 1, c: 3, k: 16, hw: 32, rs: 3, stride: 1, pad: 1 },
  { name: 'stage1 16->16 32x32', inResNet32: 10, c: 16, k: 16, hw: 32, rs: 3, stride: 1, pad: 1 },
  { name: 'down2 16->32 32x32 s2', inResNet32: 1, c: 16, k: 32, hw: 32, rs: 3, stride: 2, pad: 1 },
  { name: 'stage2 32->32 16x16', inResNet32: 9, c: 32, k: 32, hw: 16, rs: 3, stride: 1, pad: 1 },
  { name: 'down3 32->64 16x16 s2', inResNet32: 1, c: 32, k: 64, hw: 16, rs: 3, stride: 2, pad: 1 },
  { name: 'stage3 64->64 8x8', inResNet32: 9, c: 64, k: 64, hw: 8, rs: 3, stride: 1, pad: 1 },
  { name: 'short2 1x1 16->32 32x32 s2', inResNet32: 0, c: 16, k: 32, hw: 32, rs: 1, stride: 2, pad: 0 },
  { name: 'short3 1x1 32->64 16x16 s2', inResNet32: 0, c: 32, k: 64, hw: 16, rs: 1, stride: 2, pad: 0 },
];

const quick = flag('quick');
const BATCHES = quick ? [8] : [32, 128];

interface Sizes {
  n: number;
  p: number;
  flops: number;
}

function sizes(l: Layer, n: number): Sizes {
  const p = Math.floor((l.hw + 2 * l.pad - l.rs) / l.stride) + 1;
  return { n, p, flops: 2 * n * l.k * p * p * l.c * l.rs * l.rs };
}

/** Time budget per measurement (the same for both libraries): a few reps, at least 2 for the big layers. */
function budget(flops: number) {
  return { minMs: quick ? 500 : 2500, minReps: flops > 1e9 ? 2 : 3, maxReps: 20, warmup: 0 };
}

/** [d0, d1, d2, d3] data with axes permuted by `perm` (out axis i = in axis perm[i]), yielding now and then. */
async function permute4(data: Float32Array, shape: number[], perm: number[]): Promise<Float32Array> {
  const out = new Float32Array(data.length);
  const inStrides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const outShape = perm.map((a) => shape[a]);
  const st = perm.map((a) => inStrides[a]);
  let o = 0;
  for (let i = 0; i < outShape[0]; i++) {
    for (let j = 0; j < outShape[1]; j++) {
      for (let k = 0; k < outShape[2]; k++) {
        const base = i * st[0] + j * st[1] + k * st[2];
        for (let m = 0; m < outShape[3]; m++) out[o++] = data[base + m * st[3]];
      }
    }
    await yieldToEventLoop();
  }
  return out;
}

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];
const OIHW_TO_HWIO = [2, 3, 1, 0];
const HWIO_TO_OIHW = [3, 2, 0, 1];

/** max |x - y| / max |y|, yielding to the event loop now and then (Dawn must not be starved). */
async function relativeError(x: ArrayLike<number>, y: ArrayLike<number>): Promise<number> {
  if (x.length !== y.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    maxRef = Math.max(maxRef, Math.abs(y[i]));
    if ((i & 0xfffff) === 0xfffff) await yieldToEventLoop();
  }
  return maxDiff / (maxRef || 1);
}

interface CaseResult {
  l: Layer;
  s: Sizes;
  fwd: Timing;
  bwd: Timing;
  peerFwd: Timing | null;
  peerBwd: Timing | null;
  /** Relative error of our y, dx, dw against TF.js's (NaN without a peer). */
  err: { y: number; dx: number; dw: number };
}

type TFTensor = import('@tensorflow/tfjs-core').Tensor;

interface Gradients {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** TF.js's forward and gradients (in our layouts, for comparison) and its timings. */
async function runPeer(peer: PeerTF, l: Layer, s: Sizes, xNhwc: Float32Array, wHwio: Float32Array, dyNhwc: Float32Array) {
  const { tf } = peer;
  const strides: [number, number] = [l.stride, l.stride];
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [l.pad, l.pad], [l.pad, l.pad], [0, 0]];
  const x = tf.tensor4d(xNhwc, [s.n, l.hw, l.hw, l.c]);
  const w = tf.tensor4d(wHwio, [l.rs, l.rs, l.c, l.k]);
  const dy = tf.tensor4d(dyNhwc, [s.n, s.p, s.p, l.k]);
  const attrs = { strides, pad, dataFormat: 'NHWC' };
  const forward = () => tf.conv2d(x, w, strides, pad);
  const backward = (): [TFTensor, TFTensor] => [
    tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }),
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }),
  ];
  try {
    const y = forward();
    const [dx, dw] = backward();
    const got = {
      y: await permute4((await y.data()) as Float32Array, [s.n, s.p, s.p, l.k], NHWC_TO_NCHW),
      dx: await permute4((await dx.data()) as Float32Array, [s.n, l.hw, l.hw, l.c], NHWC_TO_NCHW),
      dw: await permute4((await dw.data()) as Float32Array, [l.rs, l.rs, l.c, l.k], HWIO_TO_OIHW),
    };
    for (const t of [y, dx, dw]) t.dispose();
    const opts = budget(s.flops);
    const fwd = await timeIt(async () => {
      forward().dispose();
      await peer.sync();
    }, opts);
    const bwd = await timeIt(async () => {
      for (const t of backward()) t.dispose();
      await peer.sync();
    }, opts);
    return { got, fwd, bwd };
  } finally {
    for (const t of [x, w, dy]) t.dispose();
  }
}

async function runOurs(e: Engine, l: Layer, s: Sizes, xData: Float32Array, wData: Float32Array, dyData: Float32Array) {
  const opts = { stride: l.stride, padding: l.pad };
  const x = tensor(xData, [s.n, l.c, l.hw, l.hw]).keep().requireGrad();
  const w = tensor(wData, [l.k, l.c, l.rs, l.rs]).keep().requireGrad();
  const dy = tensor(dyData, [s.n, l.k, s.p, s.p]).keep();
  const y = conv2d(x, w, null, opts).keep();
  const clearGrads = () => {
    for (const t of [x, w]) {
      t.grad?.dispose();
      t.grad = null;
    }
  };
  try {
    y.backward(dy, { retainGraph: true });
    const got: Gradients = {
      y: (await y.read()) as Float32Array,
      dx: (await x.grad!.read()) as Float32Array,
      dw: (await w.grad!.read()) as Float32Array,
    };
    clearGrads();
    const timing = budget(s.flops);
    const fwd = await timeIt(async () => {
      // A forward without the graph: x and w require gradients, and timing must not keep graphs alive.
      x.requireGrad(false);
      w.requireGrad(false);
      conv2d(x, w, null, opts).dispose();
      x.requireGrad(true);
      w.requireGrad(true);
      await e.sync();
    }, timing);
    const bwd = await timeIt(async () => {
      y.backward(dy, { retainGraph: true });
      clearGrads();
      await e.sync();
    }, timing);
    return { got, fwd, bwd };
  } finally {
    clearGrads();
    for (const t of [x, w, dy, y]) t.dispose();
  }
}

async function runCase(e: Engine, peer: PeerTF | null, l: Layer, n: number): Promise<CaseResult> {
  const s = sizes(l, n);
  const xData = randomData(n * l.c * l.hw * l.hw, 1);
  const wData = randomData(l.k * l.c * l.rs * l.rs, 2);
  const dyData = randomData(n * l.k * s.p * s.p, 3);
  await yieldToEventLoop();
  const label = `${l.name}/b${n}`;
  const result: CaseResult = { l, s, fwd: null!, bwd: null!, peerFwd: null, peerBwd: null, err: { y: NaN, dx: NaN, dw: NaN } };
  let reference: Gradients | null = null;
  if (peer) {
    try {
      const xNhwc = await permute4(xData, [n, l.c, l.hw, l.hw], NCHW_TO_NHWC);
      const wHwio = await permute4(wData, [l.k, l.c, l.rs, l.rs], OIHW_TO_HWIO);
      const dyNhwc = await permute4(dyData, [n, l.k, s.p, s.p], NCHW_TO_NHWC);
      const t0 = performance.now();
      const r = await runPeer(peer, l, s, xNhwc, wHwio, dyNhwc);
      reference = r.got;
      result.peerFwd = r.fwd;
      result.peerBwd = r.bwd;
      log(`  ${label} tfjs done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      log(`  ${label} tfjs FAILED: ${(err as Error).message}`);
    }
  }
  const t0 = performance.now();
  const r = await runOurs(e, l, s, xData, wData, dyData);
  result.fwd = r.fwd;
  result.bwd = r.bwd;
  if (reference) {
    result.err = {
      y: await relativeError(r.got.y, reference.y),
      dx: await relativeError(r.got.dx, reference.dx),
      dw: await relativeError(r.got.dw, reference.dw),
    };
  }
  log(`  ${label} ours done in ${((performance.now() - t0) / 1000).toFixed(1)} s, rel. error vs TF.js y ${result.err.y.toExponential(1)} dx ${result.err.dx.toExponential(1)} dw ${result.err.dw.toExponential(1)}`);
  return result;
}

const log = (s: string) => console.log(s);

async function main(): Promise<void> {
  const started = performance.now();
  const e = await init();
  const peer = await benchHeader('conv2d bench', e);

  const results: CaseResult[] = [];
  for (const n of BATCHES) for (const l of LAYERS) results.push(await runCase(e, peer, l, n));

  const name = (r: CaseResult) => `${r.l.name}/b${r.s.n}`;
  const ms = (t: Timing | null) => (t ? `${t.bestMs.toFixed(1)} / ${t.medianMs.toFixed(1)} (${t.reps})` : 'n/a');
  const rate = (flops: number, t: Timing | null) => (t ? gflops(flops, t.bestMs) : NaN);
  log('');
  log('ms per rep, best / median (reps); GFLOP/s from the best rep');
  log(formatTable([
    ['case', 'fwd ms', 'tfjs fwd ms', 'bwd ms', 'tfjs bwd ms', 'fwd', 'tfjs fwd', 'bwd', 'tfjs bwd', 'err y', 'err dx', 'err dw'],
    ...results.map((r) => [
      name(r), ms(r.fwd), ms(r.peerFwd), ms(r.bwd), ms(r.peerBwd),
      rate(r.s.flops, r.fwd), rate(r.s.flops, r.peerFwd), rate(2 * r.s.flops, r.bwd), rate(2 * r.s.flops, r.peerBwd),
      r.err.y.toExponential(1), r.err.dx.toExponential(1), r.err.dw.toExponential(1),
    ]),
  ]));

  const rows: ResultRow[] = [];
  for (const r of results) {
    rows.push(row(`${name(r)}/fwd`, rate(r.s.flops, r.fwd), rate(r.s.flops, r.peerFwd)));
    rows.push(row(`${name(r)}/bwd`, rate(2 * r.s.flops, r.bwd), rate(2 * r.s.flops, r.peerBwd)));
  }
  // Whole network: the convolutions of one ResNet-32 training step (each layer as often as the network
  // uses it), forward and backward times summed on each side.
  for (const n of BATCHES) {
    const mine = results.filter((r) => r.s.n === n);
    const flops = mine.reduce((acc, r) => acc + r.l.inResNet32 * 3 * r.s.flops, 0);
    const oursMs = mine.reduce((acc, r) => acc + r.l.inResNet32 * (r.fwd.bestMs + r.bwd.bestMs), 0);
    const peerMs = mine.reduce((acc, r) => acc + r.l.inResNet32 * (r.peerFwd && r.peerBwd ? r.peerFwd.bestMs + r.peerBwd.bestMs : NaN), 0);
    rows.push(row(`resnet32 convs/b${n}/fwd+bwd`, gflops(flops, oursMs), gflops(flops, peerMs)));
  }
  const bad = results.filter((r) => Math.max(r.err.y, r.err.dx, r.err.dw) > 1e-3).map(name);
  log('');
  if (bad.length) log(`WARNING: results differ from TF.js by more than 1e-3 (relative) in: ${bad.join(', ')}`);
  const overall = rows.filter((x) => x.case.startsWith('resnet32'));
  for (const o of overall) log(`target: conv2d >= 10x TF.js WebGPU on the same adapter, ${o.case}: ${o.ratio >= 10 ? 'MET' : 'NOT MET'} (ratio ${o.ratio.toFixed(2)})`);
  log(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  log('');
  printReport('conv2d', e.describeAdapter(), rows);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
