// Gather / scatter-add along an axis and one-hot (shaders/index.wgsl). scatterAdd is gather's adjoint,
// and with class labels as indices it gives per-class sums.
import { recordOp } from '../autograd.js';
import { engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { Uniforms } from './uniforms.js';
import { assertDType, describe, normalizeAxis } from './validate.js';

const WG = 256;

function around(x: readonly number[], axis: number): [number, number] {
  const outer = x.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.slice(axis + 1).reduce((a, b) => a * b, 1);
  return [outer, inner];
}

function indexKernel(entry: string, out: Tensor, src: Tensor | null, idx: Tensor, outer: number, rows: number, inner: number): void {
  if (out.size === 0) return;
  const e = engine();
  e.dispatch({
    family: 'index',
    entry,
    constants: { WG },
    params: new Uniforms(16).u32(outer, rows, inner, idx.size).buffer,
    buffers: [out.bufferFor(entry), src?.bufferFor(entry) ?? null, idx.bufferFor(entry)],
    groups: e.grid(Math.ceil(out.size / WG)),
  });
}

function checkIndex(op: string, idx: Tensor): void {
  assertDType(op, idx, ['i32'], 'indices');
  if (idx.rank !== 1) throw new Error(`${op}: indices must be 1-D int32, got ${describe(idx)}`);
}

/**
 * Selects entries idx[j] along `axis`: out has x's shape with that dimension replaced by idx's length.
 * An index out of range gives NaN. Backward: scatter-add of the gradient into x's shape.
 */
export function gather(x: Tensor, axis: number, idx: Tensor): Tensor {
  assertDType('gather', x, ['f32']);
  checkIndex('gather', idx);
  const ax = normalizeAxis('gather', axis, x.rank);
  const [outer, inner] = around(x.shape, ax);
  const out = Tensor.empty(x.shape.map((d, i) => (i === ax ? idx.size : d)));
  indexKernel('gather', out, x, idx, outer, x.shape[ax], inner);
  return recordOp(out, 'gather', [x], (g) => [scatterAdd(g, ax, idx, x.shape[ax])]);
}

/** torch-style alias of {@link gather} along an axis. */
export const indexSelect = gather;

/**
 * Sums slices of `src` into `rows` slots along `axis`: out[..., r, ...] = sum over j with idx[j] = r of
 * src[..., j, ...]. Deterministic (no atomics). Backward: gather of the gradient.
 */
export function scatterAdd(src: Tensor, axis: number, idx: Tensor, rows: number): Tensor {
  assertDType('scatterAdd', src, ['f32']);
  checkIndex('scatterAdd', idx);
  const ax = normalizeAxis('scatterAdd', axis, src.rank);
  if (src.shape[ax] !== idx.size) {
    throw new Error(`scatterAdd: src ${describe(src)} has ${src.shape[ax]} entries along axis ${axis} but there are ${idx.size} indices`);
  }
  if (!Number.isInteger(rows) || rows < 0) throw new Error(`scatterAdd: rows must be a non-negative integer, got ${rows}`);
  const [outer, inner] = around(src.shape, ax);
  const out = Tensor.empty(src.shape.map((d, i) => (i === ax ? rows : d)));
  indexKernel('scatter_add', out, src, idx, outer, rows, inner);
  return recordOp(out, 'scatterAdd', [src], (g) => [gather(g, ax, idx)]);
}

/** [N] int32 labels to a [N, classes] float32 one-hot matrix (rows of out-of-range labels are 0). */
export function oneHot(labels: Tensor, classes: number): Tensor {
  checkIndex('oneHot', labels);
  if (!Number.isInteger(classes) || classes <= 0) throw new Error(`oneHot: classes must be a positive integer, got ${classes}`);
  const out = Tensor.empty([labels.size, classes]);
  indexKernel('one_hot', out, null, labels, 1, classes, 1);
  return out;
}
