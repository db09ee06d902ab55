// Elementwise ops (shaders/elementwise.wgsl): unary maps, broadcasting binary ops, where, casts, and the
// strided copy that shape ops are built on. Each op's backward rule sits next to its forward.
import { provideGradientArithmetic, recordOp } from '../autograd.js';
import { engine } from '../engine.js';
import { formatShape, Tensor, type DType } from '../tensor.js';
import { full, ones } from './creation.js';
import { sumTo } from './reduce.js';
import { Uniforms } from './uniforms.js';
import { assertDType, assertTensor, describe, sameShape, stridesOf } from './validate.js';

const WG = 256;

/** Unary op codes of elementwise.wgsl (`unary_op`). */
const UNARY = {
  copy: 0, neg: 1, exp: 2, log: 3, sqrt: 4, rsqrt: 5, relu: 6, abs: 7, sigmoid: 8, tanh: 9, square: 10,
  affine: 11, powScalar: 12, sign: 13, trunc: 14,
} as const;

/** Binary op codes of elementwise.wgsl (`binary_op`). */
const BINARY = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6,
  eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12, reluGrad: 13,
} as const;

/** A strided view of a tensor's buffer used as a kernel operand. */
export interface Operand {
  tensor: Tensor;
  offset: number;
  strides: readonly number[];
}

/** The operand reading a contiguous tensor as itself. */
export function whole(t: Tensor): Operand {
  return { tensor: t, offset: 0, strides: stridesOf(t.shape) };
}

/** `t` read broadcast over `shape` (right-aligned; size-1 and missing dims repeat with stride 0). */
function broadcastOperand(t: Tensor, shape: readonly number[]): Operand {
  const own = stridesOf(t.shape);
  const lead = shape.length - t.shape.length;
  return { tensor: t, offset: 0, strides: shape.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : own[i - lead])) };
}

/** Uniforms and specialisation constants describing how a dispatch walks its operands. */
interface Iteration {
  params: ArrayBuffer;
  /** STRIDED: false when every operand is walked contiguously; RANK: dims left after coalescing; SPAN: elements per thread. */
  index: { STRIDED: boolean; RANK: number; SPAN: number };
  /** Workgroups to dispatch: each of the WG threads takes SPAN elements. */
  groups: [number, number, number];
}

/**
 * Lays out one elementwise dispatch over `shape`. Size-1 dims are dropped and neighbouring dims that
 * every operand walks contiguously are merged, so most calls need no coordinate arithmetic and the
 * rest need as few divisions as possible. Dims are right-aligned in the kernel's eight slots.
 */
function iteration(shape: readonly number[], ops: (Operand | null)[], alpha = 0, beta = 0): Iteration {
  const present = ops.map((o) => o ?? { offset: 0, strides: shape.map(() => 0) });
  const dims: { size: number; strides: number[] }[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const strides = present.map((o) => o.strides[d]);
    const prev = dims.at(-1);
    if (prev && prev.strides.every((st, k) => st === strides[k] * size)) {
      prev.size *= size;
      prev.strides = strides;
    } else {
      dims.push({ size, strides });
    }
  });
  if (dims.length > 8) throw new Error(`elementwise: rank ${dims.length} exceeds the supported maximum of 8`);
  const contiguous = dims.length === 0 || (dims.length === 1 && dims[0].strides.every((st) => st === 1));
  const [out, a, b, c] = present;
  const u = new Uniforms(192);
  const n = shape.reduce((x, y) => x * y, 1);
  u.u32(n, 0, out.offset, a?.offset ?? 0).f32(alpha, beta).u32(b?.offset ?? 0, c?.offset ?? 0);
  const slots = Array.from({ length: 8 - dims.length }, () => ({ size: 1, strides: [0, 0, 0, 0] })).concat(dims);
  u.u32(...slots.map((d) => d.size));
  for (const d of slots) u.u32(...[0, 1, 2, 3].map((k) => d.strides[k] ?? 0));
  const span = contiguous ? 4 : 1;
  return {
    params: u.buffer,
    index: { STRIDED: !contiguous, RANK: contiguous ? 1 : dims.length, SPAN: span },
    groups: engine().grid(Math.ceil(n / span / WG)),
  };
}

/**
 * The strided map kernel: `out` (a view into dst) = f(a view of src) over `shape`. Shape ops (permute,
 * expand, slice, concat) are this kernel with op 'copy'. Integer operands are read and written as
 * values (exact below 2^24); int-to-int copies move the bits unchanged.
 */
