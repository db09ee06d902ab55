// One SGD update of one parameter tensor, in place (shaders/optim.wgsl, PyTorch's torch.optim.SGD
// arithmetic). optim/sgd.ts's SGD records it for every parameter; code that fits a few tensors without
// an optimizer's bookkeeping records it directly.
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from './uniforms.js';

const WG = 256;

/** The hyper-parameters of one update (their arithmetic is spelled out in shaders/optim.wgsl). */
export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** Where the update flags a non-finite gradient or value: u32 flags [slots], this parameter's slot. */
export interface FiniteFlag {
  status: Tensor;
  slot: number;
}

/**
 * Records param ← param − lr·step and the momentum buffer's update, one dispatch, nothing read back.
 * `grad` and `buffer` (zeros before the first step) have the parameter's size; the caller checks that.
 * A NaN or infinite gradient or new value sets `flag.status[flag.slot]` to 1.
 */
export function sgdStep(param: Tensor, grad: Tensor, buffer: Tensor, h: SgdHyper, flag: FiniteFlag): void {
  const e = engine();
  e.dispatch({
    family: 'optim',
    entry: 'sgd_step',
    constants: { WG, NESTEROV: h.nesterov },
    params: new Uniforms(32).u32(param.size).f32(h.lr, h.momentum, h.dampening, h.weightDecay).u32(flag.slot).buffer,
    buffers: [param.bufferFor('SGD'), grad.bufferFor('SGD'), buffer.bufferFor('SGD'), flag.status.bufferFor('SGD')],
    groups: e.grid(Math.ceil(param.size / WG)),
  });
}
