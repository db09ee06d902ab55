// Every op against its float64 reference: forward and gradients on random inputs with odd shapes,
// size-1 dimensions and broadcasting; the references' gradients checked by finite differences.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { useCooperativeThreads } from './helpers.js';
import { checkOp, expectClose, randomArr, rng } from './reference/check.js';
import * as R from './reference/ops.js';

const ELEMENTWISE_TOL = 1e-5;
const REDUCE_TOL = 1e-4;

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(1234);

describe('unary ops', () => {
  const cases: [string, (x: T.Tensor) => T.Tensor, R.RefOp, number, number][] = [
    ['neg', T.neg, R.unaryRef((x) => -x, () => -1), -2, 2],
    ['exp', T.exp, R.unaryRef(Math.exp, (_, y) => y), -2, 2],
    ['log', T.log, R.unaryRef(Math.log, (x) => 1 / x), 0.1, 3],
    ['sqrt', T.sqrt, R.unaryRef(Math.sqrt, (_, y) => 0.5 / y), 0.1, 3],
    ['rsqrt', T.rsqrt, R.unaryRef((x) => 1 / Math.sqrt(x), (x) => -0.5 * x ** -1.5), 0.2, 3],
    ['relu', T.relu, R.unaryRef((x) => Math.max(x, 0), (x) => (x > 0 ? 1 : 0)), -2, 2],
    ['abs', T.abs, R.unaryRef(Math.abs, (x) => Math.sign(x)), -2, 2],
    ['sigmoid', T.sigmoid, R.unaryRef((x) => 1 / (1 + Math.exp(-x)), (_, y) => y * (1 - y)), -6, 6],
    ['tanh', T.tanh, R.unaryRef(Math.tanh, (_, y) => 1 - y * y), -4, 4],
    ['square', T.square, R.unaryRef((x) => x * x, (x) => 2 * x), -2, 2],
    ['affine', (x) => T.affine(x, -1.5, 0.25), R.unaryRef((x) => -1.5 * x + 0.25, () => -1.5), -2, 2],
    ['powScalar', (x) => T.powScalar(x, 2.5), R.unaryRef((x) => x ** 2.5, (x) => 2.5 * x ** 1.5), 0.1, 2],
  ];
  for (const [name, gpu, ref, lo, hi] of cases) {
    it(`${name} matches the reference on [7, 13] and [1, 5, 1]`, async () => {
      for (const shape of [[7, 13], [1, 5, 1]]) {
        await checkOp({ inputs: [randomArr(shape, next, lo, hi)], gpu, ref, tol: ELEMENTWISE_TOL });
      }
    });
  }

  it('sigmoid and tanh stay finite for large |x|', async () => {
    const x = T.tensor([-100, -30, 30, 100]);
    expect(Array.from(await T.sigmoid(x).read())).toEqual([0, expect.closeTo(9.4e-14, 13), 1, 1]);
    expect(Array.from(await T.tanh(x).read())).toEqual([-1, -1, 1, 1]);
  });

  it('powScalar follows real pow for negative bases with integer exponents', async () => {
    // GPUs evaluate exp2/log2 to a few ulp, so the values are close, not exact; the signs must be right.
    const y = await T.powScalar(T.tensor([-2, -0.5, 0, 3, -3]), 2).read();
    expectClose(y, [4, 0.25, 0, 9, 9], ELEMENTWISE_TOL, 'x^2');
    const z = await T.powScalar(T.tensor([-2, -0.5, 0, 3]), 3).read();
    expectClose(z, [-8, -0.125, 0, 27], ELEMENTWISE_TOL, 'x^3');
    expect(Number.isNaN((await T.powScalar(T.tensor([-2]), 0.5).read())[0])).toBe(true);
  });
});

