// The fused contrastive losses (src/losses/contrastive.ts, shaders/contrastive.wgsl) against float64
// references of the released code's formulas (test/reference/contrastive.ts; docs/paper-vs-code.md):
// values and gradients w.r.t. the features and prototypes, on long-tailed and binary 95/5 label draws,
// odd batch sizes, 1-3 views, T in {0.05, 0.1, 0.5}, at both cooperative widths; then the edge cases and
// input errors.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as T from '../src/index.js';
import { checkOp, rng } from './reference/check.js';
import { bclL2Ref, bclLayout, contrastiveRef, supConLayout, supMinLayout, supProtoLayout, type LossDef } from './reference/contrastive.js';
import { arr, type Arr } from './reference/ops.js';
import { expectRejectedBeforeGpu, normalArr, unitRows as unitRowsOf, useCooperativeThreads } from './helpers.js';

const TOL = 1e-4;

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(5150);

/** Features [B, V, D] with rows of norm about 1 (not normalised: the loss must not assume it). */
const featuresArr = (b: number, v: number, d: number, std = 1 / Math.sqrt(d)) => normalArr([b, v, d], next, 0, std);

/** Long-tailed labels over k classes (class c drawn with probability ∝ 0.5^c). */
function longTail(b: number, k: number): Arr {
  const weights = Array.from({ length: k }, (_, c) => 0.5 ** c);
  const total = weights.reduce((a, w) => a + w, 0);
  return arr([b], Array.from({ length: b }, () => {
    let u = next() * total;
    let c = 0;
    while (c < k - 1 && (u -= weights[c]) > 0) c++;
    return c;
  }));
}

/** Binary 95/5 labels (1 = minority), with at least one minority sample. */
function binary(b: number): Arr {
  const y = Array.from({ length: b }, () => (next() < 0.05 ? 1 : 0));
  if (!y.includes(1)) y[b - 1] = 1;
  return arr([b], y);
}

const unitRows = (k: number, d: number) => unitRowsOf(k, d, next);

function check(inputs: Arr[], def: LossDef, gpu: (...ts: T.Tensor[]) => T.Tensor, int: boolean[], grad?: boolean[]) {
  return checkOp({ inputs, int, grad, gpu, ref: contrastiveRef(def), tol: TOL });
}