export function mapInto(op: keyof typeof UNARY, dst: Operand, src: Operand, shape: readonly number[], alpha = 0, beta = 0): void {
  const n = shape.reduce((x, y) => x * y, 1);
  if (n === 0) return;
  const e = engine();
  const it = iteration(shape, [dst, src], alpha, beta);
  const srcInt = src.tensor.dtype !== 'f32';
  const dstInt = dst.tensor.dtype !== 'f32';
  const rawCopy = op === 'copy' && srcInt && dstInt;
  e.dispatch({
    family: 'elementwise',
    entry: rawCopy ? 'copy_bits' : 'unary',
    constants: rawCopy ? { WG, ...it.index } : { WG, OP: UNARY[op], ...it.index, A_INT: srcInt, OUT_INT: dstInt },
    params: it.params,
    buffers: [dst.tensor.bufferFor(op), src.tensor.bufferFor(op)],
    groups: it.groups,
  });
}

function unary(op: keyof typeof UNARY, x: Tensor, alpha = 0, beta = 0, dtype: DType = 'f32'): Tensor {
  const out = Tensor.empty(x.shape, dtype);
  mapInto(op, whole(out), whole(x), x.shape, alpha, beta);
  return out;
}

function floatInput(op: string, x: Tensor): void {
  assertDType(op, x, ['f32']);
}

/** -x */
export function neg(x: Tensor): Tensor {
  floatInput('neg', x);
  return recordOp(unary('neg', x), 'neg', [x], (g) => [neg(g)]);
}

/** e^x */
export function exp(x: Tensor): Tensor {
  floatInput('exp', x);
  const y = unary('exp', x);
  return recordOp(y, 'exp', [x], (g) => [mul(g, y)]);
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  floatInput('log', x);
  return recordOp(unary('log', x), 'log', [x], (g) => [div(g, x)]);
}

/** Square root; d/dx = 1 / (2 sqrt x). */
export function sqrt(x: Tensor): Tensor {
  floatInput('sqrt', x);
  const y = unary('sqrt', x);
  return recordOp(y, 'sqrt', [x], (g) => [scale(div(g, y), 0.5)]);
}

/** 1 / sqrt(x); d/dx = -y^3 / 2. */
export function rsqrt(x: Tensor): Tensor {
  floatInput('rsqrt', x);
  const y = unary('rsqrt', x);
  return recordOp(y, 'rsqrt', [x], (g) => [mul(g, unary('powScalar', y, 3), -0.5)]);
}

/** max(x, 0); the gradient at 0 is taken as 0. */
export function relu(x: Tensor): Tensor {
  floatInput('relu', x);
  return recordOp(unary('relu', x), 'relu', [x], (g) => [binary('reluGrad', g, x)]);
}

/** |x|; d/dx = sign(x). */
export function abs(x: Tensor): Tensor {
  floatInput('abs', x);
  return recordOp(unary('abs', x), 'abs', [x], (g) => [mul(g, unary('sign', x))]);
}

/** 1 / (1 + e^-x); d/dx = y (1 - y). */
export function sigmoid(x: Tensor): Tensor {
  floatInput('sigmoid', x);
  const y = unary('sigmoid', x);
  return recordOp(y, 'sigmoid', [x], (g) => [mul(mul(g, y), unary('affine', y, -1, 1))]);
}

/** tanh(x); d/dx = 1 - y^2. */
export function tanh(x: Tensor): Tensor {
  floatInput('tanh', x);
  const y = unary('tanh', x);
  return recordOp(y, 'tanh', [x], (g) => [mul(g, unary('affine', unary('square', y), -1, 1))]);
}

/** x^2 */
export function square(x: Tensor): Tensor {
  floatInput('square', x);
  return recordOp(unary('square', x), 'square', [x], (g) => [mul(g, x, 2)]);
}

/** alpha * x + beta, for scalars alpha and beta. */
export function affine(x: Tensor, alpha: number, beta = 0): Tensor {
  floatInput('affine', x);
  return recordOp(unary('affine', x, alpha, beta), 'affine', [x], (g) => [unary('affine', g, alpha, 0)]);
}

/** alpha * x */
export function scale(x: Tensor, alpha: number): Tensor {
  return affine(x, alpha, 0);
}

