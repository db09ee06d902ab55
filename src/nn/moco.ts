// MoCo pieces used by Reb-SupCon (PaCo's `moco/builder.py`; docs/paper-vs-code.md#moco) over modules:
// the key encoder's EMA update and the FIFO key queue with labels, both on the device through the ops of
// ops/moco.ts; nothing is read back.
import { noGrad } from '../autograd.js';
import { rand, randn } from '../ops/creation.js';
import { assign, scale, toInt } from '../ops/elementwise.js';
import { emaUpdate, enqueueRows, type QueueView } from '../ops/moco.js';
import { l2Normalize } from '../ops/rowwise.js';
import { transpose } from '../ops/shape.js';
import { assertDType, describe } from '../ops/validate.js';
import { scope, Tensor } from '../tensor.js';
import type { Module } from './module.js';

/** The parameters of `key` and `query` paired by name; throws if the two modules differ. */
function pairedParameters(op: string, key: Module, query: Module): [Tensor[], Tensor[]] {
  const kp = key.namedParameters();
  const qp = new Map(query.namedParameters());
  if (kp.length !== qp.size || kp.some(([n]) => !qp.has(n))) throw new Error(`${op}: the key and query encoders have different parameters`);
  return [kp.map(([, t]) => t), kp.map(([n]) => qp.get(n)!)];
}

/**
 * MoCo's key-encoder update over modules: the EMA of {@link emaUpdate} on the parameters, paired by
 * name. Buffers (batch-norm running statistics) are neither copied nor averaged, as in MoCo, whose loop
 * runs over `parameters()` only: the key encoder's running statistics come from its own forward passes
 * in training mode (MoCo v1/v2 shuffle BN only under DDP).
 */
export function momentumUpdate(key: Module, query: Module, momentum = 0.999): void {
  const [k, q] = pairedParameters('momentumUpdate', key, query);
  emaUpdate(k, q, momentum);
}

/** θ_k ← θ_q for every parameter (MoCo's initialisation; buffers are left as constructed, as there). */
export function copyParameters(key: Module, query: Module): void {
  const [k, q] = pairedParameters('copyParameters', key, query);
  k.forEach((t, i) => assign(t, q[i]));
}

/**
 * The FIFO key queue of MoCo / PaCo (docs/paper-vs-code.md MOCO-2, MOCO-3): keys [Q, D] and labels [Q]
 * (i32) on the device. PaCo's start: keys = normalize(randn(Q, D), dim = 0) (columns normalised, so rows
 * are not unit vectors) and random labels in [0, classes); both are flushed after ⌈Q/B⌉ enqueues.
 */
export class KeyQueue implements QueueView {
  readonly keys: Tensor;
  readonly labels: Tensor;
  /** The row the next enqueue writes first. */
  ptr = 0;

  constructor(readonly size: number, readonly dim: number, readonly classes: number, opts: { seed?: number } = {}) {
    const op = 'KeyQueue';
    for (const [name, v] of Object.entries({ size, dim, classes })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${v}`);
    }
    const seed = opts.seed;
    [this.keys, this.labels] = scope(() => noGrad(() => [
      transpose(l2Normalize(randn([dim, size], 0, 1, seed === undefined ? {} : { seed }))),
      toInt(scale(rand([size], 0, 1, seed === undefined ? {} : { seed: seed + 1 }), classes * (1 - 2 ** -24))),
    ]));
    this.keys.keep();
    this.labels.keep();
  }

  /**
   * Writes keys [B, D] and their labels [B] (i32) at `ptr` and advances ptr = (ptr + B) mod Q. Q need not
   * be a multiple of B (MoCo asserts it is): rows past the end wrap around to the start, so the queue
   * always holds the latest Q keys. B ≤ Q. Record it after the backward() of every loss that read the
   * queue: the backward of q·queueᵀ reads the queue again (PaCo's `queue.clone()` snapshot), and the
   * dispatches run in recording order.
   */
  enqueue(keys: Tensor, labels: Tensor): void {
    const op = 'KeyQueue.enqueue';
    assertDType(op, keys, ['f32'], 'keys');
    if (keys.rank !== 2 || keys.shape[1] !== this.dim || keys.shape[0] === 0) throw new Error(`${op}: expected keys [B ≥ 1, ${this.dim}] f32, got ${describe(keys)}`);
    const b = keys.shape[0];
    if (b > this.size) throw new Error(`${op}: a batch of ${b} keys does not fit in a queue of ${this.size}`);
    assertDType(op, labels, ['i32'], 'labels');
    if (labels.rank !== 1 || labels.shape[0] !== b) throw new Error(`${op}: expected labels [${b}] i32, got ${describe(labels)}`);
    enqueueRows(this.keys, keys, this.ptr);
    enqueueRows(this.labels, labels, this.ptr);
    this.ptr = (this.ptr + b) % this.size;
  }

  dispose(): void {
    this.keys.dispose();
    this.labels.dispose();
  }
}