for (const width of [4, 256]) {
  describe(`contrastive losses, ${width} cooperative threads`, () => {
    useCooperativeThreads(width);

    describe('supCon', () => {
      const cases: [number, number, number, number, 'all' | 'one', 'tail' | 'binary'][] = [
        [7, 2, 8, 0.1, 'all', 'tail'],
        [33, 2, 16, 0.05, 'all', 'binary'],
        [7, 3, 8, 0.5, 'one', 'tail'],
        [33, 2, 8, 0.1, 'one', 'binary'],
        [9, 1, 8, 0.1, 'all', 'tail'],
      ];
      for (const [b, v, d, t, mode, draw] of cases) {
        it(`B=${b} V=${v} D=${d} T=${t} mode=${mode} ${draw}`, async () => {
          const y = draw === 'tail' ? longTail(b, 4) : binary(b);
          const opts = { temperature: t, contrastMode: mode };
          await check([featuresArr(b, v, d), y], { labelInput: 1, temperature: t, layout: supConLayout(true, mode, 0.07) },
            (f, l) => T.supCon(f, l, opts), [false, true]);
        });
      }
    });

    describe('ntXent', () => {
      for (const [b, v, t] of [[7, 2, 0.1], [33, 2, 0.05], [5, 3, 0.5]]) {
        it(`B=${b} V=${v} T=${t} (base T = T) and SupContrast's SimCLR mode (base 0.07)`, async () => {
          const f = featuresArr(b, v, 8);
          await check([f], { temperature: t, layout: supConLayout(false, 'all', t) }, (x) => T.ntXent(x, { temperature: t }), [false]);
          await check([f], { temperature: t, layout: supConLayout(false, 'all', 0.07) }, (x) => T.supCon(x, null, { temperature: t }), [false]);
        });
      }
    });

    describe('bcl', () => {
      const cases: [number, number, number, number, 'bcl' | 'L1' | 'L3' | 'complement'][] = [
        [7, 2, 5, 0.1, 'bcl'],   // some of the 5 classes absent from the batch: prototypes only
        [33, 2, 10, 0.05, 'bcl'],
        [9, 3, 4, 0.5, 'bcl'],
        [33, 2, 6, 0.1, 'L1'],
        [7, 2, 5, 0.1, 'L3'],
        [7, 2, 5, 0.1, 'complement'], // classAveraging: false (class-complement only)
        [33, 3, 10, 0.05, 'complement'],
      ];
      for (const [b, v, k, t, variant] of cases) {
        it(`B=${b} V=${v} K=${k} T=${t} variant ${variant}`, async () => {
          const y = longTail(b, k);
          const def: LossDef = { labelInput: 1, protoInput: variant === 'L1' ? undefined : 2, protoGrad: true, temperature: t, layout: bclLayout(variant) };
          if (variant === 'L1') {
            await check([featuresArr(b, v, 8), y], def, (f, l) => T.bcl(f, l, null, { temperature: t, variant, numClasses: k }), [false, true]);
          } else {
            const opts = variant === 'complement' ? { temperature: t, classAveraging: false } : { temperature: t, variant };
            await check([featuresArr(b, v, 8), y, unitRows(k, 8)], def, (f, l, p) => T.bcl(f, l, p, opts), [false, true, false]);
          }
        });
      }
      // Eq. 7 is composed from generic ops (no fused kernel); V = 1 leaves some anchors alone in their class.
      const l2Cases: [number, number, number, number][] = [[7, 2, 5, 0.1], [33, 2, 6, 0.05], [9, 1, 4, 0.5], [9, 3, 3, 0.1]];
      for (const [b, v, k, t] of l2Cases) {
        it(`B=${b} V=${v} K=${k} T=${t} variant L2`, async () => {
          // A draw of one class would make the loss exactly 0, where a relative error means nothing.
          const y = longTail(b, k);
          if (y.data.every((c) => c === y.data[0])) y.data[b - 1] = (y.data[0] + 1) % k;
          const inputs = [featuresArr(b, v, 8), y];
          await checkOp({
            inputs, int: [false, true], tol: TOL, ref: bclL2Ref(k, t),
            gpu: (f, l) => T.bcl(f, l, null, { temperature: t, variant: 'L2', numClasses: k }),
          });
        });
      }
      it('binary 95/5 labels, K = 2', async () => {
        const def: LossDef = { labelInput: 1, protoInput: 2, protoGrad: true, temperature: 0.1, layout: bclLayout('bcl') };
        await check([featuresArr(33, 2, 8), binary(33), unitRows(2, 8)], def, (f, l, p) => T.bcl(f, l, p), [false, true, false]);
      });
    });

    describe('supMin', () => {
      for (const [b, v, t, minority] of [[33, 2, 0.1, 1], [7, 2, 0.05, 1], [9, 3, 0.5, 0]]) {
        it(`B=${b} V=${v} T=${t} minority ${minority}`, async () => {
          const y = binary(b);
          if (minority === 0) y.data.forEach((l, i) => (y.data[i] = 1 - l));
          await check([featuresArr(b, v, 8), y], { labelInput: 1, temperature: t, layout: supMinLayout(minority, 0.07) },
            (f, l) => T.supMin(f, l, { temperature: t, minorityClass: minority }), [false, true]);
        });
      }
    });

    describe('supProto', () => {
      for (const [b, v, t] of [[33, 2, 0.1], [7, 2, 0.05], [9, 3, 0.5]]) {
        it(`B=${b} V=${v} T=${t}, antipodal prototypes, pulled and unpulled anchors`, async () => {
          const p = unitRows(1, 8);
          const protos = arr([2, 8], [...p.data, ...p.data.map((x) => -x)]);
          // Features leaning on p or −p, so that both sides of the 0.5 threshold occur.
          const f = featuresArr(b, v, 8, 0.25);
          for (let r = 0; r < b * v; r++) for (let q = 0; q < 8; q++) f.data[r * 8 + q] = Math.fround(f.data[r * 8 + q] + (r % 3 - 1) * 0.7 * p.data[q]);
          const y = binary(b);
          const pulled = Array.from({ length: b * v }, (_, r) => {
            const c = f.data.subarray(r * 8, r * 8 + 8).reduce((s, x, q) => s + x * p.data[q], 0);
            return (y.data[Math.floor(r / v)] === 0 ? c : -c) <= -(y.data[Math.floor(r / v)] === 0 ? c : -c) + 1;
          });
          expect(pulled, 'both sides of the threshold').toContain(true);
          expect(pulled, 'both sides of the threshold').toContain(false);
          await check([f, y, protos], { labelInput: 1, protoInput: 2, temperature: t, layout: supProtoLayout([1, 1], 0.07) },
            (x, l, pr) => T.supProto(x, l, pr, { temperature: t }), [false, true, false], [true, false, false]);
        });
      }
    });
  });
}