describe('binary ops with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [[5, 7], [5, 7]],
    [[5, 1, 3], [4, 3]],
    [[1], [6, 5]],
    [[], [3, 3]],
    [[2, 3, 1], [1, 1, 4]],
  ];
  const cases: [string, (a: T.Tensor, b: T.Tensor) => T.Tensor, R.RefOp, [number, number], [number, number]][] = [
    ['add', T.add, R.binaryRef((a, b) => a + b, () => 1, () => 1), [-2, 2], [-2, 2]],
    ['sub', T.sub, R.binaryRef((a, b) => a - b, () => 1, () => -1), [-2, 2], [-2, 2]],
    ['mul', T.mul, R.binaryRef((a, b) => a * b, (_, b) => b, (a) => a), [-2, 2], [-2, 2]],
    ['div', T.div, R.binaryRef((a, b) => a / b, (_, b) => 1 / b, (a, b) => -a / (b * b)), [-2, 2], [0.5, 2]],
    ['pow', T.pow, R.binaryRef((a, b) => a ** b, (a, b) => b * a ** (b - 1), (a, b) => a ** b * Math.log(a)), [0.5, 2], [-2, 2]],
    ['maximum', T.maximum, R.binaryRef(Math.max, (a, b) => (a >= b ? 1 : 0), (a, b) => (a < b ? 1 : 0)), [-2, 2], [-2, 2]],
    ['minimum', T.minimum, R.binaryRef(Math.min, (a, b) => (a <= b ? 1 : 0), (a, b) => (a > b ? 1 : 0)), [-2, 2], [-2, 2]],
  ];
  for (const [name, gpu, ref, ra, rb] of cases) {
    it(`${name} matches the reference (same shape, broadcast, scalar)`, async () => {
      for (const [sa, sb] of shapes) {
        await checkOp({ inputs: [randomArr(sa, next, ...ra), randomArr(sb, next, ...rb)], gpu, ref, tol: ELEMENTWISE_TOL });
        await checkOp({ inputs: [randomArr(sb, next, ...ra), randomArr(sa, next, ...rb)], gpu, ref, tol: ELEMENTWISE_TOL });
      }
    });
  }

  it('comparisons produce 0/1 masks, also from int32 inputs', async () => {
    const a = randomArr([4, 5], next);
    const b = randomArr([5], next);
    b.data[2] = a.data[2]; // one tie, to exercise equality
    const cmp: [string, (a: T.Tensor, b: T.Tensor) => T.Tensor, (x: number, y: number) => boolean][] = [
      ['eq', T.eq, (x, y) => x === y], ['ne', T.ne, (x, y) => x !== y], ['lt', T.lt, (x, y) => x < y],
      ['le', T.le, (x, y) => x <= y], ['gt', T.gt, (x, y) => x > y], ['ge', T.ge, (x, y) => x >= y],
    ];
    for (const [name, gpu, f] of cmp) {
      const ref = R.binaryRef((x, y) => (f(x, y) ? 1 : 0), () => 0, () => 0);
      await checkOp({ inputs: [a, b], grad: [false, false], gpu, ref, tol: 0 });
      expect(name).toBeTruthy();
    }
    const labels = R.arr([6], [0, 3, 1, 3, 0, 2]);
    const ref = R.binaryRef((x, y) => (x === y ? 1 : 0), () => 0, () => 0);
    await checkOp({
      inputs: [{ ...labels, shape: [6, 1] }, { ...labels, shape: [1, 6] }],
      int: [true, true],
      gpu: T.eq,
      ref,
      tol: 0,
    });
  });

  it('where selects with a broadcast condition and routes gradients', async () => {
    const cond = R.arr([5, 1], [1, 0, 0, 1, 1]);
    await checkOp({
      inputs: [cond, randomArr([5, 4], next), randomArr([4], next)],
      grad: [false, true, true],
      gpu: T.where,
      ref: R.whereRef,
      tol: ELEMENTWISE_TOL,
    });
  });

  it('number operands act as scalars', async () => {
    const x = T.tensor([1, 2, 3]);
    expect(Array.from(await T.add(x, 1).read())).toEqual([2, 3, 4]);
    expect(Array.from(await T.sub(x, 1).read())).toEqual([0, 1, 2]);
    expect(Array.from(await T.mul(x, 2).read())).toEqual([2, 4, 6]);
    expect(Array.from(await T.div(x, 2).read())).toEqual([0.5, 1, 1.5]);
  });
});

