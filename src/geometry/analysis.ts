// Reading an optimal Gram matrix (angles, means, collapse groups) and the minority-collapse threshold.
//
// Two-level proportions: m majority classes of share p_maj each and K − m minority classes of share
// p_min each, with imbalance ratio ρ = p_maj / p_min, so p_min = 1 / (m·ρ + K − m).
//
// Threshold criterion (exact, not a tolerance on G_ij). Let F be the face of the elliptope where all
// minority means coincide. F is convex, so min f over F is again a convex problem; we solve it by tying
// the minority rows of V. Minority collapse is optimal for the full problem iff that face optimum passes
// the full KKT certificate, i.e. S = ∇f − Diag(y) ⪰ 0 with S·G = 0. Stationarity holds already (the
// minority classes are exchangeable, so their rows of S·V agree, and their sum is the tied gradient,
// zero). S·G = 0 and symmetry make S vanish on range(G) and map null(G) into itself, so S ⪰ 0 iff S is
// PSD on null(G). When the m majority means and the merged minority mean are linearly independent
// (rank G = m + 1, true at every finite ratio we meet: the majorities never become exactly antipodal),
// null(G) = {x supported on the minorities, Σ x = 0}, where exchangeability makes S = (S_ii − S_ij)·I for
// minorities i ≠ j. So collapse is optimal iff φ(ρ) = S_ii − S_ij ≥ 0 (reported divided by |y_i|).
// φ is the curvature of f along "split the minorities by a small angle θ into a fresh direction": their
// product G_ij drops by θ²/2 (the repulsion gained) while each minority–majority product moves towards 0
// by O(θ²) (the cost). Both are O(θ²), so the transition happens at a finite ρ*: we bracket it by
// decades and bisect on log ρ for φ = 0. The tests cross-check the criterion against the untied solver
// on both sides of ρ*.
//
// Dependence on N and τ (SupCon; `npm run geometry -- --sweep`). For few negatives the loss is in its
// linear regime, f ≈ N Σ_ij p_i p_j e^{(G_ij − 1)/τ} + const: a pair potential under which two coinciding
// minorities repel at full strength e⁰ = 1 with weight p_min², against majority weights
// p_maj·p_min·e^{(G − 1)/τ}. With many negatives each anchor's log-softmax caps its total repulsion at
// p_i/τ, and a collapsed twin takes a bounded share of a minority anchor's, so staying together should
// cost less and ρ* should fall with N towards its large-N limit. Solved, that holds for m = 2 (with a
// shallow minimum near N = 64 at τ = 0.2). It is NOT universal: with one majority class (K = 6, m = 1)
// ρ* rises slightly with N, the softmax cap also weakening the majority anchor's push on the minorities.
// With m ≥ 3 majorities (K = 6 or 10, τ ∈ {0.5, 1}) no collapse occurs up to ρ = 1e8: the minorities
// settle at a fixed spread (G_ij ≈ 0.52). Lower τ raises ρ* steeply, like e^{c/τ} (the majority weight
// e^{(G−1)/τ} shrinks), until p_min ~ 1e-6 brings the solves to float64's limits (flagged) near τ = 0.1.
// The values behind these statements are in bench/RESULTS.md ("minority-collapse thresholds").
import { jacobiEigen } from './linalg.js';
import { geometryObjective, type GeometryLoss } from './objectives.js';
import { dualSlack, solveGeometry, type SolveOptions } from './solver.js';

/** Pairwise angles between class means in degrees (K×K row-major), from G_ij = cos θ_ij. */
export function meanAngles(g: Float64Array, k: number): Float64Array {
  return g.subarray(0, k * k).map((x) => (Math.acos(Math.min(1, Math.max(-1, x))) * 180) / Math.PI);
}

/**
 * Class means recovered from G alone (eigen-embedding V = U·√Λ over the eigenvalues above `tolerance`),
 * K×rank row-major with rank = the numerical rank of G. Unique up to an orthogonal transform.
 */
export function recoverMeans(g: Float64Array, k: number, tolerance = 1e-9): { means: Float64Array; rank: number } {
  const { values, vectors } = jacobiEigen(g, k);
  const keep: number[] = [];
  for (let c = k - 1; c >= 0; c--) if (values[c] > tolerance) keep.push(c);
  const rank = keep.length;
  const means = new Float64Array(k * rank);
  for (let i = 0; i < k; i++) keep.forEach((c, l) => (means[i * rank + l] = vectors[i * k + c] * Math.sqrt(values[c])));
  return { means, rank };
}

/** Groups of classes whose means coincide (G_ij > 1 − ε, transitively), each sorted, singletons included. */
export function collapseGroups(g: Float64Array, k: number, epsilon = 1e-4): number[][] {
  const parent = Array.from({ length: k }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) if (g[i * k + j] > 1 - epsilon) parent[find(j)] = find(i);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < k; i++) groups.set(find(i), [...(groups.get(find(i)) ?? []), i]);
  return [...groups.values()];
}

