// Modules, layers, SGD, long-tail losses and metrics against float64 CPU computations.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { BatchNorm } from '../src/nn/layers.js';
import { CosineClassifier, Linear } from '../src/nn/linear.js';
import { logitAdjustedCrossEntropy, logitAdjustment } from '../src/nn/losses.js';
import { Module, Sequential, type StateValue } from '../src/nn/module.js';
import { SGD } from '../src/optim/sgd.js';
import { accuracyReport } from '../src/metrics/accuracy.js';
import { expectClose, rng } from './reference/check.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(4242);
const randomValues = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
const read = async (t: T.Tensor) => Float64Array.from((await t.read()) as Float32Array);

/** y[i, o] = sum_k x[i, k] w[o, k] (+ b[o]) in float64. */
function linearRef(x: Float64Array, w: Float64Array, b: Float64Array | null, n: number, inF: number, outF: number): Float64Array {
  const y = new Float64Array(n * outF);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let k = 0; k < inF; k++) s += x[i * inF + k] * w[o * inF + k];
      y[i * outF + o] = s;
    }
  }
  return y;
}

function logSumExp(row: number[]): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
}

describe('layers', () => {
  it('Linear: PyTorch layout and init bound, forward and gradients', async () => {
    const layer = new Linear(7, 5);
    expect(layer.weight.shape).toEqual([5, 7]);
    const w = await read(layer.weight);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(7));
    const xs = randomValues(3 * 7);
    const x = T.tensor(xs, [3, 7]);
    const b = await read(layer.bias!);
    const g = randomValues(3 * 5);
    T.scope(() => T.sum(T.mul(layer.forward(x), T.tensor(g, [3, 5]))).backward());
    expectClose(await read(T.scope(() => layer.forward(x))), linearRef(Float64Array.from(xs), w, b, 3, 7, 5), 1e-5, 'forward');
    // dL/dW[o, k] = sum_i g[i, o] x[i, k]; dL/db = sum_i g[i, o].
    const dw = new Float64Array(35).map((_, j) => [0, 1, 2].reduce((s, i) => s + g[i * 5 + Math.floor(j / 7)] * xs[i * 7 + (j % 7)], 0));
    const db = new Float64Array(5).map((_, o) => [0, 1, 2].reduce((s, i) => s + g[i * 5 + o], 0));
    expectClose(await read(layer.weight.grad!), dw, 1e-5, 'dW');
    expectClose(await read(layer.bias!.grad!), db, 1e-5, 'db');
    layer.dispose();
    x.dispose();
  });

  it('CosineClassifier: 30 x cosine between rows of x and columns of W', async () => {
    const fc = new CosineClassifier(6, 4);
    const xs = randomValues(2 * 6);
    const x = T.tensor(xs, [2, 6]);
    const w = await read(fc.weight);
    const got = await read(T.scope(() => fc.forward(x)));
    const want = new Float64Array(8).map((_, j) => {
      const [i, c] = [Math.floor(j / 4), j % 4];
      const xr = Array.from({ length: 6 }, (_, k) => xs[i * 6 + k]);
      const wc = Array.from({ length: 6 }, (_, k) => w[k * 4 + c]);
      return (30 * xr.reduce((s, v, k) => s + v * wc[k], 0)) / (Math.hypot(...xr) * Math.hypot(...wc));
    });
    expectClose(got, want, 1e-5, 'cosine logits');
    fc.dispose();
    x.dispose();
  });
});

