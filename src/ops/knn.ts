// Per-row neighbourhood statistics of an embedding matrix (shaders/knn.wgsl), the kernels behind
// metrics/knn.ts: squared Euclidean distances one block of rows at a time, each block reduced to four
// numbers per row before the next, so the n x n matrix never exists on the device.
import { engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { workgroupFor } from './rowwise.js';
import { Uniforms } from './uniforms.js';

/** Rows per distance block: as many as fit in `bytes`, at least one. */
function blockRows(n: number, bytes: number): number {
  return Math.max(1, Math.min(n, Math.floor(bytes / (4 * n))));
}

/**
 * Records the statistics of x [n, d] (f32) with labels [n] (i32) for neighbourhoods of `m` rows and the
 * Gaussian potential exp(−t‖a − b‖²), using a distance block of at most `blockBytes` (one row at least).
 * Returns [n, 4] whose row i holds, as 32-bit words: the same-class distance sum (f32), the same-class
 * potential sum (f32), the nearest other row (i32 bits) and the same-label count among the m nearest
 * other rows (i32 bits). The caller checks the arguments (metrics/knn.ts neighbourStats).
 */
export function neighbourRowStats(x: Tensor, labels: Tensor, m: number, t: number, blockBytes: number): Tensor {
  const op = 'neighbourStats';
  const [n, d] = x.shape;
  const rows = blockRows(n, blockBytes);
  const e = engine();
  // Distance tiling follows the matmul style chosen at start-up: the same arithmetic shape.
  const register = e.matmulVariant === 'register';
  const tile = 16;
  const span = register ? 32 : tile;
  const wg = workgroupFor(n);
  const stats = Tensor.empty([n, 4]);
  const block = Tensor.empty([rows, n]);
  try {
    for (let r0 = 0; r0 < n; r0 += rows) {
      const count = Math.min(rows, n - r0);
      const params = new Uniforms(32).u32(count, n, d, r0, m).f32(t).u32(0, 0).buffer;
      e.dispatch({
        family: 'knn',
        entry: register ? 'dist_block_register' : 'dist_block',
        constants: register ? {} : { TILE: tile },
        params,
        buffers: [block.bufferFor(op), x.bufferFor(op)],
        groups: [Math.ceil(n / span), Math.ceil(count / span), 1],
      });
      e.dispatch({
        family: 'knn',
        entry: 'row_stats',
        constants: { WG: wg },
        params,
        buffers: [stats.bufferFor(op), block.bufferFor(op), labels.bufferFor(op)],
        groups: e.grid(count),
      });
    }
  } catch (err) {
    stats.dispose();
    throw err;
  } finally {
    block.dispose();
  }
  return stats;
}
