// SwAV's Sinkhorn-Knopp equipartition: facebookresearch/swav `distributed_sinkhorn` on one device
// (world_size = 1), called without gradient (docs/paper-vs-code.md#swav); the kernel is
// ops/sinkhorn.ts's.
import { sinkhornKnopp } from '../ops/sinkhorn.js';
import { assertDType, describe } from '../ops/validate.js';
import type { Tensor } from '../tensor.js';

export interface SinkhornOptions {
  /** ε in exp(S / ε); SwAV's `--epsilon`, default 0.05 (Reb-SupCon's ψ). */
  epsilon?: number;
  /** Rows-then-columns iterations, default 3 (SwAV's `--sinkhorn_iterations`); at least 1. */
  iterations?: number;
}

/**
 * Soft equipartitioned assignments Q [B, K] of B samples to K prototypes from scores S = z·cᵀ [B, K], as
 * SwAV computes them:
 *   Q = exp(S/ε)ᵀ; Q /= ΣQ; n times { Q /= rowsum(Q)·K ; Q /= colsum(Q)·B }; return (Q·B)ᵀ
 * rows (prototypes of the [K, B] matrix) first, then columns (samples), so every returned row sums to 1
 * and the prototype marginals (column sums of the result) are only approximately B/K. The kernel runs the
 * same steps in the log domain (Q = exp(S/ε + a_k + c_b), only the potentials a, c are updated, the
 * global constants cancel), so it is exact for any |S|/ε in float32 (SwAV's code needs |S|/ε ≲ 80); no
 * per-sample shift of S is applied (unlike a global one, it would change the result after a few
 * iterations: docs/paper-vs-code.md SW-2). The result is a constant (no gradient), as under SwAV's
 * `torch.no_grad()`.
 * @param scores [B, K] f32, B, K ≥ 1.
 */
export function sinkhorn(scores: Tensor, opts: SinkhornOptions = {}): Tensor {
  const op = 'sinkhorn';
  assertDType(op, scores, ['f32'], 'scores');
  if (scores.rank !== 2 || scores.shape.some((n) => n === 0)) {
    throw new Error(`${op}: expected scores [B, K] with B, K ≥ 1, got ${describe(scores)}`);
  }
  const epsilon = opts.epsilon ?? 0.05;
  const iterations = opts.iterations ?? 3;
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new Error(`${op}: epsilon must be a positive finite number, got ${epsilon}`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`${op}: iterations must be an integer ≥ 1, got ${iterations}`);
  return sinkhornKnopp(scores, 1 / epsilon, iterations);
}
