// Per-sample gradient norms of the cross-entropy at the last (classifier) layer, on the device: the
// per-class mean of these is Reb-SupCon's Fig. 2 diagnostic (tail classes receive larger gradients).
//
// Linear classifier z = W h + b, W [K, d]: ∂CE_i/∂W = δ_i h_iᵀ with δ_i = softmax(z_i) − onehot(y_i), an
// outer product, so ‖∂CE_i/∂W‖_F = ‖δ_i‖·‖h_i‖, and with the bias ‖δ_i‖·sqrt(‖h_i‖² + 1)
// (src/ops/grad-norms.ts's perSampleGradNorms computes exactly that from δ and h).
//
// Cosine classifier z_k = s·ĥ·ŵ_k with ĥ = h/‖h‖ and ŵ_k = w_k/‖w_k‖ (W [d, K], column k = class k):
// ∂z_k/∂w_k = s (I − ŵ_k ŵ_kᵀ) ĥ / ‖w_k‖ and ∂z_k/∂w_l = 0 for l ≠ k, so the gradient's column k is
// δ_k s (ĥ − c_k ŵ_k)/‖w_k‖ with c_k = ĥ·ŵ_k = z_k/s, and as ‖ĥ − c_k ŵ_k‖² = ‖ĥ‖² − c_k²,
//   ‖∂CE_i/∂W‖_F² = s² Σ_k δ_k² (‖ĥ‖² − c_k²) / ‖w_k‖².
// (‖ĥ‖² is 1 except for h = 0, where l2Normalize gives ĥ = 0 and the gradient is 0.)
import { noGrad } from '../autograd.js';
import { full } from '../ops/creation.js';
import { add, div, maximum, mul, scale, sqrt, sub } from '../ops/elementwise.js';
import { perSampleGradNorms } from '../ops/grad-norms.js';
import { oneHot } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import { l2Normalize, softmax } from '../ops/rowwise.js';
import { reshape, transpose } from '../ops/shape.js';
import { assertDType, describe } from '../ops/validate.js';
import { CosineClassifier } from '../nn/linear.js';
import type { Tensor } from '../tensor.js';

/** A linear classifier as its tensors (nn.Linear, or a fitted probe): weight [K, d], bias [K] or null. */
export interface LinearLayer {
  weight: Tensor;
  bias: Tensor | null;
}

/**
 * ‖∂CE_i/∂W‖_F (with the bias, ‖∂CE_i/∂(W, b)‖) of each sample's own cross-entropy at the classifier
 * `fc` (a {@link LinearLayer} such as nn.Linear, or a CosineClassifier), for inputs `h` [B, d] (what the
 * classifier sees) and labels [B] i32. Returns [B] f32, detached; nothing is read back.
 */
export function classifierGradNorms(fc: LinearLayer | CosineClassifier, h: Tensor, labels: Tensor): Tensor {
  const op = 'classifierGradNorms';
  assertDType(op, h, ['f32'], 'inputs');
  assertDType(op, labels, ['i32'], 'labels');
  if (h.rank !== 2) throw new Error(`${op}: expected inputs [B, d], got ${describe(h)}`);
  if (labels.rank !== 1 || labels.shape[0] !== h.shape[0]) throw new Error(`${op}: expected labels [${h.shape[0]}] i32, got ${describe(labels)}`);
  return noGrad(() => {
    if (fc instanceof CosineClassifier) {
      const [d, k] = fc.weight.shape;
      if (h.shape[1] !== d) throw new Error(`${op}: inputs ${describe(h)} do not match the cosine classifier's weight [${d}, ${k}]`);
      const hn = l2Normalize(h);
      const wt = transpose(fc.weight);
      const c = matmul(hn, l2Normalize(wt), { transB: true }); // [B, K] cosines ĥ·ŵ_k
      const delta = sub(softmax(scale(c, fc.s)), oneHot(labels, k));
      const wNorm2 = reshape(sum(mul(wt, wt), 1), [1, k]);
      const hNorm2 = reshape(sum(mul(hn, hn), 1), [h.shape[0], 1]);
      const terms = div(mul(mul(delta, delta), sub(hNorm2, mul(c, c))), wNorm2);
      // ‖ĥ‖² − c_k² ≥ 0 exactly; clamp the float32 rounding below zero away before the root.
      return scale(sqrt(maximum(sum(terms, 1), full([], 0))), fc.s);
    }
    const [k, d] = fc.weight.shape;
    if (h.shape[1] !== d) throw new Error(`${op}: inputs ${describe(h)} do not match the classifier weight [${k}, ${d}]`);
    const zw = matmul(h, fc.weight, { transB: true });
    const z = fc.bias ? add(zw, fc.bias) : zw;
    const delta = sub(softmax(z), oneHot(labels, k));
    return perSampleGradNorms(delta, h, { bias: fc.bias !== null });
  });
}