describe('edge cases', () => {
  const read = async (t: T.Tensor) => Array.from(await t.read());

  it('B = 1: SupCon with three views, BCL with the prototypes of absent classes', async () => {
    // With V = 2 the only other row is the positive, so the loss is identically 0; V = 3 is not.
    await check([featuresArr(1, 3, 8), arr([1], [0])], { labelInput: 1, temperature: 0.1, layout: supConLayout(true, 'all', 0.07) },
      (f, l) => T.supCon(f, l, { temperature: 0.1 }), [false, true]);
    await check([featuresArr(1, 2, 8), arr([1], [2]), unitRows(4, 8)], { labelInput: 1, protoInput: 2, protoGrad: true, temperature: 0.1, layout: bclLayout('bcl') },
      (f, l, p) => T.bcl(f, l, p), [false, true, false]);
  });

  it('a batch of one class (SupCon, BCL, SupMin)', async () => {
    const y = arr([7], new Array(7).fill(1));
    await check([featuresArr(7, 2, 8), y], { labelInput: 1, temperature: 0.1, layout: supConLayout(true, 'all', 0.07) },
      (f, l) => T.supCon(f, l, { temperature: 0.1 }), [false, true]);
    await check([featuresArr(7, 2, 8), y, unitRows(3, 8)], { labelInput: 1, protoInput: 2, protoGrad: true, temperature: 0.1, layout: bclLayout('bcl') },
      (f, l, p) => T.bcl(f, l, p), [false, true, false]);
    await check([featuresArr(7, 2, 8), y], { labelInput: 1, temperature: 0.1, layout: supMinLayout(1, 0.07) },
      (f, l) => T.supMin(f, l, { temperature: 0.1 }), [false, true]);
  });

  it('anchors without positives (V = 1): 0 in the mean by default, NaN when asked', async () => {
    const f = featuresArr(5, 1, 8);
    const y = arr([5], [0, 1, 1, 2, 3]);
    await check([f, y], { labelInput: 1, temperature: 0.1, layout: supConLayout(true, 'all', 0.07) },
      (x, l) => T.supCon(x, l, { temperature: 0.1 }), [false, true]);
    const rows = T.scope(() => T.supCon(T.tensor(Float32Array.from(f.data), f.shape), [0, 1, 1, 2, 3], { reduction: 'none' }).keep());
    const got = await read(rows);
    rows.dispose();
    expect(got.map((x) => x === 0)).toEqual([true, false, false, true, true]);
    const nan = T.scope(() => T.supCon(T.tensor(Float32Array.from(f.data), f.shape), [0, 1, 1, 2, 3], { noPositives: 'nan' }).keep());
    expect(Number.isNaN(await nan.item())).toBe(true);
    nan.dispose();
  });

  it('very large logits: |z| = 5 at T = 0.05 (self logit 500) stays finite and exact', async () => {
    const f = unitRows(14, 8);
    f.shape = [7, 2, 8];
    f.data.forEach((x, i) => (f.data[i] = 5 * x));
    const y = longTail(7, 3);
    await check([f, y], { labelInput: 1, temperature: 0.05, layout: supConLayout(true, 'all', 0.07) },
      (x, l) => T.supCon(x, l, { temperature: 0.05 }), [false, true]);
    await check([f, y, unitRows(3, 8)], { labelInput: 1, protoInput: 2, protoGrad: true, temperature: 0.05, layout: bclLayout('bcl') },
      (x, l, p) => T.bcl(x, l, p, { temperature: 0.05 }), [false, true, false]);
    await checkOp({
      inputs: [f, y], int: [false, true], tol: TOL, ref: bclL2Ref(3, 0.05),
      gpu: (x, l) => T.bcl(x, l, null, { temperature: 0.05, variant: 'L2', numClasses: 3 }),
    });
  });

  it('BCL Eq. 7 ≤ Eq. 6 anchor by anchor (Jensen, as the paper states), and NaN for anchors alone in their class when asked', async () => {
    const f = featuresArr(9, 2, 8, 0.5);
    const y = [0, 1, 1, 2, 0, 0, 3, 1, 0];
    const [l1, l2, nan] = T.scope(() => {
      const x = T.tensor(Float32Array.from(f.data), f.shape);
      const opts = { numClasses: 5, reduction: 'none' as const, temperature: 0.1 };
      return [
        T.bcl(x, y, null, { ...opts, variant: 'L1' }).keep(),
        T.bcl(x, y, null, { ...opts, variant: 'L2' }).keep(),
        T.bcl(T.reshape(T.slice(x, 1, 0, 1), [9, 1, 8]), y, null, { ...opts, variant: 'L2', noPositives: 'nan' }).keep(),
      ];
    });
    const [a, b] = [await read(l1), await read(l2)];
    expect(b.length).toBe(18);
    b.forEach((v, r) => expect(v).toBeLessThanOrEqual(a[r] + 1e-5));
    // With one view, samples 3 and 6 are alone in their classes.
    expect((await read(nan)).map(Number.isNaN)).toEqual(y.map((c) => c === 2 || c === 3));
    for (const t of [l1, l2, nan]) t.dispose();
  });

  it("contrastMode 'one' multiplies only the B view-0 rows: 1/V of the matmul work of 'all', forward and backward", () => {
    const f = featuresArr(64, 3, 8);
    const y = Array.from(longTail(64, 4).data);
    /** Multiply-adds of every matmul recorded by one forward + backward (m, n, k, batch lead the uniforms). */
    const matmulWork = (mode: 'all' | 'one') => {
      const spy = vi.spyOn(T.engine(), 'dispatch');
      try {
        T.scope(() => {
          const x = T.tensor(Float32Array.from(f.data), f.shape).requireGrad();
          T.supCon(x, y, { contrastMode: mode }).backward();
          x.grad?.dispose();
        });
        return spy.mock.calls.filter(([d]) => d.family === 'matmul').map(([d]) => {
          const [m, n, k, batch] = new Uint32Array(d.params, 0, 4);
          return m * n * k * batch;
        });
      } finally {
        spy.mockRestore();
      }
    };
    const one = matmulWork('one');
    const all = matmulWork('all');
    expect(one.length).toBe(all.length);
    expect(one.reduce((a, b) => a + b) * 3).toBe(all.reduce((a, b) => a + b));
  });

  it('normalize: true equals the loss of l2Normalize(features)', async () => {
    const f = featuresArr(7, 2, 8, 3);
    const y = [0, 1, 0, 2, 1, 0, 0];
    const [a, b] = T.scope(() => {
      const x = T.tensor(Float32Array.from(f.data), f.shape);
      return [T.supCon(x, y, { normalize: true }).keep(), T.supCon(T.l2Normalize(x), y).keep()];
    });
    expect(await a.item()).toBeCloseTo(await b.item(), 5);
    a.dispose();
    b.dispose();
  });

  it('a device label outside [0, K) gives NaN for BCL (no read-back before the kernel)', async () => {
    const loss = T.scope(() => {
      const f = T.tensor(Float32Array.from(featuresArr(3, 2, 4).data), [3, 2, 4]);
      return T.bcl(f, T.tensor(Int32Array.from([0, 5, 1]), [3], 'i32'), T.tensor(Float32Array.from(unitRows(3, 4).data), [3, 4])).keep();
    });
    expect(Number.isNaN(await loss.item())).toBe(true);
    loss.dispose();
    const l2 = T.scope(() => {
      const f = T.tensor(Float32Array.from(featuresArr(3, 2, 4).data), [3, 2, 4]);
      return T.bcl(f, T.tensor(Int32Array.from([0, 5, 1]), [3], 'i32'), null, { variant: 'L2', numClasses: 3, reduction: 'none' }).keep();
    });
    expect((await read(l2)).map(Number.isNaN)).toEqual([false, false, true, true, false, false]);
    l2.dispose();
  });
});

