// Float64 references of the Reb-SupCon components, written from shared/reference/SPEC.md §4.1 (SwAV
// Sinkhorn), §6.2 (rebalanced loss) and §6.3 (prototype losses): loops, no shifts.
import { arr, type Arr } from './ops.js';

/** SPEC 4.1 literally: Q = exp(S/ε)ᵀ [K, B], Q /= ΣQ, n × {rows /K, columns /B}, Q·B, transposed. */
export function sinkhornRef(scores: Arr, eps: number, iterations: number): Arr {
  const [b, k] = scores.shape;
  const q = Array.from({ length: k }, (_, r) => Array.from({ length: b }, (_, c) => Math.exp(scores.data[c * k + r] / eps)));
  const total = q.flat().reduce((s, v) => s + v, 0);
  for (const row of q) row.forEach((v, c) => (row[c] = v / total));
  for (let it = 0; it < iterations; it++) {
    for (const row of q) {
      const s = row.reduce((a, v) => a + v, 0);
      row.forEach((v, c) => (row[c] = v / s / k));
    }
    for (let c = 0; c < b; c++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += q[r][c];
      for (let r = 0; r < k; r++) q[r][c] = q[r][c] / s / b;
    }
  }
  const out = arr([b, k]);
  for (let c = 0; c < b; c++) for (let r = 0; r < k; r++) out.data[c * k + r] = q[r][c] * b;
  return out;
}
