// Per-sample gradient norms of a linear layer from the tensors its backward sees (the output gradient δ
// and the input h), without materialising any per-sample gradient: Reb-SupCon's rebalancing factor
// (losses/rebalance.ts) and the classifier-gradient diagnostic (metrics/gradients.ts) both use it.
import { noGrad } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { affine, mul, sqrt } from './elementwise.js';
import { sum } from './reduce.js';
import { checkMatrix } from './validate.js';

/**
 * Per-sample gradient norms of a linear layer y = h Wᵀ (+ b) from tensors of its backward: the
 * per-sample weight gradient is the outer product δ_i h_iᵀ (δ_i = ∂L/∂y_i, row i of the output
 * gradient), so ‖∂L_i/∂W‖_F = ‖δ_i‖·‖h_i‖, and with the bias ‖δ_i‖·sqrt(‖h_i‖² + 1). Returns [B],
 * detached. For a mean-reduced loss whose row i only depends on sample i, δ_i = (1/B) ∂L_i/∂y_i: scale
 * by B for the norm of L_i's own gradient (Reb-SupCon's ∇ uses ‖∂L_i/∂θ‖; θ = the projection head's
 * last linear layer is this project's choice, docs/paper-vs-code.md REB-5). δ comes from the backward
 * through `gradHook(y, (δ) => ...)` on the layer's output (src/autograd.ts; recipe rebsupcon does this),
 * or by splitting the graph there:
 * `y2 = y.detach().requireGrad(); loss(y2).backward(); δ = y2.grad; y.backward(δ)`.
 * @param outputGrad δ [B, O]; input h [B, I].
 */
export function perSampleGradNorms(outputGrad: Tensor, input: Tensor, opts: { bias?: boolean } = {}): Tensor {
  const op = 'perSampleGradNorms';
  checkMatrix(op, outputGrad, 'outputGrad');
  checkMatrix(op, input, 'input', outputGrad.shape[0]);
  return noGrad(() => {
    const dd = sum(mul(outputGrad, outputGrad), 1);
    const hh = sum(mul(input, input), 1);
    return sqrt(mul(dd, opts.bias ? affine(hh, 1, 1) : hh));
  });
}