// Both cooperative widths: 4 threads per output (CPU adapters) and up to 256 (GPUs).
for (const width of [4, 256]) {
  describe(`reductions (${width} cooperating threads)`, () => {
    useCooperativeThreads(width);

    const kinds = ['sum', 'mean', 'max', 'min', 'logsumexp'] as const;
    const gpuOf = { sum: T.sum, mean: T.mean, max: T.max, min: T.min, logsumexp: T.logsumexp };
    // [3, 67, 5] reduces 67 with a workgroup tree (few outputs, long axis); [1, 300] uses 256 threads;
    // [40, 3] and axis 0 of [7, 1, 9] take the one-thread-per-output path.
    const cases: [number[], number[]][] = [
      [[3, 67, 5], [1]],
      [[3, 67, 5], [0, 2]],
      [[3, 67, 5], [0, 1, 2]],
      [[1, 300], [1]],
      [[40, 3], [1]],
      [[7, 1, 9], [0]],
      [[5000, 70], [1]],
    ];
    for (const kind of kinds) {
      it(`${kind} over any axes matches the reference`, async () => {
        for (const [shape, axes] of cases) {
          await checkOp({ inputs: [randomArr(shape, next)], gpu: (x) => gpuOf[kind](x, axes), ref: R.reduceRef(kind, axes), tol: REDUCE_TOL });
        }
      });
    }

    it('keepDims keeps size-1 axes; negative axes count from the end', async () => {
      const x = T.randn([2, 3, 4], 0, 1, { seed: 3 });
      expect(T.sum(x, -1, true).shape).toEqual([2, 3, 1]);
      expect(T.max(x, [0, -1]).shape).toEqual([3]);
      expect(T.sum(x).shape).toEqual([]);
    });

    it('max shares the gradient equally among ties', async () => {
      const x = T.tensor([[1, 3, 3], [2, 0, -1]]).requireGrad();
      T.sum(T.max(x, 1)).backward();
      expect(Array.from(await x.grad!.read())).toEqual([0, 0.5, 0.5, 1, 0, 0]);
    });

    it('argmax returns int32 indices, the first on ties', async () => {
      const data = randomArr([9, 70], next);
      data.data[5 * 70 + 3] = 5;
      data.data[5 * 70 + 9] = 5;
      const x = T.tensor(Float32Array.from(data.data), data.shape);
      const got = await T.argmax(x, 1).read();
      expect(got).toBeInstanceOf(Int32Array);
      for (let r = 0; r < 9; r++) {
        const row = Array.from(data.data.subarray(r * 70, (r + 1) * 70));
        expect(got[r]).toBe(row.indexOf(Math.max(...row)));
      }
      const col = await T.argmax(x, 0).read();
      for (let c = 0; c < 70; c++) {
        const column = Array.from({ length: 9 }, (_, r) => data.data[r * 70 + c]);
        expect(col[c]).toBe(column.indexOf(Math.max(...column)));
      }
    });

    it('logsumexp is stable for large inputs', async () => {
      const y = await T.logsumexp(T.tensor([1000, 1000, -1000])).item();
      expect(y).toBeCloseTo(1000 + Math.log(2), 3);
    });
  });
}

describe('matmul', () => {
  // Odd sizes around the tiles (a workgroup covers 64 x 64, or 32 x 128 for register 16x4), size-1 dims,
  // batches, transposes. Each style runs this adapter's picks (every variant: test/variants.test.ts).
  const dims: [number, number, number][] = [[7, 13, 9], [33, 65, 70], [1, 5, 1], [66, 1, 129]];
  for (const variant of ['register', 'shared'] as const) {
    it(`${variant} tiling: all four transpose cases on odd shapes`, async () => {
      T.engine().matmulVariant = variant;
      for (const [m, k, n] of dims) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = randomArr(transA ? [k, m] : [m, k], next);
            const b = randomArr(transB ? [n, k] : [k, n], next);
            await checkOp({ inputs: [a, b], gpu: (x, y) => T.matmul(x, y, { transA, transB }), ref: R.matmulRef(transA, transB), tol: REDUCE_TOL });
          }
        }
      }
    });

    it(`${variant} tiling: batched and broadcast batches`, async () => {
      T.engine().matmulVariant = variant;
      await checkOp({ inputs: [randomArr([3, 10, 11], next), randomArr([3, 11, 6], next)], gpu: (x, y) => T.matmul(x, y), ref: R.matmulRef(), tol: REDUCE_TOL });
      await checkOp({ inputs: [randomArr([3, 10, 11], next), randomArr([11, 6], next)], gpu: (x, y) => T.matmul(x, y), ref: R.matmulRef(), tol: REDUCE_TOL });
      await checkOp({
        inputs: [randomArr([11, 10], next), randomArr([2, 6, 11], next)],
        gpu: (x, y) => T.matmul(x, y, { transA: true, transB: true }),
        ref: R.matmulRef(true, true),
        tol: REDUCE_TOL,
      });
    });
  }
});

