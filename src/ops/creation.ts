// Tensor creation. Float constants and ranges are written by the fill kernel and random tensors by the
// Philox kernel (shaders/random.wgsl), so neither uploads anything; explicit data is uploaded once.
import { engine } from '../engine.js';
import { formatShape, shapeSize, Tensor, toTyped, type DType } from '../tensor.js';
import { fillInto } from './elementwise.js';
import { Uniforms } from './uniforms.js';

type Nested = number | readonly Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
  }
  return shape;
}

function flatten(data: Nested, shape: readonly number[], out: number[], depth = 0): void {
  if (depth === shape.length) {
    if (typeof data !== 'number') throw new Error('tensor: nested arrays are ragged or hold non-numbers');
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new Error(`tensor: nested arrays are ragged (expected length ${shape[depth]} at depth ${depth})`);
  }
  for (const d of data) flatten(d, shape, out, depth + 1);
}

/**
 * A tensor from data: nested arrays (shape inferred), or a flat array / typed array with `shape`.
 * `dtype` defaults to the typed array's type, else f32.
 */
export function tensor(data: Nested | ArrayLike<number>, shape?: readonly number[], dtype?: DType): Tensor {
  let flat: ArrayLike<number>;
  let dims: readonly number[];
  if (typeof data === 'number') {
    flat = [data];
    dims = shape ?? [];
  } else if (Array.isArray(data) && (data.length === 0 || Array.isArray(data[0])) && !shape) {
    dims = inferShape(data as Nested);
    const out: number[] = [];
    flatten(data as Nested, dims, out);
    flat = out;
  } else {
    flat = data as ArrayLike<number>;
    dims = shape ?? [flat.length];
  }
  const type: DType = dtype ?? (data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' : 'f32');
  if (shapeSize(dims) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${formatShape(dims)} (${shapeSize(dims)} elements)`);
  }
  const typed = toTyped(flat, type);
  const t = Tensor.empty(dims, type);
  if (t.size > 0) engine().writeBuffer(t.bufferFor('tensor'), typed, true);
  return t;
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor {
  if (dtype !== 'f32') return tensor(new Array<number>(shapeSize(shape)).fill(value), shape, dtype);
  const t = Tensor.empty(shape, dtype);
  fillInto(t, value);
  return t;
}

export function zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: readonly number[], dtype: DType = 'f32'): Tensor {
  return full(shape, 1, dtype);
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, t.dtype);
}

/** start, start + step, ... below end (a 1-D tensor). */
export function arange(start: number, end?: number, step = 1, dtype: DType = 'f32'): Tensor {
  const [a, b] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw new Error('arange: step must be non-zero');
  const n = Math.max(0, Math.ceil((b - a) / step));
  if (dtype !== 'f32') return tensor(Array.from({ length: n }, (_, i) => a + i * step), [n], dtype);
  const t = Tensor.empty([n]);
  fillInto(t, a, step);
  return t;
}

/** Sets the seed of random tensors drawn without an explicit one (the sequence restarts). */
export function manualSeed(seed: number): void {
  const e = engine();
  e.randomSeed = seed >>> 0;
  e.randomCounter = 0;
}

/** Random tensor options: an explicit seed makes the draw independent of the global sequence. */
export interface RandomOptions {
  seed?: number;
}

function sample(shape: readonly number[], normal: boolean, alpha: number, beta: number, opts: RandomOptions): Tensor {
  const e = engine();
  // Each draw without a seed takes the next counter value as the second key word.
  const [k0, k1] = opts.seed === undefined ? [e.randomSeed, ++e.randomCounter] : [opts.seed >>> 0, 0x9e3779b9];
  const t = Tensor.empty(shape);
  if (t.size === 0) return t;
  e.dispatch({
    family: 'random',
    entry: 'sample',
    constants: { WG: 256 },
    params: new Uniforms(32).u32(t.size, k0, k1, normal ? 1 : 0).f32(alpha, beta).buffer,
    buffers: [t.bufferFor('random')],
    groups: e.grid(Math.ceil(t.size / 256)),
  });
  return t;
}

/** Uniform samples in [low, high). */
export function rand(shape: readonly number[], low = 0, high = 1, opts: RandomOptions = {}): Tensor {
  return sample(shape, false, low, high, opts);
}

/** Normal samples with the given mean and standard deviation. */
export function randn(shape: readonly number[], mean = 0, std = 1, opts: RandomOptions = {}): Tensor {
  return sample(shape, true, mean, std, opts);
}
