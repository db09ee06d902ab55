// Tensors: a shape, a dtype and a reference-counted GPU storage (views such as reshape share it).
// Memory is freed deterministically: by dispose(), or by the scope() a tensor was created in.
import { backward as runBackward, type BackwardOptions, type GradFn } from './autograd.js';
import { engine, type Engine } from './engine.js';

/** Element types: float32 for data, int32/uint32 for labels and indices. */
export type DType = 'f32' | 'i32' | 'u32';
export type TypedArray = Float32Array | Int32Array | Uint32Array;

/** A GPU buffer shared by a tensor and its views; returned to the pool when the last one is disposed. */
class Storage {
  refs = 1;
  constructor(
    readonly engine: Engine,
    readonly buffer: GPUBuffer,
    readonly bytes: number,
  ) {
    engine.liveBytes += bytes;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.engine.liveBytes -= this.bytes;
    this.engine.freeBuffer(this.buffer);
  }
}

let nextId = 1;

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** An n-dimensional array on the GPU, contiguous and row-major. Create tensors with the ops in `ops/`. */
export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  /** Set on a tensor whose gradient should be accumulated in `grad` by backward(). */
  requiresGrad = false;
  /** Accumulated gradient of a leaf tensor (owned by this tensor, not by any scope). */
  grad: Tensor | null = null;
  /** How this tensor was computed, for backward(); null for leaves. */
  gradFn: GradFn | null = null;
  /** The scope that will dispose this tensor, if any. */
  scope: Set<Tensor> | null = null;
  private storage: Storage | null;

  private constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    storage: Storage,
  ) {
    this.size = shapeSize(shape);
    this.storage = storage;
    storage.engine.liveTensors++;
    const s = storage.engine.scopes.at(-1);
    if (s) {
      s.add(this);
      this.scope = s;
    }
  }

  /** A new tensor with fresh (uninitialised) storage, tracked by the current scope. */
  static empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`tensor: invalid shape ${formatShape(shape)}: dimensions must be non-negative integers`);
    }
    const e = engine();
    const bytes = shapeSize(shape) * 4;
    return new Tensor([...shape], dtype, new Storage(e, e.allocBuffer(bytes), bytes));
  }

  /** A tensor sharing this one's storage, with another shape of the same size. */
  static view(t: Tensor, shape: readonly number[]): Tensor {
    const s = t.liveStorage('view');
    s.refs++;
    return new Tensor([...shape], t.dtype, s);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** The GPU buffer; throws a use-after-dispose error naming `op`. */
  bufferFor(op: string): GPUBuffer {
    return this.liveStorage(op).buffer;
  }

  private liveStorage(op: string): Storage {
    if (!this.storage) {
      throw new Error(`${op}: tensor #${this.id} ${formatShape(this.shape)} ${this.dtype} was used after dispose() (or after the scope that created it ended)`);
    }
    return this.storage;
  }

  /** Frees the tensor (its storage goes back to the pool once no view uses it). Idempotent. */
  dispose(): void {
    if (!this.storage) return;
    this.storage.engine.liveTensors--;
    this.storage.release();
    this.storage = null;
    this.scope?.delete(this);
    this.scope = null;
    this.gradFn = null;
  }

  /** Removes this tensor from scope tracking: it lives until disposed explicitly. */
  keep(): this {
    this.scope?.delete(this);
    this.scope = null;
    return this;
  }

  /**
   * A view of the same data cut off from the graph: no gradient flows back through it. It shares the
   * storage (no copy) and is tracked by the current scope like any new tensor.
   */
  detach(): Tensor {
    return Tensor.view(this, this.shape);
  }

  /** Marks this tensor as a leaf whose gradient backward() accumulates into `grad`. */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** Copies the data back to the CPU after all recorded work. */
  async read(): Promise<TypedArray> {
    const buffer = this.bufferFor('read');
    const bytes = await this.storage!.engine.readBuffer(buffer, this.size * 4);
    if (this.dtype === 'i32') return new Int32Array(bytes);
    if (this.dtype === 'u32') return new Uint32Array(bytes);
    return new Float32Array(bytes);
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: expected a tensor with one element, got shape ${formatShape(this.shape)}`);
    return (await this.read())[0];
  }

  /** Overwrites the contents with `data` (same length), after the work recorded so far. */
  write(data: ArrayLike<number>): void {
    const buffer = this.bufferFor('write');
    if (data.length !== this.size) {
      throw new Error(`write: expected ${this.size} values for shape ${formatShape(this.shape)}, got ${data.length}`);
    }
    this.storage!.engine.writeBuffer(buffer, toTyped(data, this.dtype));
  }

  /**
   * Reverse-mode differentiation from this tensor: accumulates d(this)/d(leaf) into every leaf's
   * `grad`. A non-scalar tensor needs `grad`, the upstream gradient of its shape.
   */
  backward(grad?: Tensor, opts?: BackwardOptions): void {
    runBackward(this, grad, opts);
  }

  toString(): string {
    return `Tensor#${this.id}(${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''}${this.disposed ? ', disposed' : ''})`;
  }
}

/** Converts numbers to the typed array of a dtype, checking integer dtypes. */
export function toTyped(data: ArrayLike<number>, dtype: DType): TypedArray {
  if (dtype === 'f32') return data instanceof Float32Array ? data : Float32Array.from(data);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v)) throw new Error(`tensor: ${dtype} data must be integers, got ${v} at index ${i}`);
  }
  if (dtype === 'i32') return data instanceof Int32Array ? data : Int32Array.from(data);
  return data instanceof Uint32Array ? data : Uint32Array.from(data);
}

/** Every tensor inside a value returned from a scope (arrays and plain objects are searched). */
export function tensorsIn(value: unknown, found: Set<Tensor> = new Set()): Set<Tensor> {
  if (value instanceof Tensor) found.add(value);
  else if (Array.isArray(value)) for (const v of value) tensorsIn(v, found);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) tensorsIn(v, found);
  }
  return found;
}

/**
 * Runs `fn` and then disposes every tensor created inside it, except the tensors it returns (found in
 * arrays and plain objects too), which move to the enclosing scope. `fn` must be synchronous.
 * Call backward() inside the scope that ran the forward pass: the graph's tensors die with the scope.
 */
export function scope<T>(fn: () => T): T {
  const e = engine();
  const tracked = new Set<Tensor>();
  e.scopes.push(tracked);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    e.scopes.pop();
    for (const t of [...tracked]) t.dispose();
    throw err;
  }
  e.scopes.pop();
  if (result instanceof Promise) {
    for (const t of [...tracked]) t.dispose();
    throw new Error('scope: the function returned a Promise; scopes track synchronous code only (await outside the scope)');
  }
  const kept = tensorsIn(result, new Set());
  const parent = e.scopes.at(-1) ?? null;
  for (const t of [...tracked]) {
    if (!kept.has(t)) {
      t.dispose();
    } else {
      t.scope = parent;
      parent?.add(t);
    }
  }
  return result;
}