describe('shape ops', () => {
  it('reshape is a view and passes gradients through', async () => {
    const x = randomArr([4, 6], next);
    await checkOp({ inputs: [x], gpu: (t) => T.reshape(t, [3, -1, 2]), ref: { forward: ([a]) => R.arr([3, 4, 2], a.data), vjp: (_, g) => [R.arr([4, 6], g.data)] }, tol: 0 });
  });

  it('permute and transpose', async () => {
    await checkOp({ inputs: [randomArr([2, 3, 5], next)], gpu: (t) => T.permute(t, [2, 0, 1]), ref: R.permuteRef([2, 0, 1]), tol: 0 });
    await checkOp({ inputs: [randomArr([4, 7, 3], next)], gpu: (t) => T.transpose(t), ref: R.permuteRef([0, 2, 1]), tol: 0 });
  });

  it('expand broadcasts and sums gradients back', async () => {
    await checkOp({ inputs: [randomArr([3, 1], next)], gpu: (t) => T.expand(t, [2, 3, 5]), ref: R.expandRef([2, 3, 5]), tol: ELEMENTWISE_TOL });
  });

  it('slice and concat along an inner axis', async () => {
    await checkOp({ inputs: [randomArr([3, 6, 2], next)], gpu: (t) => T.slice(t, 1, 1, 4), ref: R.sliceRef(1, 1, 4), tol: 0 });
    await checkOp({ inputs: [randomArr([3, 6, 2], next)], gpu: (t) => T.slice(t, -1, -1), ref: R.sliceRef(2, 1, 2), tol: 0 });
    // Strided: every second row from 1 (the subsampling of ResNet's option-A shortcut), odd lengths.
    await checkOp({ inputs: [randomArr([2, 7, 5], next)], gpu: (t) => T.slice(t, 1, 1, 7, 2), ref: R.sliceRef(1, 1, 7, 2), tol: 0 });
    await checkOp({ inputs: [randomArr([2, 7, 5], next)], gpu: (t) => T.slice(t, 2, 0, undefined, 3), ref: R.sliceRef(2, 0, 5, 3), tol: 0 });
    await checkOp({
      inputs: [randomArr([2, 3], next), randomArr([2, 1], next), randomArr([2, 4], next)],
      gpu: (...ts) => T.concat(ts, 1),
      ref: R.concatRef(1),
      tol: 0,
    });
  });

  it('int32 tensors move through shape ops bit-exactly', async () => {
    const labels = T.tensor(new Int32Array([0, 1, 2, -7, 16777217, 2147483647]), [2, 3]);
    expect(Array.from(await T.transpose(labels).read())).toEqual([0, -7, 1, 16777217, 2, 2147483647]);
    expect(Array.from(await T.concat([labels, labels], 0).read())).toEqual([0, 1, 2, -7, 16777217, 2147483647, 0, 1, 2, -7, 16777217, 2147483647]);
  });
});

