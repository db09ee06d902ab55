// MoCo's device updates (shaders/moco.wgsl; docs/paper-vs-code.md#moco): the EMA of key-encoder
// parameters and the FIFO write of a key queue, both in place, recorded with the rest of the step;
// nothing is read back. The queue's tensors are described here too, so that the queue (nn/moco.ts) and
// the loss reading it (losses/rebalance.ts) share one type without importing each other.
import { engine } from '../engine.js';
import { formatShape, type Tensor } from '../tensor.js';
import { Uniforms } from './uniforms.js';
import { assertDType } from './validate.js';

const WG = 256;

/** A key queue as the loss reads it: keys [Q, D] (unit rows) and their labels [Q] (i32). */
export interface QueueView {
  keys: Tensor;
  labels: Tensor;
}

/**
 * θ_k ← m·θ_k + (1 − m)·θ_q for every pair (MoCo `_momentum_update_key_encoder`, m = 0.999),
 * in place: one `ema_update` dispatch of the same kernel per parameter tensor (as SGD steps them),
 * recorded with the rest of the step.
 */
export function emaUpdate(keyParams: readonly Tensor[], queryParams: readonly Tensor[], momentum = 0.999): void {
  const op = 'emaUpdate';
  if (keyParams.length !== queryParams.length) throw new Error(`${op}: ${keyParams.length} key parameters for ${queryParams.length} query parameters`);
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`${op}: momentum must be in [0, 1], got ${momentum}`);
  keyParams.forEach((k, i) => {
    const q = queryParams[i];
    assertDType(op, k, ['f32'], `key parameter ${i}`);
    assertDType(op, q, ['f32'], `query parameter ${i}`);
    if (k.size !== q.size || k.rank !== q.rank || k.shape.some((n, j) => n !== q.shape[j])) {
      throw new Error(`${op}: key parameter ${i} ${formatShape(k.shape)} does not match query parameter ${formatShape(q.shape)}`);
    }
  });
  const e = engine();
  keyParams.forEach((k, i) => {
    if (k.size === 0) return;
    e.dispatch({
      family: 'moco', entry: 'ema_update',
      params: new Uniforms(32).u32(k.size, 0, 0, 0).f32(momentum).buffer,
      buffers: [k.bufferFor(op), queryParams[i].bufferFor(op)],
      groups: e.grid(Math.ceil(k.size / WG)),
    });
  });
}

/**
 * Copies `rows` [B, ...] into the ring buffer `queue` [Q, ...] (rows of the same width, any 32-bit dtype)
 * starting at row `ptr`; rows past the end wrap around to the start. The caller (KeyQueue.enqueue)
 * checks shapes and dtypes and keeps the pointer.
 */
export function enqueueRows(queue: Tensor, rows: Tensor, ptr: number): void {
  const op = 'KeyQueue.enqueue';
  const size = queue.shape[0];
  const words = queue.size / size;
  const b = rows.shape[0];
  const e = engine();
  e.dispatch({
    family: 'moco', entry: 'enqueue',
    params: new Uniforms(32).u32(b * words, words, size, ptr).f32(0).buffer,
    buffers: [queue.bufferFor(op), rows.bufferFor(op)],
    groups: e.grid(Math.ceil((b * words) / WG)),
  });
}
