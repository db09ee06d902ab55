// Modules: named parameters (trained), buffers (state such as batch-norm running statistics) and child
// modules, with PyTorch's naming (`layer1.0.conv1.weight`, `bn1.running_mean`) so that state dicts map
// one to one onto PyTorch checkpoints.
import { assign } from '../ops/elementwise.js';
import { formatShape, Tensor, type TypedArray } from '../tensor.js';

/**
 * A tensor's worth of state from outside: another tensor or raw values with their shape (64-bit
 * integers too, as PyTorch writes num_batches_tracked).
 */
export type StateValue = Tensor | { shape: readonly number[]; data: TypedArray | BigInt64Array | BigUint64Array };

export abstract class Module {
  /** Training mode (batch statistics, dropout...) or evaluation mode; see train() and eval(). */
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** The module's computation. */
  abstract forward(x: Tensor): Tensor;

  /** Registers a trainable parameter (kept alive until dispose(), with requiresGrad set). */
  protected param(name: string, t: Tensor): Tensor {
    this.checkName(name);
    this.ownParams.set(name, t.keep().requireGrad());
    return t;
  }

  /** Registers a buffer: state saved in the state dict but not trained. */
  protected buffer(name: string, t: Tensor): Tensor {
    this.checkName(name);
    this.ownBuffers.set(name, t.keep());
    return t;
  }

  /** Registers a child module; its entries are named `${name}.${entry}`. */
  protected child<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    this.children.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new Error(`Module: invalid name '${name}' (non-empty, without '.')`);
    if (this.ownParams.has(name) || this.ownBuffers.has(name) || this.children.has(name)) {
      throw new Error(`Module: '${name}' is registered twice`);
    }
  }

  /** [name, parameter] pairs of this module and its descendants, in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.ownParams].map(([n, t]) => [prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** [name, buffer] pairs of this module and its descendants. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.ownBuffers].map(([n, t]) => [prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Every module below this one (itself first), depth first. */
  modules(): Module[] {
    return [this, ...[...this.children.values()].flatMap((c) => c.modules())];
  }

  /** Parameters and buffers by name, as PyTorch's state_dict() (per module: parameters, buffers, children). */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.ownParams) out.set(prefix + n, t);
    for (const [n, t] of this.ownBuffers) out.set(prefix + n, t);
    for (const [n, c] of this.children) for (const [k, t] of c.stateDict(`${prefix}${n}.`)) out.set(k, t);
    return out;
  }

  /**
   * Copies `state` into the parameters and buffers (in place: optimizers holding them see the values).
   * Every entry is checked first (missing and unexpected names, shapes), so a mismatch changes nothing.
   */
  loadStateDict(state: ReadonlyMap<string, StateValue> | Record<string, StateValue>, strict = true): void {
    const given = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !given.has(k));
      const unexpected = [...given.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        throw new Error(`loadStateDict: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)}`);
      }
    }
    for (const [k, t] of own) {
      const v = given.get(k);
      if (v && formatShape(v.shape) !== formatShape(t.shape)) {
        throw new Error(`loadStateDict: '${k}' has shape ${formatShape(v.shape)}, expected ${formatShape(t.shape)}`);
      }
    }
    for (const [k, t] of own) {
      const v = given.get(k);
      if (!v) continue;
      if (v instanceof Tensor) assign(t, v);
      else t.write(v.data instanceof BigInt64Array || v.data instanceof BigUint64Array ? fromInt64(k, v.data) : v.data);
    }
  }

  /** Sets training mode on this module and its descendants. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter (and its gradient) and buffer of this module and its descendants. */
  dispose(): void {
    for (const t of this.parameters()) t.grad?.dispose();
    for (const t of this.stateDict().values()) t.dispose();
  }
}

/** 64-bit integers (PyTorch's num_batches_tracked, for one) as numbers, refusing the inexact ones. */
function fromInt64(name: string, data: BigInt64Array | BigUint64Array): number[] {
  return Array.from(data, (v) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Error(`loadStateDict: '${name}' holds ${v}, beyond the integers this engine stores exactly`);
    }
    return Number(v);
  });
}

/** Applies modules in order; children are named 0, 1, ... like torch.nn.Sequential. */
export class Sequential extends Module {
  /** The layers in order (subclasses may run a prefix of them, e.g. to expose an inner activation). */
  protected readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.child(String(i), m));
  }

  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, m) => m.forward(h), x);
  }
}
