// Shape ops. reshape is a view (no copy); permute, expand, slice and concat are strided copies through
// the elementwise kernel (shaders/elementwise.wgsl, op 'copy').
import { recordOp } from '../autograd.js';
import { formatShape, shapeSize, Tensor } from '../tensor.js';
import { zeros } from './creation.js';
import { mapInto, whole } from './elementwise.js';
import { sumTo } from './reduce.js';
import { assertTensor, describe, normalizeAxis, stridesOf } from './validate.js';

/** Same data, new shape (one dimension may be -1). Shares storage with `x`. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('reshape', x);
  const known = shape.filter((d) => d !== -1);
  const free = shape.length - known.length;
  const knownSize = shapeSize(known);
  let resolved = [...shape];
  if (free > 1) throw new Error(`reshape: at most one dimension may be -1, got ${formatShape(shape)}`);
  if (free === 1) {
    if (knownSize === 0 || x.size % knownSize !== 0) throw new Error(`reshape: cannot reshape ${describe(x)} to ${formatShape(shape)}`);
    resolved = shape.map((d) => (d === -1 ? x.size / knownSize : d));
  }
  if (resolved.some((d) => !Number.isInteger(d) || d < 0) || shapeSize(resolved) !== x.size) {
    throw new Error(`reshape: cannot reshape ${describe(x)} (${x.size} elements) to ${formatShape(shape)}`);
  }
  const y = Tensor.view(x, resolved);
  return recordOp(y, 'reshape', [x], (g) => [reshape(g, x.shape)]);
}

/** Reorders dimensions: output dimension i is input dimension dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  assertTensor('permute', x);
  const norm = dims.map((d) => normalizeAxis('permute', d, x.rank));
  if (norm.length !== x.rank || new Set(norm).size !== x.rank) {
    throw new Error(`permute: dims ${formatShape(dims)} are not a permutation of the ${x.rank} axes of ${describe(x)}`);
  }
  const shape = norm.map((d) => x.shape[d]);
  const inStrides = stridesOf(x.shape);
  const y = Tensor.empty(shape, x.dtype);
  mapInto('copy', whole(y), { tensor: x, offset: 0, strides: norm.map((d) => inStrides[d]) }, shape);
  const inverse = norm.map((_, i) => norm.indexOf(i));
  return recordOp(y, 'permute', [x], (g) => [permute(g, inverse)]);
}

/** Swaps two dimensions (by default the last two: the matrix transpose, batched). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  assertTensor('transpose', x);
  const a = normalizeAxis('transpose', dim0, x.rank);
  const b = normalizeAxis('transpose', dim1, x.rank);
  const dims = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, dims);
}

/** Broadcasts `x` to `shape` (NumPy rules), materialised. Backward: sum over the broadcast axes. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('expand', x);
  const lead = shape.length - x.rank;
  const own = stridesOf(x.shape);
  const ok = lead >= 0 && x.shape.every((d, i) => d === 1 || d === shape[lead + i]);
  if (!ok) throw new Error(`expand: cannot broadcast ${describe(x)} to ${formatShape(shape)}`);
  const strides = shape.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : own[i - lead]));
  const y = Tensor.empty(shape, x.dtype);
  mapInto('copy', whole(y), { tensor: x, offset: 0, strides }, shape);
  return recordOp(y, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

/** Elements start, start + step, ... below end along `axis` (negative positions count from the end). */
export function slice(x: Tensor, axis: number, start: number, end?: number, step = 1): Tensor {
  assertTensor('slice', x);
  const ax = normalizeAxis('slice', axis, x.rank);
  const len = x.shape[ax];
  const s = start < 0 ? start + len : start;
  const e = end === undefined ? len : end < 0 ? end + len : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > len || s > e) {
    throw new Error(`slice: range [${start}, ${end ?? len}) is out of bounds for axis ${axis} of length ${len} (${describe(x)})`);
  }
  if (!Number.isInteger(step) || step < 1) throw new Error(`slice: step must be an integer >= 1, got ${step}`);
  const shape = x.shape.map((d, i) => (i === ax ? Math.ceil((e - s) / step) : d));
  const strides = stridesOf(x.shape).map((st, i) => (i === ax ? st * step : st));
  const y = Tensor.empty(shape, x.dtype);
  const offset = (s * strides[ax]) / step;
  mapInto('copy', whole(y), { tensor: x, offset, strides }, shape);
  return recordOp(y, 'slice', [x], (g) => {
    const gx = zeros(x.shape);
    mapInto('copy', { tensor: gx, offset, strides }, whole(g), shape);
    return [gx];
  });
}

/** Joins tensors along `axis`; all other dimensions must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: expected at least one tensor');
  tensors.forEach((t, i) => assertTensor('concat', t, `tensor ${i}`));
  const first = tensors[0];
  const ax = normalizeAxis('concat', axis, first.rank);
  for (const t of tensors) {
    const ok = t.rank === first.rank && t.dtype === first.dtype && t.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!ok) throw new Error(`concat: shapes ${tensors.map(describe).join(', ')} differ outside axis ${axis}`);
  }
  const shape = first.shape.map((d, i) => (i === ax ? tensors.reduce((n, t) => n + t.shape[ax], 0) : d));
  const y = Tensor.empty(shape, first.dtype);
  const strides = stridesOf(shape);
  const offsets: number[] = [];
  let at = 0;
  for (const t of tensors) {
    offsets.push(at);
    mapInto('copy', { tensor: y, offset: at * strides[ax], strides }, whole(t), t.shape);
    at += t.shape[ax];
  }
  return recordOp(y, 'concat', tensors, (g) => tensors.map((t, i) => slice(g, ax, offsets[i], offsets[i] + t.shape[ax])));
}
