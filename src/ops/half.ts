// f16 copies of f32 tensors (shaders/half.wgsl) for the mixed-precision matmul and conv2d kernels.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from './uniforms.js';

/**
 * Records an f16 copy of `t` into a pooled buffer and returns it; the caller binds it to the dispatches
 * it records next and then gives it back with `e.freeBuffer` (reused only after those are submitted).
 */
export function halfCopy(e: Engine, t: Tensor, op: string): GPUBuffer {
  const buffer = e.allocBuffer(Math.max(4, 2 * t.size));
  e.dispatch({
    family: 'half', entry: 'to_f16', generated: { features: ['shader-f16'] },
    params: new Uniforms(16).u32(t.size, 0, 0, 0).buffer,
    buffers: [buffer, t.bufferFor(op)],
    groups: e.grid(Math.ceil(t.size / 64)),
  });
  return buffer;
}