describe('input errors, before any GPU work', () => {
  // Uploaded, not filled by a kernel: the check counts dispatches.
  const z = (shape: number[], dtype: T.DType = 'f32') => T.tensor(new Array(shape.reduce((a, b) => a * b, 1)).fill(0), shape, dtype);
  const f = () => z([4, 2, 8]);
  it('names the op, the shapes and the expectation', () => {
    expectRejectedBeforeGpu(() => T.supCon(z([8, 8]), [0, 1, 0, 1, 0, 1, 0, 1]), /supCon: expected features \[B, V, D\].*\[8, 8\] f32/);
    expectRejectedBeforeGpu(() => T.supCon(z([4, 2, 8], 'i32'), [0, 1, 0, 1]), /supCon: features has dtype i32/);
    expectRejectedBeforeGpu(() => T.supCon(f(), [0, 1, 0]), /supCon: expected 4 labels \(one per sample\), got 3/);
    expectRejectedBeforeGpu(() => T.supCon(f(), z([4])), /supCon: labels has dtype f32/);
    expectRejectedBeforeGpu(() => T.supCon(f(), z([2, 2], 'i32')), /supCon: expected labels \[4\].*got \[2, 2\] i32/);
    expectRejectedBeforeGpu(() => T.ntXent(z([4, 1, 8])), /supCon \(SimCLR mode\): expected at least 2 views/);
    expectRejectedBeforeGpu(() => T.supCon(f(), [0, 1, 0, 1], { temperature: 0 }), /supCon: temperature must be a positive/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 3, 1], z([3, 8])), /bcl: label 2 is 3, expected an integer in \[0, 2\]/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 2, 1], z([3, 7])), /bcl: expected prototypes \[K ≥ 1, 8\].*got \[3, 7\] f32/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 2, 1], null), /bcl: expected prototypes/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 2, 1], null, { variant: 'L1' }), /bcl \(L1\): numClasses must be a positive integer/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 2, 1], null, { variant: 'L2', numClasses: 0 }), /bcl \(L2\): numClasses must be a positive integer/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 2, 1], z([3, 8]), { variant: 'L2', numClasses: 3 }), /bcl \(L2\): Eq. 7 has no prototypes/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 3, 1], null, { variant: 'L2', numClasses: 3 }), /bcl \(L2\): label 2 is 3, expected an integer in \[0, 2\]/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 2, 1], null, { variant: 'L4' as 'L2' }), /bcl: variant must be 'bcl', 'L1', 'L2' or 'L3', got L4/);
    expectRejectedBeforeGpu(() => T.bcl(f(), [0, 1, 2, 1], null, { variant: 'L1', numClasses: 3, classAveraging: false }), /bcl \(L1\): classAveraging: false applies to variant 'bcl' only/);
    expectRejectedBeforeGpu(() => T.supProto(f(), [0, 1, 2, 1], z([2, 8])), /supProto: label 2 is 2, expected an integer in \[0, 1\]/);
    expectRejectedBeforeGpu(() => T.supProto(f(), [0, 1, 0, 1], z([3, 8])), /supProto: expected prototypes \[2, 8\]/);
    expectRejectedBeforeGpu(() => T.supMin(f(), [0, 1, 0.5, 1]), /supMin: label 2 is 0.5, expected an integer/);
  });
});