/** x^p for a scalar p; d/dx = p x^(p-1). */
export function powScalar(x: Tensor, p: number): Tensor {
  floatInput('powScalar', x);
  return recordOp(unary('powScalar', x, p), 'powScalar', [x], (g) => [mul(g, unary('powScalar', x, p - 1), p)]);
}

/** Converts integer tensors to float32 (exact below 2^24). Not differentiable. */
export function toFloat(x: Tensor): Tensor {
  assertTensor('toFloat', x);
  return unary('copy', x);
}

/** Converts to int32, rounding toward zero. Not differentiable. */
export function toInt(x: Tensor): Tensor {
  assertTensor('toInt', x);
  return x.dtype === 'f32' ? unary('trunc', x, 0, 0, 'i32') : unary('copy', x, 0, 0, 'i32');
}

/** The shape two tensors broadcast to (NumPy rules), or a clear error. */
export function broadcastShapes(op: string, ...tensors: Tensor[]): number[] {
  const rank = Math.max(...tensors.map((t) => t.rank));
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const t of tensors) {
      const k = t.rank - rank + i;
      const s = k < 0 ? 1 : t.shape[k];
      if (s !== 1 && d !== 1 && s !== d) {
        throw new Error(`${op}: shapes ${tensors.map(describe).join(' and ')} cannot be broadcast together (dimension ${i}: ${d} vs ${s})`);
      }
      if (s !== 1) d = s;
    }
    shape.push(d);
  }
  return shape;
}

function binary(op: keyof typeof BINARY, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, a, b);
  const out = Tensor.empty(shape, 'f32');
  const n = out.size;
  if (n === 0) return out;
  const e = engine();
  const it = iteration(shape, [whole(out), broadcastOperand(a, shape), broadcastOperand(b, shape)]);
  e.dispatch({
    family: 'elementwise',
    entry: 'binary',
    constants: { WG, OP: BINARY[op], ...it.index, A_INT: a.dtype !== 'f32', B_INT: b.dtype !== 'f32' },
    params: it.params,
    buffers: [out.bufferFor(op), a.bufferFor(op), b.bufferFor(op)],
    groups: it.groups,
  });
  return out;
}

function checkBinary(op: string, a: Tensor, b: Tensor): void {
  assertTensor(op, a, 'first input');
  assertTensor(op, b, 'second input');
}

/** Float32 inputs only: integer tensors would silently lose their type in arithmetic. */
function checkArithmetic(op: string, a: Tensor, b: Tensor): void {
  checkBinary(op, a, b);
  assertDType(op, a, ['f32'], 'first input');
  assertDType(op, b, ['f32'], 'second input');
}

/** a + b with broadcasting (a number b adds a scalar). */
export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  checkArithmetic('add', a, b);
  return recordOp(binary('add', a, b), 'add', [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

// backward() seeds with ones and sums gradient contributions with add; the tape cannot import ops.
provideGradientArithmetic({ ones, add });

/** a - b with broadcasting. */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  checkArithmetic('sub', a, b);
  return recordOp(binary('sub', a, b), 'sub', [a, b], (g) => [sumTo(g, a.shape), sumTo(neg(g), b.shape)]);
}

/** a * b with broadcasting; a third argument multiplies by a scalar too (used by backward rules). */
export function mul(a: Tensor, b: Tensor | number, alpha = 1): Tensor {
  if (typeof b === 'number') return affine(a, b * alpha);
  checkArithmetic('mul', a, b);
  const y = recordOp(binary('mul', a, b), 'mul', [a, b], (g) => [sumTo(mul(g, b), a.shape), sumTo(mul(g, a), b.shape)]);
  if (alpha === 1) return y;
  const scaled = affine(y, alpha);
  y.dispose();
  return scaled;
}

/** a / b with broadcasting; d/da = 1/b, d/db = -a/b^2 = -y/b. */
export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1 / b);
  checkArithmetic('div', a, b);
  const y = binary('div', a, b);
  return recordOp(y, 'div', [a, b], (g) => {
    const ga = div(g, b);
    return [sumTo(ga, a.shape), sumTo(neg(mul(ga, y)), b.shape)];
  });
}

/** a^b with broadcasting; d/da = b a^(b-1), d/db = y ln a (defined for a > 0). */
export function pow(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return powScalar(a, b);
  checkArithmetic('pow', a, b);
  const y = binary('pow', a, b);
  return recordOp(y, 'pow', [a, b], (g) => [
    sumTo(mul(g, mul(b, binary('pow', a, sub(b, 1)))), a.shape),
    sumTo(mul(g, mul(y, log(a))), b.shape),
  ]);
}

