// Classification losses for long-tailed training: cross-entropy with logits shifted by the class prior.
//   logit-adjusted CE (Menon et al.; BCL's logit compensation, Eq. 10; docs/paper-vs-code.md BCL-11):
//     CE(z + tau * log p, y) with p_c = n_c / sum n, the TRAINING-set class counts; tau = 1 in BCL.
//   balanced softmax (Ren et al.): CE(z + log n_c, y). Softmax ignores a constant added to every logit,
//     so this equals logit-adjusted CE with tau = 1; it is kept as its own name for configs that use it.
// Prediction uses the raw logits; only the loss sees the shift.
import { tensor } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/rowwise.js';
import type { Tensor } from '../tensor.js';

/** The per-class shift tau * log(n_c / sum n) as a [classes] tensor (kept: free it with dispose()). */
export function logitAdjustment(classCounts: readonly number[], tau = 1): Tensor {
  if (classCounts.length === 0 || classCounts.some((n) => !(n > 0))) {
    throw new Error(`logitAdjustment: class counts must all be > 0, got [${classCounts.join(', ')}]`);
  }
  const total = classCounts.reduce((a, b) => a + b, 0);
  return tensor(classCounts.map((n) => tau * Math.log(n / total)), [classCounts.length]).keep();
}

/** Mean cross-entropy of `logits + adjustment` (see {@link logitAdjustment}) against int32 labels. */
export function logitAdjustedCrossEntropy(logits: Tensor, labels: Tensor, adjustment: Tensor): Tensor {
  return crossEntropy(add(logits, adjustment), labels);
}
