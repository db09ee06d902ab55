// Population contrastive losses as functions of the Gram matrix of the class means (issue 8).
//
// Setting. Every sample of class i is represented by the same unit vector μ_i (the collapse to class
// means proved in "Optimal Representations for Generalized Contrastive Learning with Imbalanced
// Datasets", and BCL Theorem 2). Any loss that sees representations only through dot products then
// depends on G = [μ_i·μ_j] alone, with G in the elliptope E = {G ⪰ 0, diag G = 1}; when the
// representation dimension d ≥ K the rank constraint rank G ≤ d is void, so the problem is over E.
//
// SupCon / InfoNCE with N negatives. An anchor of class i (probability p_i) has one positive of its own
// class (dot product G_ii = 1 after collapse) and N other samples drawn i.i.d. from p; with n_j of them
// in class j the per-anchor loss is
//     ℓ_i(n) = −G_ii/τ + log( e^{G_ii/τ} + Σ_j n_j e^{G_ij/τ} ).
// We replace the multinomial counts n by their means N·p_j inside the log:
//     L_supcon(G) = Σ_i p_i [ −G_ii/τ + log( e^{G_ii/τ} + N Σ_j p_j e^{G_ij/τ} ) ].
// Because log is concave this is, by Jensen, an UPPER bound on E_n ℓ_i(n); it is exact in the large-N
// limit (n_j/N → p_j) and its error is O(1/N) relative (delta method, Var n_j = N p_j(1 − p_j)). We
// keep it because it is the form for which convexity and the threshold analysis are clean. Note that
// same-class "negatives" (j = i) are included, as in SupCon's denominator.
//
// BCL (class-averaged, BalSCL's L1). Each class's exponentials in the denominator are averaged over its
// members, so the class sizes (hence p and N) leave the denominator:
//     L_bcl(G) = Σ_i w_i [ −G_ii/τ + log Σ_j e^{G_ij/τ} ],
// with anchor weights w_i = p_i (BCL averages its loss over anchors, i.e. over samples) or, for the
// "balanced anchors" variant, w_i = 1/K. The prototypes of BalSCL collapse onto the means too and only
// change constants, so they are left out.
//
// Both are  f(G) = Σ_i w_i [ −G_ii/τ + log Σ_j C_ij e^{G_ij/τ} ]  with C_ij ≥ 0: a nonnegative sum of
// log-sum-exp of affine functions of G, hence convex on the (convex) elliptope, so any KKT point is a
// global optimum (./solver.ts certifies it).
//
// Gradient. Treating G's entries as independent, ∂f/∂G_ij = w_i C_ij e^{G_ij/τ} / (τ D_i) − δ_ij w_i/τ with
// D_i = Σ_l C_il e^{G_il/τ}. G is symmetric, so the gradient reported is the symmetric part
// ∇f = (A + Aᵀ)/2, the one with f(G + H) ≈ f(G) + ⟨∇f, H⟩ for every symmetric H.

/** A smooth convex function of a K×K symmetric Gram matrix (row-major Float64Array). */
export interface GeometryObjective {
  /** Human-readable name, e.g. `supcon(τ=0.1, N=255)`. */
  readonly name: string;
  /** Number of classes K. */
  readonly k: number;
  /** f(G) and the symmetric gradient ∇f(G). */
  evaluate(g: Float64Array): { value: number; grad: Float64Array };
}

/** The losses of this module. */
export type GeometryLoss = 'supcon' | 'bcl' | 'bcl-balanced';
export const GEOMETRY_LOSSES: readonly GeometryLoss[] = ['supcon', 'bcl', 'bcl-balanced'];

/** Parameters of {@link geometryObjective}. */
export interface ObjectiveOptions {
  /** Class proportions p (positive; normalised here). */
  proportions: readonly number[];
  /** Temperature τ > 0. */
  tau: number;
  /** Number of negatives N (SupCon only). */
  negatives?: number;
}

function checkProportions(p: readonly number[]): Float64Array {
  if (p.length < 2) throw new Error(`geometry: need at least 2 classes, got ${p.length}`);
  const total = p.reduce((s, x) => s + x, 0);
  if (!p.every((x) => Number.isFinite(x) && x > 0)) throw new Error(`geometry: proportions must be positive, got ${p.join(',')}`);
  return Float64Array.from(p, (x) => x / total);
}

/**
 * f(G) = Σ_i w_i [ −G_ii/τ + log Σ_j C_ij e^{G_ij/τ} ], the common form of every loss here (see header).
 * `logC` holds log C_ij so that the log-sum-exp is shifted by its row maximum, never overflowing at small τ.
 */
export function rowLogSumExpObjective(name: string, weights: Float64Array, logC: Float64Array, tau: number): GeometryObjective {
  const k = weights.length;
  if (logC.length !== k * k) throw new Error(`geometry: coefficient matrix must be ${k}×${k}`);
  if (!(tau > 0)) throw new Error(`geometry: tau must be positive, got ${tau}`);
  return {
    name,
    k,
    evaluate(g) {
      const a = new Float64Array(k * k);
      const row = new Float64Array(k);
      let value = 0;
      for (let i = 0; i < k; i++) {
        let m = -Infinity;
        for (let j = 0; j < k; j++) {
          row[j] = logC[i * k + j] + g[i * k + j] / tau;
          m = Math.max(m, row[j]);
        }
        let d = 0;
        for (let j = 0; j < k; j++) {
          row[j] = Math.exp(row[j] - m);
          d += row[j];
        }
        value += weights[i] * (-g[i * k + i] / tau + m + Math.log(d));
        for (let j = 0; j < k; j++) a[i * k + j] = (weights[i] * row[j]) / (tau * d);
        a[i * k + i] -= weights[i] / tau;
      }
      const grad = new Float64Array(k * k);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) grad[i * k + j] = 0.5 * (a[i * k + j] + a[j * k + i]);
      return { value, grad };
    },
  };
}

/** The population loss of `loss` at proportions p (see the module header for the modelling). */
export function geometryObjective(loss: GeometryLoss, opts: ObjectiveOptions): GeometryObjective {
  const p = checkProportions(opts.proportions);
  const k = p.length;
  const logC = new Float64Array(k * k);
  if (loss === 'supcon') {
    const n = opts.negatives ?? 255;
    if (!(n > 0)) throw new Error(`geometry: negatives must be positive, got ${n}`);
    // C_ij = N p_j + δ_ij: the expected negatives of class j, plus the positive on the diagonal.
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) logC[i * k + j] = Math.log(n * p[j] + (i === j ? 1 : 0));
    return rowLogSumExpObjective(`supcon(tau=${opts.tau}, N=${n})`, p, logC, opts.tau);
  }
  if (loss === 'bcl') return rowLogSumExpObjective(`bcl(tau=${opts.tau})`, p, logC, opts.tau);
  if (loss === 'bcl-balanced') return rowLogSumExpObjective(`bcl-balanced(tau=${opts.tau})`, new Float64Array(k).fill(1 / k), logC, opts.tau);
  throw new Error(`geometry: unknown loss '${String(loss)}' (${GEOMETRY_LOSSES.join(', ')})`);
}
