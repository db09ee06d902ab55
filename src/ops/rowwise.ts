// Row-wise ops over the last axis (shaders/rowwise.wgsl): softmax, log-softmax, L2 normalisation and
// cross-entropy with integer labels. One workgroup per row; backward rules are dedicated kernels.
import { recordOp } from '../autograd.js';
import { engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { mean, sum } from './reduce.js';
import { Uniforms } from './uniforms.js';
import { assertDType, describe } from './validate.js';

/** Threads per row: a power of two covering short rows, at most the engine's cooperative width. */
export function workgroupFor(cols: number): number {
  return Math.min(engine().cooperativeThreads, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(cols, 1)))));
}

function rowsOf(x: Tensor): [number, number] {
  const cols = x.shape[x.rank - 1] ?? 1;
  return [cols === 0 ? 0 : x.size / cols, cols];
}

/** Records one row-wise kernel writing `out` ([rows, cols] or [rows]) from the given inputs. */
function rowKernel(entry: string, out: Tensor, inputs: Tensor[], rows: number, cols: number, eps = 0, log = false): void {
  if (rows === 0 || cols === 0) return;
  const e = engine();
  e.dispatch({
    family: 'rowwise',
    entry,
    constants: entry.startsWith('softmax') ? { WG: workgroupFor(cols), LOG: log } : { WG: workgroupFor(cols) },
    params: new Uniforms(16).u32(rows, cols).f32(eps).u32(0).buffer,
    buffers: [out.bufferFor(entry), ...inputs.map((t) => t.bufferFor(entry))],
    groups: e.grid(rows),
  });
}

function softmaxLike(x: Tensor, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  assertDType(op, x, ['f32']);
  if (x.rank === 0) throw new Error(`${op}: expected at least one dimension, got a scalar`);
  const [rows, cols] = rowsOf(x);
  const y = Tensor.empty(x.shape);
  rowKernel('softmax_forward', y, [x], rows, cols, 0, log);
  return recordOp(y, op, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    rowKernel('softmax_backward', dx, [y, g], rows, cols, 0, log);
    return [dx];
  });
}

/** softmax over the last axis, stable (the row maximum is subtracted first). */
export function softmax(x: Tensor): Tensor {
  return softmaxLike(x, false);
}

/** log-softmax over the last axis, stable. */
export function logSoftmax(x: Tensor): Tensor {
  return softmaxLike(x, true);
}

/** x / max(||x||_2, eps) along the last axis, as torch.nn.functional.normalize. */
export function l2Normalize(x: Tensor, eps = 1e-12): Tensor {
  assertDType('l2Normalize', x, ['f32']);
  if (x.rank === 0) throw new Error('l2Normalize: expected at least one dimension, got a scalar');
  const [rows, cols] = rowsOf(x);
  const y = Tensor.empty(x.shape);
  rowKernel('l2norm_forward', y, [x], rows, cols, eps);
  return recordOp(y, 'l2Normalize', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    rowKernel('l2norm_backward', dx, [x, g], rows, cols, eps);
    return [dx];
  });
}

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Cross-entropy of logits [N, C] against int32 labels [N]: loss_i = logsumexp(x_i) - x_i[y_i],
 * reduced by mean (default), sum or none. A label outside [0, C) yields NaN for that row.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, reduction: Reduction = 'mean'): Tensor {
  assertDType('crossEntropy', logits, ['f32'], 'logits');
  assertDType('crossEntropy', labels, ['i32'], 'labels');
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`crossEntropy: expected logits [N, C] and labels [N], got logits ${describe(logits)} and labels ${describe(labels)}`);
  }
  const [rows, cols] = logits.shape;
  const perRow = Tensor.empty([rows]);
  rowKernel('cross_entropy_forward', perRow, [logits, labels], rows, cols);
  const losses = recordOp(perRow, 'crossEntropy', [logits], (g) => {
    const dx = Tensor.empty(logits.shape);
    rowKernel('cross_entropy_backward', dx, [logits, labels, g], rows, cols);
    return [dx];
  });
  if (reduction === 'none') return losses;
  const reduced = reduction === 'mean' ? mean(losses) : sum(losses);
  if (!losses.requiresGrad) losses.dispose();
  return reduced;
}