/** m majority classes at ρ times the share of each of the K − m minority classes (sums to 1). */
export function twoLevelProportions(k: number, majority: number, ratio: number): number[] {
  if (!(majority >= 1 && majority <= k - 2)) throw new Error(`twoLevelProportions: need 1 ≤ m ≤ K − 2 (two minorities at least), got m=${majority}, K=${k}`);
  if (!(ratio >= 1)) throw new Error(`twoLevelProportions: ratio must be ≥ 1, got ${ratio}`);
  const pMin = 1 / (majority * ratio + k - majority);
  return Array.from({ length: k }, (_, i) => (i < majority ? ratio * pMin : pMin));
}

/** A two-level problem: loss, K, m, τ, N. */
export interface TwoLevelProblem {
  loss: GeometryLoss;
  classes: number;
  majority: number;
  tau: number;
  negatives?: number;
}

/** The collapse margin at one ratio: φ(ρ) = (S_ii − S_ij)/|y_i| ≥ 0 iff minority collapse is optimal. */
export interface CollapseMargin {
  margin: number;
  /** Whether the face solve reached its tolerance (at ρ ≳ 1e7 the minority terms fall below float64's reach). */
  converged: boolean;
}

/** φ(ρ) at the collapsed-minority optimum of a two-level problem (see the module header). */
export function collapseMargin(problem: TwoLevelProblem, ratio: number, solve: SolveOptions = {}): CollapseMargin {
  const { classes: k, majority: m } = problem;
  const objective = geometryObjective(problem.loss, { proportions: twoLevelProportions(k, m, ratio), tau: problem.tau, negatives: problem.negatives });
  const groups = Array.from({ length: k }, (_, i) => Math.min(i, m));
  const sol = solveGeometry(objective, { ...solve, rank: solve.rank ?? m + 1, groups });
  const s = dualSlack(objective, sol.gram);
  // Divided by the minority's multiplier |y_i| (of order p_min/τ) so that the margin is scale-free.
  const y = objective.evaluate(sol.gram).grad[m * k + m] - s[m * k + m];
  return { margin: (s[m * k + m] - s[m * k + m + 1]) / Math.abs(y), converged: sol.converged };
}

/** Options of {@link collapseThreshold}. */
export interface ThresholdOptions {
  /** Largest ratio tried (default 1e8). */
  maxRatio?: number;
  /** Bisection stops when the bracket is this narrow in log ρ (default 1e-4, i.e. 0.01 % relative). */
  relativeTolerance?: number;
}

/** The threshold ρ* (Infinity: none up to maxRatio) and whether every solve behind it converged. */
export interface Threshold {
  ratio: number;
  converged: boolean;
}

/**
 * The imbalance ratio ρ* at which minority collapse begins: scan ρ = 1, 10, 100, … for the first ratio
 * where collapse is optimal (scanning upwards rather than testing maxRatio first, because the solves get
 * less reliable as p_min → 0), then bisect on log ρ inside that decade.
 */
export function collapseThreshold(problem: TwoLevelProblem, opts: ThresholdOptions = {}): Threshold {
  const maxRatio = opts.maxRatio ?? 1e8;
  const rtol = opts.relativeTolerance ?? 1e-4;
  let converged = true;
  const collapsed = (logRatio: number): boolean => {
    const r = collapseMargin(problem, Math.exp(logRatio));
    converged &&= r.converged;
    return r.margin >= 0;
  };
  if (collapsed(0)) return { ratio: 1, converged };
  let lo = 0;
  let hi = NaN;
  for (let e = Math.LN10; e < Math.log(maxRatio) + Math.LN10; e += Math.LN10) {
    const x = Math.min(e, Math.log(maxRatio));
    if (collapsed(x)) {
      hi = x;
      break;
    }
    lo = x;
  }
  if (Number.isNaN(hi)) return { ratio: Infinity, converged };
  while (hi - lo > rtol) {
    const mid = 0.5 * (lo + hi);
    if (collapsed(mid)) hi = mid;
    else lo = mid;
  }
  return { ratio: Math.exp(hi), converged };
}

/** One row of {@link thresholdSweep}. */
export interface ThresholdRow {
  tau: number;
  negatives: number;
  /** ρ* (Infinity: no collapse up to maxRatio). */
  ratio: number;
  /** False when a solve behind ρ* stopped short of its tolerance: treat ρ* as indicative only. */
  converged: boolean;
}

/** ρ* over a grid of temperatures and numbers of negatives (SupCon by default). */
export function thresholdSweep(
  base: Omit<TwoLevelProblem, 'tau' | 'negatives'>, taus: readonly number[], negatives: readonly number[], opts: ThresholdOptions = {},
): ThresholdRow[] {
  const rows: ThresholdRow[] = [];
  for (const tau of taus) for (const n of negatives) rows.push({ tau, negatives: n, ...collapseThreshold({ ...base, tau, negatives: n }, opts) });
  return rows;
}
