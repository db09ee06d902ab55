// Input checks shared by the ops. Every error names the op, the shapes and dtypes it got, and what it
// expected, and is thrown before anything is recorded on the GPU.
import { formatShape, Tensor, type DType } from '../tensor.js';

export function describe(t: Tensor): string {
  return `${formatShape(t.shape)} ${t.dtype}`;
}

export function assertTensor(op: string, t: unknown, what = 'input'): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  t.bufferFor(op);
}

export function assertDType(op: string, t: Tensor, allowed: readonly DType[], what = 'input'): void {
  assertTensor(op, t, what);
  if (!allowed.includes(t.dtype)) {
    throw new Error(`${op}: ${what} has dtype ${t.dtype} (shape ${formatShape(t.shape)}), expected ${allowed.join(' or ')}`);
  }
}

/** Checks an f32 matrix [rows, cols] (any positive size where undefined), with a clear error. */
export function checkMatrix(op: string, t: Tensor, what: string, rows?: number, cols?: number): void {
  assertDType(op, t, ['f32'], what);
  if (t.rank !== 2 || t.shape.some((n) => n === 0) || (rows !== undefined && t.shape[0] !== rows) || (cols !== undefined && t.shape[1] !== cols)) {
    throw new Error(`${op}: expected ${what} [${rows ?? '≥ 1'}, ${cols ?? '≥ 1'}], got ${describe(t)}`);
  }
}

/** Normalises a possibly negative axis of a tensor of rank `rank`. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= Math.max(rank, 1)) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** Contiguous row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
