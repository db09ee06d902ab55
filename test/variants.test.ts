// Every kernel variant a sweep may pick (src/ops/tuning/variants.ts: matmulCandidates, convCandidates)
// against the float64 references, through the ops as the engine runs them: matmul with every transpose
// case and a broadcast batch, conv2d forward, input gradient and weight gradient, on small shapes that
// fill no tile and whose lengths are odd (vec4 loads off) or multiples of 4 but of no tile (vec4 on).
// f16 storage where the adapter has `shader-f16`; on Dawn's null backend (which validates every kernel
// and computes nothing) every variant, f32 and f16, compiles whatever the adapter here lacks.
//
// The engine runs with Dawn's workgroup-memory zero-initialisation off: SwiftShader then compiles the
// workgroup-tiled kernels 10-20x faster (the zero-filling code, not the kernels, dominated: 1.6-5 s a
// pipeline against 0.15-0.45 s), and a kernel that read workgroup memory it had not staged would read
// leftovers instead of zeros, so the check is stricter, not looser.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { defaultConv, pinVariant, type ConvKind, type ConvVariant } from '../src/ops/tuning/variants.js';
import { conv2dRef, type ConvParams } from './reference/conv.js';
import { expectClose, randomArr, rng } from './reference/check.js';
import { arr, matmulRef, roundToF16, type Arr } from './reference/ops.js';

const NO_ZERO_INIT = 'enable-dawn-features=disable_workgroup_init';
let e = await T.init({ log: false, dawnFlags: [NO_ZERO_INIT] });
const hasF16 = e.features.has('shader-f16');
const next = rng(77);

/** f32 sums of up to ~100 products of values below 2 (and f16 inputs rounded before the reference). */
const TOL = 1e-5;

/** `a` as f16 storage keeps it (under f16), else unchanged. */
const rounded = (a: Arr, half: boolean) => (half ? arr(a.shape, a.data.map(roundToF16)) : a);

async function checkMatmul(name: string, half: boolean): Promise<void> {
  const cases: [number, number, number][] = [[33, 13, 70], [20, 12, 36]];
  for (const [m, k, n] of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = randomArr(transA ? [k, m] : [m, k], next);
        const b = randomArr(transB ? [n, k] : [k, n], next);
        const want = matmulRef(transA, transB).forward([rounded(a, half), rounded(b, half)]);
        const c = T.scope(() => T.matmul(T.tensor(Float32Array.from(a.data), a.shape), T.tensor(Float32Array.from(b.data), b.shape), { transA, transB }));
        expectClose(await c.read(), want.data, TOL, `${name}: ${m}x${k}x${n} transA ${transA} transB ${transB}`);
        c.dispose();
      }
    }
  }
  // A batch of 3 against one shared matrix (batch stride 0).
  const a = randomArr([3, 10, 12], next);
  const b = randomArr([12, 8], next);
  const want = matmulRef().forward([rounded(a, half), rounded(b, half)]);
  const c = T.scope(() => T.matmul(T.tensor(Float32Array.from(a.data), a.shape), T.tensor(Float32Array.from(b.data), b.shape)));
  expectClose(await c.read(), want.data, TOL, `${name}: batched`);
  c.dispose();
}

interface ConvCase extends ConvParams {
  x: number[];
  w: number[];
  bias: boolean;
}

// Stride 2 with padding, odd channel counts; a 3x2 kernel with strides [2, 1] over 17 -> 20 channels
// (more than one 16-row block and a tile); a 1x1 stride-2 shortcut (input-gradient phases without taps).
const CONV_CASES: ConvCase[] = [
  { x: [3, 5, 9, 8], w: [11, 5, 3, 3], stride: [2, 2], padding: [1, 1], bias: true },
  { x: [2, 17, 8, 7], w: [20, 17, 3, 2], stride: [2, 1], padding: [1, 0], bias: false },
  { x: [1, 6, 7, 7], w: [9, 6, 1, 1], stride: [2, 2], padding: [0, 0], bias: true },
];

