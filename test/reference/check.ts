// Test harness: seeded random inputs, float64 finite-difference checks of the reference VJPs, and the
// comparison of a GPU op (forward and gradients) with its reference.
import { expect } from 'vitest';
import * as T from '../../src/index.js';
import { arr, relError, size, type Arr, type RefOp } from './ops.js';

export { relError };

/** Small deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random values in [lo, hi), rounded to float32 so the reference sees exactly what the GPU gets. */
export function randomArr(shape: number[], next: () => number, lo = -2, hi = 2): Arr {
  return arr(shape, Float32Array.from({ length: size(shape) }, () => lo + (hi - lo) * next()));
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  const err = relError(got, want);
  expect(err, `${what}: relative error ${err.toExponential(2)} > ${tol}`).toBeLessThanOrEqual(tol);
}

/**
 * Checks a reference VJP against central differences of sum(g * forward) in float64, on every element
 * of small inputs and on `samples` random elements of large ones.
 */
export function checkReferenceVjp(ref: RefOp, inputs: Arr[], g: Arr, differentiable: boolean[], eps = 1e-6, tol = 1e-6, samples = 48): void {
  const analytic = ref.vjp(inputs, g);
  const objective = (xs: Arr[]) => {
    const y = ref.forward(xs);
    return y.data.reduce((s, v, i) => s + v * g.data[i], 0);
  };
  inputs.forEach((x, k) => {
    if (!differentiable[k]) return;
    const n = x.data.length;
    const pick = rng(n);
    const at = n <= samples ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: samples }, () => Math.floor(pick() * n));
    const numeric = new Float64Array(at.length);
    at.forEach((i, q) => {
      const plus = inputs.map((t, j) => (j === k ? arr(t.shape, t.data) : t));
      const minus = inputs.map((t, j) => (j === k ? arr(t.shape, t.data) : t));
      plus[k].data[i] += eps;
      minus[k].data[i] -= eps;
      numeric[q] = (objective(plus) - objective(minus)) / (2 * eps);
    });
    const chosen = at.map((i) => analytic[k]!.data[i]);
    expectClose(chosen, numeric, tol, `reference VJP of input ${k} vs finite differences`);
  });
}

export interface OpCase {
  /** Input arrays (float64 holding float32 values); integer inputs are passed with `int`. */
  inputs: Arr[];
  /** Which inputs are int32 tensors (labels, indices, masks as ints). */
  int?: boolean[];
  /** Which inputs get a gradient (default: every float input). */
  grad?: boolean[];
  gpu: (...ts: T.Tensor[]) => T.Tensor;
  ref: RefOp;
  /** Forward and gradient tolerances (norm-wise relative error). */
  tol: number;
  gradTol?: number;
  seed?: number;
}

/**
 * Runs an op on the GPU and on the reference: compares the forward output, then backpropagates a random
 * upstream gradient and compares every input gradient; finally checks the reference VJP itself by finite
 * differences. Everything runs inside a scope, and the test asserts nothing leaks.
 */
export async function checkOp(c: OpCase): Promise<void> {
  const int = c.int ?? c.inputs.map(() => false);
  const grad = c.grad ?? int.map((i) => !i);
  const before = T.engine().memory().liveTensors;
  const want = c.ref.forward(c.inputs);
  const g = randomArr(want.shape, rng(c.seed ?? 99));
  const { out, grads } = T.scope(() => {
    const ts = c.inputs.map((x, k) =>
      int[k] ? T.tensor(Int32Array.from(x.data), x.shape, 'i32') : T.tensor(Float32Array.from(x.data), x.shape).requireGrad(grad[k]),
    );
    const y = c.gpu(...ts);
    const needGrad = grad.some(Boolean);
    if (needGrad) y.backward(T.tensor(Float32Array.from(g.data), g.shape));
    return { out: y, grads: ts.map((t, k) => (grad[k] ? t.grad! : null)) };
  });
  try {
    expect(out.shape).toEqual(want.shape);
    expectClose(await out.read(), want.data, c.tol, 'forward');
    if (grad.some(Boolean)) {
      const wantGrads = c.ref.vjp(c.inputs, g);
      for (let k = 0; k < grads.length; k++) {
        if (!grad[k]) continue;
        expect(grads[k], `gradient of input ${k}`).toBeTruthy();
        expect(grads[k]!.shape).toEqual(c.inputs[k].shape);
        expectClose(await grads[k]!.read(), wantGrads[k]!.data, c.gradTol ?? c.tol, `gradient of input ${k}`);
      }
      checkReferenceVjp(c.ref, c.inputs, g, grad);
    }
  } finally {
    out.dispose();
    for (const t of grads) t?.dispose();
  }
  expect(T.engine().memory().liveTensors, 'tensors leaked by the op or its backward').toBe(before);
}
