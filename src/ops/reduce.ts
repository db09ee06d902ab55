// Reductions (shaders/reduce.wgsl) over any axes: sum, mean, max, min, logsumexp, and argmax over one
// axis. Several axes are reduced one at a time (each of these reductions composes that way).
import { recordOp } from '../autograd.js';
import { engine } from '../engine.js';
import { formatShape, Tensor } from '../tensor.js';
import { div, eq, exp, mul, sub } from './elementwise.js';
import { expand, reshape } from './shape.js';
import { Uniforms } from './uniforms.js';
import { assertDType, normalizeAxis } from './validate.js';

const OPS = { sum: 0, max: 1, min: 2, argmax: 3, logsumexp: 4 } as const;
type ReduceKind = keyof typeof OPS;

/** Below this many outputs and above this axis length, a workgroup cooperates on each output. */
const TREE_MAX_OUTPUTS = 4096;
const TREE_MIN_LENGTH = 64;

/** Reduces one axis with the reduce kernel; `scale` multiplies a sum (mean = sum / r). */
function reduceAxis(kind: ReduceKind, x: Tensor, axis: number, keepDims: boolean, scale = 1): Tensor {
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const r = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outShape = keepDims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  const out = Tensor.empty(outShape, kind === 'argmax' ? 'i32' : 'f32');
  const outputs = outer * inner;
  if (outputs === 0) return out;
  if (r === 0 && kind !== 'sum') throw new Error(`${kind}: cannot reduce an axis of length 0 (shape ${formatShape(x.shape)})`);
  const e = engine();
  const tree = outputs < TREE_MAX_OUTPUTS && r >= TREE_MIN_LENGTH;
  const wg = tree ? Math.min(e.cooperativeThreads, 2 ** Math.ceil(Math.log2(Math.min(r, 256)))) : 64;
  e.dispatch({
    family: 'reduce',
    entry: tree ? 'reduce_tree' : 'reduce_serial',
    constants: { WG: wg, OP: OPS[kind] },
    params: new Uniforms(16).u32(outer, r, inner).f32(scale).buffer,
    buffers: [out.bufferFor(kind), x.bufferFor(kind)],
    groups: e.grid(tree ? outputs : Math.ceil(outputs / wg)),
  });
  return out;
}

/** The axes to reduce: all of them when `axes` is undefined, normalised, deduplicated, descending. */
function axesOf(op: string, x: Tensor, axes?: number | readonly number[]): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes];
  const norm = list.map((a) => normalizeAxis(op, a, x.rank));
  return [...new Set(norm)].sort((a, b) => b - a);
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/**
 * Reduces `axes` (descending) one run of adjacent axes at a time: a run is a single axis of a reshaped
 * view (no copy), so reducing every axis of x is one dispatch, not one per axis.
 */
function reduceAxes(kind: Exclude<ReduceKind, 'argmax'>, x: Tensor, axes: number[], keepDims: boolean, mean: boolean): Tensor {
  if (axes.length === 0) return reshape(x, x.shape);
  const runs: { hi: number; lo: number }[] = [];
  for (const a of axes) {
    const last = runs.at(-1);
    if (last && last.lo === a + 1) last.lo = a;
    else runs.push({ hi: a, lo: a });
  }
  let cur = x;
  let shape = [...x.shape];
  for (const { hi, lo } of runs) {
    const length = shape.slice(lo, hi + 1).reduce((p, q) => p * q, 1);
    const merged = Tensor.view(cur, [...shape.slice(0, lo), length, ...shape.slice(hi + 1)]);
    const reduced = reduceAxis(kind, merged, lo, true, mean ? 1 / length : 1);
    merged.dispose();
    if (cur !== x) cur.dispose();
    shape = shape.map((d, i) => (i >= lo && i <= hi ? 1 : d));
    cur = Tensor.view(reduced, shape);
    reduced.dispose();
  }
  if (keepDims) return cur;
  const squeezed = Tensor.view(cur, x.shape.filter((_, i) => !axes.includes(i)));
  cur.dispose();
  return squeezed;
}

/** Sum over `axes` (all by default). Backward: the gradient broadcast back over the reduced axes. */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  assertDType('sum', x, ['f32']);
  const ax = axesOf('sum', x, axes);
  const y = reduceAxes('sum', x, ax, keepDims, false);
  return recordOp(y, 'sum', [x], (g) => [expand(reshape(g, keptShape(x.shape, ax)), x.shape)]);
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  assertDType('mean', x, ['f32']);
  const ax = axesOf('mean', x, axes);
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  const y = reduceAxes('sum', x, ax, keepDims, true);
  return recordOp(y, 'mean', [x], (g) => [expand(reshape(mul(g, 1 / count), keptShape(x.shape, ax)), x.shape)]);
}

/** Max (or min) over `axes`; the gradient is shared equally among tied extrema, as torch.amax. */
function extremum(kind: 'max' | 'min', x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  assertDType(kind, x, ['f32']);
  const ax = axesOf(kind, x, axes);
  const y = reduceAxes(kind, x, ax, keepDims, false);
  return recordOp(y, kind, [x], (g) => {
    const kept = keptShape(x.shape, ax);
    const mask = eq(x, reshape(y, kept));
    const count = sum(mask, ax, true);
    return [mul(mask, div(reshape(g, kept), count))];
  });
}

export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return extremum('max', x, axes, keepDims);
}

export function min(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return extremum('min', x, axes, keepDims);
}

/** log(sum(exp(x))) over `axes`, computed stably; d/dx = exp(x - y) = softmax over those axes. */
export function logsumexp(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  assertDType('logsumexp', x, ['f32']);
  const ax = axesOf('logsumexp', x, axes);
  const y = reduceAxes('logsumexp', x, ax, keepDims, false);
  return recordOp(y, 'logsumexp', [x], (g) => {
    const kept = keptShape(x.shape, ax);
    return [mul(exp(sub(x, reshape(y, kept))), reshape(g, kept))];
  });
}

/** Index (int32) of the largest value along `axis`; the first one on ties. Not differentiable. */
export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  assertDType('argmax', x, ['f32']);
  return reduceAxis('argmax', x, normalizeAxis('argmax', axis, x.rank), keepDims);
}

/** Sums `g` down to `shape` (the adjoint of broadcasting `shape` up to g's shape). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const s = sum(g, axes, true);
  const out = reshape(s, shape);
  s.dispose();
  return out;
}