/** Runs GEMM `kind` of conv2d on each case (forward; or backward with only x, or only w, needing a gradient). */
async function checkConv(kind: ConvKind, name: string, half: boolean): Promise<void> {
  for (const c of CONV_CASES) {
    const ref = conv2dRef(c);
    const inputs = [randomArr(c.x, next), randomArr(c.w, next), ...(c.bias ? [randomArr([c.w[0]], next)] : [])];
    // Under f16 storage x, w and dy are rounded; the bias stays f32.
    const seen = inputs.map((t, i) => (i < 2 ? rounded(t, half) : t));
    const want = ref.forward(seen);
    const g = randomArr(want.shape, next);
    const out = T.scope(() => {
      const [x, w, b] = inputs.map((t) => T.tensor(Float32Array.from(t.data), t.shape));
      x.requireGrad(kind === 'dgrad');
      w.requireGrad(kind === 'wgrad');
      const y = T.conv2d(x, w, b ?? null, { stride: c.stride, padding: c.padding });
      if (kind === 'forward') return y;
      y.backward(T.tensor(Float32Array.from(g.data), g.shape));
      return kind === 'dgrad' ? x.grad! : w.grad!;
    });
    const got = await out.read();
    out.dispose();
    const expected = kind === 'forward' ? want.data : ref.vjp(seen, rounded(g, half))[kind === 'dgrad' ? 0 : 1]!.data;
    expectClose(got, expected, TOL, `${name}: x [${c.x}] w [${c.w}] stride [${c.stride}] padding [${c.padding}]`);
  }
}

const kindsOfConv: ConvKind[] = ['forward', 'dgrad', 'wgrad'];

describe('every matmul variant matches the float64 reference', () => {
  for (const v of T.matmulCandidates(e)) {
    it(T.variantName(v), async () => {
      pinVariant(e, 'matmul', v);
      await checkMatmul(T.variantName(v), false);
    });
  }
});

// Today's default (register, 64 threads, 16 x 16 blocks) is checked by test/conv.test.ts on nine cases.
const isDefault = (kind: ConvKind, v: ConvVariant) => T.variantName(v) === T.variantName(defaultConv(e, kind));

for (const kind of kindsOfConv) {
  describe(`every conv2d ${kind} variant matches the float64 reference`, () => {
    for (const v of T.convCandidates(e, kind).filter((x) => !isDefault(kind, x))) {
      it(T.variantName(v), async () => {
        pinVariant(e, kind, v);
        await checkConv(kind, T.variantName(v), false);
      });
    }
  });
}

describe.skipIf(!hasF16)('f16 storage, f32 accumulation: every variant against float64 on f16-rounded inputs (needs the adapter feature shader-f16)', () => {
  it('matmul', async () => {
    e.f16Storage = true;
    try {
      for (const v of T.matmulCandidates(e)) {
        pinVariant(e, 'matmul', v);
        await checkMatmul(`f16 ${T.variantName(v)}`, true);
      }
    } finally {
      e.f16Storage = false;
    }
  });
  for (const kind of kindsOfConv) {
    it(`conv2d ${kind}`, async () => {
      e.f16Storage = true;
      try {
        for (const v of T.convCandidates(e, kind)) {
          pinVariant(e, kind, v);
          await checkConv(kind, `f16 ${T.variantName(v)}`, true);
        }
      } finally {
        e.f16Storage = false;
      }
    });
  }
});

describe("Dawn's null backend (shader-f16 and subgroups; validates, computes nothing)", () => {
  it('compiles and validates every variant, f32 and f16', async () => {
    e.destroy();
    e = await T.init({ log: false, adapter: 'Null', dawnFlags: ['backend=null'] });
    expect([...e.features]).toEqual(expect.arrayContaining(['shader-f16', 'subgroups']));
    const names: string[] = [];
    for (const half of [false, true]) {
      e.f16Storage = half;
      for (const v of T.matmulCandidates(e)) {
        pinVariant(e, 'matmul', v);
        names.push(T.variantName(v));
        T.scope(() => {
          for (const [transA, transB] of [[false, false], [true, true]]) {
            // Odd and multiple-of-4 shapes: the scalar and the vec4 loads.
            T.matmul(T.zeros(transA ? [13, 33] : [33, 13]), T.zeros(transB ? [70, 13] : [13, 70]), { transA, transB });
            T.matmul(T.zeros(transA ? [12, 20] : [20, 12]), T.zeros(transB ? [36, 12] : [12, 36]), { transA, transB });
          }
        });
        await e.sync();
      }
      for (const kind of kindsOfConv) {
        for (const v of T.convCandidates(e, kind)) {
          pinVariant(e, kind, v);
          T.scope(() => {
            const x = T.zeros([2, 5, 9, 8]).requireGrad(kind === 'dgrad');
            const w = T.zeros([11, 5, 3, 3]).requireGrad(kind === 'wgrad');
            const y = T.conv2d(x, w, kind === 'forward' ? T.zeros([11]) : null, { stride: 2, padding: 1 });
            if (kind !== 'forward') y.backward(T.zeros(y.shape));
          });
          await e.sync();
        }
      }
    }
    // The subgroup kernels are among them (this adapter has the feature).
    expect(names.some((n) => n.startsWith('subgroup'))).toBe(true);
  });
});