describe('Module', () => {
  class Block extends Module {
    readonly fc1 = this.child('fc1', new Linear(3, 4));
    readonly stats = this.buffer('running_mean', T.zeros([4]));
    forward(x: T.Tensor) {
      return T.relu(this.fc1.forward(x));
    }
  }

  it('names entries like PyTorch and round-trips a state dict', async () => {
    const net = new Sequential(new Block(), new Linear(4, 2, { bias: false }));
    // PyTorch's order: a module's own parameters, then its own buffers, then each child.
    expect([...net.stateDict().keys()]).toEqual(['0.running_mean', '0.fc1.weight', '0.fc1.bias', '1.weight']);
    expect(net.namedParameters().map(([n]) => n)).toEqual(['0.fc1.weight', '0.fc1.bias', '1.weight']);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    const copy = new Sequential(new Block(), new Linear(4, 2, { bias: false }));
    copy.loadStateDict(net.stateDict());
    for (const [k, t] of net.stateDict()) expect(Array.from(await copy.stateDict().get(k)!.read()), k).toEqual(Array.from(await t.read()));
    copy.loadStateDict({ '0.fc1.weight': { shape: [4, 3], data: new Float32Array(12).fill(0.5) } }, false);
    expect(Array.from(await copy.stateDict().get('0.fc1.weight')!.read())).toEqual(new Array(12).fill(0.5));
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.dispose();
    copy.dispose();
  });

  it('refuses a state dict with missing, unexpected or mis-shaped entries, changing nothing', async () => {
    const net = new Linear(3, 2);
    const before = Array.from(await net.weight.read());
    const w = T.ones([2, 3]);
    expect(() => net.loadStateDict({ weight: w })).toThrow(/loadStateDict: missing \["bias"\], unexpected \[\]/);
    expect(() => net.loadStateDict({ weight: w, bias: T.ones([2]), extra: T.ones([1]) })).toThrow(/unexpected \["extra"\]/);
    expect(() => net.loadStateDict({ weight: T.ones([3, 2]), bias: T.ones([2]) })).toThrow(/'weight' has shape \[3, 2\], expected \[2, 3\]/);
    expect(Array.from(await net.weight.read())).toEqual(before);
    net.dispose();
  });
});