describe('indexing', () => {
  it('gather (index-select) along axes 0 and 1, with repeated indices', async () => {
    const idx = [4, 0, 0, 2];
    await checkOp({ inputs: [randomArr([5, 4], next)], gpu: (t) => T.gather(t, 0, T.tensor(new Int32Array(idx))), ref: R.gatherRef(0, idx), tol: 0, gradTol: ELEMENTWISE_TOL });
    await checkOp({ inputs: [randomArr([2, 5, 3], next)], gpu: (t) => T.indexSelect(t, 1, T.tensor(new Int32Array(idx))), ref: R.gatherRef(1, idx), tol: 0, gradTol: ELEMENTWISE_TOL });
  });

  it('scatterAdd gives per-class sums', async () => {
    const labels = [2, 0, 2, 1, 2, 0, 4];
    await checkOp({
      inputs: [randomArr([7, 3], next)],
      gpu: (t) => T.scatterAdd(t, 0, T.tensor(new Int32Array(labels)), 5),
      ref: R.scatterAddRef(0, labels, 5),
      tol: ELEMENTWISE_TOL,
    });
  });

  it('oneHot', async () => {
    const y = await T.oneHot(T.tensor(new Int32Array([2, 0, 1, 7])), 3).read();
    expect(Array.from(y)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('gather marks out-of-range indices with NaN', async () => {
    const y = await T.gather(T.tensor([1, 2, 3]), 0, T.tensor(new Int32Array([1, 3]))).read();
    expect(y[0]).toBe(2);
    expect(Number.isNaN(y[1])).toBe(true);
  });
});

// Both cooperative widths: 4 threads per output (CPU adapters) and up to 256 (GPUs).
for (const width of [4, 256]) {
  describe(`row-wise ops (${width} cooperating threads)`, () => {
    useCooperativeThreads(width);

    it('softmax and logSoftmax over the last axis (short and long rows)', async () => {
      for (const shape of [[6, 10], [3, 300], [2, 3, 1]]) {
        await checkOp({ inputs: [randomArr(shape, next, -4, 4)], gpu: T.softmax, ref: R.softmaxRef(false), tol: ELEMENTWISE_TOL });
        await checkOp({ inputs: [randomArr(shape, next, -4, 4)], gpu: T.logSoftmax, ref: R.softmaxRef(true), tol: ELEMENTWISE_TOL });
      }
    });

    it('softmax is stable for logits near 1e4 (temperature 0.05 on unit vectors gives 20)', async () => {
      const y = await T.softmax(T.tensor([[10000, 9999, -10000]])).read();
      expect(y[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
      expect(y[2]).toBe(0);
    });

    it('l2Normalize along the last axis', async () => {
      for (const shape of [[5, 128], [4, 7], [1, 2]]) {
        await checkOp({ inputs: [randomArr(shape, next)], gpu: (t) => T.l2Normalize(t), ref: R.l2NormalizeRef(), tol: ELEMENTWISE_TOL });
      }
    });

    it('crossEntropy with int32 labels (mean), gradient into the logits', async () => {
      const labels = R.arr([9], [0, 3, 9, 1, 1, 5, 7, 2, 0]);
      await checkOp({
        inputs: [randomArr([9, 10], next, -3, 3), labels],
        int: [false, true],
        gpu: (x, y) => T.crossEntropy(x, y),
        ref: R.crossEntropyRef,
        tol: REDUCE_TOL,
      });
    });

    it("crossEntropy 'none' and 'sum' reductions agree with 'mean'", async () => {
      const x = T.randn([6, 4], 0, 1, { seed: 8 });
      const y = T.tensor(new Int32Array([0, 1, 2, 3, 0, 1]));
      const none = await T.crossEntropy(x, y, 'none').read();
      const total = Array.from(none).reduce((a, b) => a + b, 0);
      expect(await T.crossEntropy(x, y, 'sum').item()).toBeCloseTo(total, 4);
      expect(await T.crossEntropy(x, y).item()).toBeCloseTo(total / 6, 5);
    });

    it('a label out of range gives a NaN loss (caught by the NaN stop), not a silent value', async () => {
      const loss = await T.crossEntropy(T.randn([2, 3], 0, 1, { seed: 1 }), T.tensor(new Int32Array([0, 3]))).item();
      expect(Number.isNaN(loss)).toBe(true);
    });
  });
}

describe('creation and random', () => {
  it('zeros, ones, full, arange, tensor (nested, typed, int)', async () => {
    expect(Array.from(await T.zeros([2, 2]).read())).toEqual([0, 0, 0, 0]);
    expect(Array.from(await T.ones([3]).read())).toEqual([1, 1, 1]);
    expect(Array.from(await T.full([2], -2.5).read())).toEqual([-2.5, -2.5]);
    expect(Array.from(await T.full([2], 7, 'i32').read())).toEqual([7, 7]);
    expect(Array.from(await T.arange(1, 4, 0.5).read())).toEqual([1, 1.5, 2, 2.5, 3, 3.5]);
    expect(Array.from(await T.arange(5, undefined, 1, 'i32').read())).toEqual([0, 1, 2, 3, 4]);
    const t = T.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(T.tensor(new Int32Array([1, 2])).dtype).toBe('i32');
    expect(Array.from(await T.toInt(T.tensor([-1.7, 2.9])).read())).toEqual([-1, 2]);
    expect(Array.from(await T.toFloat(T.tensor(new Int32Array([-3, 16777216]))).read())).toEqual([-3, 16777216]);
  });

  it('randn and rand: seeded, reproducible, with the right moments', async () => {
    const a = await T.randn([100_000], 0, 1, { seed: 42 }).read();
    const b = await T.randn([100_000], 0, 1, { seed: 42 }).read();
    const c = await T.randn([100_000], 0, 1, { seed: 43 }).read();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const samples = Array.from(a);
    const mean = samples.reduce((s, v) => s + v, 0) / a.length;
    const variance = samples.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    const u = await T.rand([100_000], -1, 3, { seed: 7 }).read();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(Math.abs(Array.from(u).reduce((s, v) => s + v, 0) / u.length - 1)).toBeLessThan(0.02);
    T.manualSeed(5);
    const s1 = await T.rand([8]).read();
    const s2 = await T.rand([8]).read();
    T.manualSeed(5);
    expect(await T.rand([8]).read()).toEqual(s1);
    expect(s1).not.toEqual(s2);
  });
});