/** Elementwise maximum; on ties the gradient goes to `a`. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  checkArithmetic('maximum', a, b);
  return recordOp(binary('maximum', a, b), 'maximum', [a, b], (g) => [
    sumTo(mul(g, binary('ge', a, b)), a.shape),
    sumTo(mul(g, binary('lt', a, b)), b.shape),
  ]);
}

/** Elementwise minimum; on ties the gradient goes to `a`. */
export function minimum(a: Tensor, b: Tensor): Tensor {
  checkArithmetic('minimum', a, b);
  return recordOp(binary('minimum', a, b), 'minimum', [a, b], (g) => [
    sumTo(mul(g, binary('le', a, b)), a.shape),
    sumTo(mul(g, binary('gt', a, b)), b.shape),
  ]);
}

function comparison(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge') {
  return (a: Tensor, b: Tensor): Tensor => {
    checkBinary(op, a, b);
    return binary(op, a, b);
  };
}

/** Masks (1 where true, 0 where false, float32) with broadcasting; integer inputs are compared exactly. */
export const eq = comparison('eq');
export const ne = comparison('ne');
export const lt = comparison('lt');
export const le = comparison('le');
export const gt = comparison('gt');
export const ge = comparison('ge');

/** cond != 0 ? a : b, with broadcasting of all three; differentiable in a and b. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  assertTensor('where', cond, 'condition');
  checkArithmetic('where', a, b);
  const shape = broadcastShapes('where', cond, a, b);
  const out = Tensor.empty(shape, 'f32');
  if (out.size > 0) {
    const e = engine();
    const it = iteration(shape, [whole(out), ...[a, b, cond].map((t) => broadcastOperand(t, shape))]);
    e.dispatch({
      family: 'elementwise',
      entry: 'select_where',
      constants: { WG, ...it.index, A_INT: false, B_INT: false, C_INT: cond.dtype !== 'f32' },
      params: it.params,
      buffers: [out.bufferFor('where'), a.bufferFor('where'), b.bufferFor('where'), cond.bufferFor('where')],
      groups: it.groups,
    });
  }
  return recordOp(out, 'where', [a, b], (g) => {
    const zero = full([], 0);
    return [sumTo(where(cond, g, zero), a.shape), sumTo(where(cond, zero, g), b.shape)];
  });
}

/**
 * In-place dst <- src (same shape and dtype), outside the graph: parameter updates and running
 * statistics. `dst` keeps its identity, so anything holding it (an optimizer, a module) sees the change.
 */
export function assign(dst: Tensor, src: Tensor): void {
  assertTensor('assign', dst, 'destination');
  assertTensor('assign', src, 'source');
  assertShape('assign', src, dst.shape, 'source');
  if (src.dtype !== dst.dtype) throw new Error(`assign: source is ${describe(src)}, expected dtype ${dst.dtype} like the destination ${describe(dst)}`);
  if (src.bufferFor('assign') === dst.bufferFor('assign')) return;
  mapInto('copy', whole(dst), whole(src), dst.shape);
}

/**
 * In place t <- t + by, outside the graph, for float32 and integer tensors (counters such as batch
 * norm's num_batches_tracked). Two dispatches: WebGPU forbids reading and writing one buffer in one.
 */
export function increment(t: Tensor, by = 1): void {
  assertTensor('increment', t);
  const next = Tensor.empty(t.shape, t.dtype);
  mapInto('affine', whole(next), whole(t), t.shape, 1, by);
  mapInto('copy', whole(t), whole(next), t.shape);
  next.dispose();
}

/** Writes alpha + beta * i into every element i of a float32 tensor. */
export function fillInto(t: Tensor, alpha: number, beta = 0): void {
  if (t.size === 0) return;
  const it = iteration([t.size], [whole(t)], alpha, beta);
  engine().dispatch({
    family: 'elementwise',
    entry: 'fill',
    constants: { WG, SPAN: it.index.SPAN },
    params: it.params,
    buffers: [t.bufferFor('fill')],
    groups: it.groups,
  });
}

/** Throws unless `t` has exactly `shape`; used where an op needs an exact operand shape. */
export function assertShape(op: string, t: Tensor, shape: readonly number[], what = 'input'): void {
  if (!sameShape(t.shape, shape)) throw new Error(`${op}: ${what} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`);
}