describe('BatchNorm module', () => {
  it('counts training batches in num_batches_tracked (int32, PyTorch order), not evaluation ones', async () => {
    const bn = new BatchNorm(3);
    expect([...bn.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    const x = T.randn([4, 3, 2, 2], 0, 1, { seed: 5 });
    for (let i = 0; i < 3; i++) T.scope(() => void bn.forward(x));
    bn.eval();
    T.scope(() => void bn.forward(x));
    expect(bn.numBatchesTracked.dtype).toBe('i32');
    expect(Array.from(await bn.numBatchesTracked.read())).toEqual([3]);
    // PyTorch stores it as int64: such a state dict loads, and a value beyond 2^53 is refused.
    const state = (v: bigint) => new Map<string, StateValue>([...bn.stateDict(), ['num_batches_tracked', { shape: [], data: BigInt64Array.of(v) }]]);
    bn.loadStateDict(state(41n));
    expect(Array.from(await bn.numBatchesTracked.read())).toEqual([41]);
    expect(() => bn.loadStateDict(state(2n ** 60n))).toThrow(/'num_batches_tracked' holds 1152921504606846976, beyond the integers this engine stores exactly/);
    x.dispose();
    bn.dispose();
  });

  it('increment adds in place to float and integer tensors, keeping their identity', async () => {
    const f = T.tensor([1.5, -2], [2]);
    const i = T.tensor([7, -3, 0], [3], 'i32');
    T.increment(f, 0.25);
    T.increment(i, 5);
    T.increment(i);
    expect(Array.from(await f.read())).toEqual([1.75, -1.75]);
    expect(Array.from(await i.read())).toEqual([13, 3, 6]);
    f.dispose();
    i.dispose();
  });
});

describe('SGD', () => {
  /** PyTorch's torch.optim.SGD update in float64 (buffer starts as g on the first step). */
  function sgdRef(p: number[], grads: number[][], o: { lr: number; momentum: number; wd: number; nesterov: boolean }): number[] {
    let buf: number[] | null = null;
    for (const g0 of grads) {
      const g = g0.map((v, i) => v + o.wd * p[i]);
      buf = buf ? buf.map((b, i) => o.momentum * b + g[i]) : g.slice();
      const step = o.nesterov ? g.map((v, i) => v + o.momentum * buf![i]) : buf;
      p = p.map((v, i) => v - o.lr * step[i]);
    }
    return p;
  }

  for (const nesterov of [false, true]) {
    it(`matches torch.optim.SGD over 3 steps (momentum 0.9, weight decay, nesterov ${nesterov})`, async () => {
      const p0 = Array.from(randomValues(37));
      const grads = [0, 1, 2].map(() => Array.from(randomValues(37)));
      const p = T.tensor(p0, [37]).keep().requireGrad();
      const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov });
      for (const g of grads) {
        p.grad = T.tensor(g, [37]).keep();
        opt.step();
        opt.zeroGrad();
      }
      expectClose(await read(p), sgdRef(p0, grads, { lr: 0.1, momentum: 0.9, wd: 5e-4, nesterov }), 1e-6, 'parameters');
      opt.dispose();
      p.dispose();
    });
  }

  it('groups carry their own weight decay; lr changes between steps without anything else', async () => {
    const a = T.tensor([1, 2], [2]).requireGrad();
    const b = T.tensor([1, 2], [2]).requireGrad();
    const opt = new SGD([{ params: [a] }, { params: [b], weightDecay: 0 }], { lr: 0.5, weightDecay: 0.1 });
    for (const t of [a, b]) t.grad = T.ones([2]).keep();
    opt.step();
    opt.lr = 0.25;
    opt.step();
    // a[0]: 1 -> 1 - 0.5 (1 + 0.1) = 0.45 -> 0.45 - 0.25 (1 + 0.045) = 0.18875;
    // a[1]: 2 -> 2 - 0.5 (1 + 0.2) = 1.4 -> 1.4 - 0.25 (1 + 0.14) = 1.115; b: x - 0.5 - 0.25.
    expectClose(await read(a), [0.18875, 1.115], 1e-6, 'decayed group');
    expectClose(await read(b), [0.25, 1.25], 1e-6, 'group without decay');
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('refuses bad hyper-parameters', () => {
    const p = T.zeros([2]);
    expect(() => new SGD([p], { lr: -1 })).toThrow(/SGD: lr must be a finite number >= 0, got -1/);
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0/);
    p.dispose();
  });
});

describe('long-tail losses and metrics', () => {
  it('logit-adjusted cross-entropy adds tau log(prior) to the logits', async () => {
    const counts = [500, 50, 5];
    const z = Array.from(randomValues(4 * 3, -2, 2));
    const labels = [0, 2, 1, 2];
    for (const tau of [1, 0.5]) {
      const adj = logitAdjustment(counts, tau);
      const loss = await T.scope(() => logitAdjustedCrossEntropy(T.tensor(z, [4, 3]), T.tensor(labels, [4], 'i32'), adj)).item();
      const want = labels.reduce((s, y, i) => {
        const row = [0, 1, 2].map((c) => z[i * 3 + c] + tau * Math.log(counts[c] / 555));
        return s + logSumExp(row) - row[y];
      }, 0) / 4;
      expect(Math.abs(loss - want) / want).toBeLessThan(1e-5);
      adj.dispose();
    }
    expect(() => logitAdjustment([3, 0])).toThrow(/class counts must all be > 0/);
  });

  it('accuracy report: top-1, per class, class average, many/medium/few', () => {
    const r = accuracyReport([0, 0, 1, 1, 2, 0], [0, 0, 1, 2, 2, 2], [1000, 50, 10]);
    expect(r.top1).toBeCloseTo(4 / 6, 12);
    expect(r.perClass).toEqual([1, 1, 1 / 3]);
    expect(r.classAverage).toBeCloseTo(7 / 9, 12);
    expect([r.many, r.medium, r.few]).toEqual([1, 1, 1 / 3]);
    expect(() => accuracyReport([0], [3], [1, 1])).toThrow(/label 3 at 0 is outside \[0, 2\)/);
  });
});
