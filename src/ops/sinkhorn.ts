// Sinkhorn-Knopp equipartition in the log domain (shaders/sinkhorn.wgsl): the kernel behind SwAV's
// codes (losses/sinkhorn.ts, which states the algorithm and checks its arguments).
import { engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { workgroupFor } from './rowwise.js';
import { Uniforms } from './uniforms.js';

/**
 * Q [B, K] from scores [B, K] (f32, B, K ≥ 1) after `iterations` (≥ 1) prototype-then-sample passes at
 * 1/ε = `inverseEpsilon`: every row of Q sums to 1. Two dispatches per iteration, no gradient.
 */
export function sinkhornKnopp(scores: Tensor, inverseEpsilon: number, iterations: number): Tensor {
  const op = 'sinkhorn';
  const [b, k] = scores.shape;
  const e = engine();
  const q = Tensor.empty([b, k]);
  const pot = Tensor.empty([k + b]);
  const params = new Uniforms(16).u32(b, k).f32(inverseEpsilon).u32(0).buffer;
  for (let it = 0; it < iterations; it++) {
    for (const axis of [0, 1]) {
      e.dispatch({
        family: 'sinkhorn', entry: 'potential', params,
        constants: { WG: workgroupFor(axis === 0 ? b : k), AXIS: axis, FIRST: it === 0, WRITE: axis === 1 && it === iterations - 1 },
        buffers: [q.bufferFor(op), scores.bufferFor(op), pot.bufferFor(op)],
        groups: e.grid(axis === 0 ? k : b),
      });
    }
  }
  pot.dispose();
  return q;
}
