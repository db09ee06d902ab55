// Burer–Monteiro solver and KKT certificate for  min f(G)  s.t.  diag G = 1, G ⪰ 0  (f convex, ./objectives.ts).
//
// Why the CPU. The problem is tiny (K ≤ 100 classes: one gradient costs ~3·K²·r ≈ 3 MFLOP at K = r = 100)
// and it needs float64: the certificate checks eigenvalues and residuals at 1e-8 and below, and WGSL has
// no f64 (float32's ulp near 1 is 1.2e-7, already above the tolerance). A GPU iteration would also need
// a readback per line-search step to decide the step, i.e. a device round trip (~0.1–1 ms) for a few
// MFLOP of work. Nothing to win on the GPU: K = 100 solves in seconds on the CPU (timings in
// bench/RESULTS.md, "geometry solver").
//
// Factorisation. G = V·Vᵀ with the rows v_a of V ∈ R^{P×r} on the unit sphere (so diag G = 1 and G ⪰ 0
// hold by construction). Classes may share a row (`groups`: class → row), which restricts the search to
// the face of the elliptope where those classes coincide; the threshold analysis uses that. We run
// L-BFGS on the unconstrained W with V = rows of W normalised (a retraction), renormalising W after each
// step; the gradient of f∘normalise at a unit row is the Riemannian gradient (I − v vᵀ)·∂f/∂v.
// With r = K the factorised problem has no spurious local minima for generic smooth f (Boumal,
// Voroninski & Bandeira 2016 need r(r+1)/2 > K), and in any case the certificate below is checked at the
// end rather than assumed.
//
// Certificate. Lagrangian L = f(G) − Σ y_i (G_ii − 1) − ⟨S, G⟩. KKT: S = ∇f(G) − Diag(y) ⪰ 0, S·G = 0.
// We take y_i = (∇f(G)·G)_ii (the choice that makes ⟨S, G⟩ = 0 exactly, since G_ii = 1) and report
//  * stationarity ‖S·G‖_F (the matrix complementarity; zero iff the BM first-order conditions hold),
//  * dual feasibility λ_min(S) (Jacobi eigenvalues),
//  * a duality-gap bound: for any feasible G', ⟨∇f, G'⟩ = ⟨S, G'⟩ + Σ y_i ≥ K·min(0, λ_min) + Σ y_i, so by
//    convexity f(G) − f* ≤ ⟨∇f, G − G*⟩ ≤ K·max(0, −λ_min(S)) + |⟨S, G⟩|.
import { Rng } from '../data/random.js';
import { gram, jacobiEigen, matmul64 } from './linalg.js';
import type { GeometryObjective } from './objectives.js';

/** The KKT certificate of a feasible G (see the module header). */
export interface KktCertificate {
  /** ‖S·G‖_F, S = ∇f(G) − Diag(y). */
  stationarity: number;
  /** Smallest eigenvalue of S (≥ 0 at an optimum, up to rounding). */
  minEigenvalue: number;
  /** ⟨S, G⟩ (zero by the choice of y; kept as a check on G's feasibility). */
  complementarity: number;
  /** Upper bound on f(G) − f*. */
  gapBound: number;
  /** max(stationarity, −λ_min(S), |⟨S, G⟩|): the one number compared with the tolerance. */
  residual: number;
}

/** Options of {@link solveGeometry}. */
export interface SolveOptions {
  /** Columns r of V (default K: the rank constraint is then void). */
  rank?: number;
  /** Seed of the random start. */
  seed?: number;
  /**
   * Stop when every row's Riemannian gradient is below this fraction of its Euclidean gradient, i.e. the
   * sine of the angle between ∂f/∂v_a and v_a (default 1e-10). Relative, because a class of share p has a
   * gradient of order p: an absolute tolerance would leave the rarest classes unconverged.
   */
  gradientTolerance?: number;
  /** Iteration cap (default 5000). */
  maxIterations?: number;
  /** Class → row of V (classes sharing a row are forced to coincide). Default: one row per class. */
  groups?: readonly number[];
}

/** The result of {@link solveGeometry}. */
export interface GeometrySolution {
  k: number;
  /** Optimal Gram matrix (K×K row-major). */
  gram: Float64Array;
  /** Unit class means, K×rank row-major (G = V·Vᵀ). */
  means: Float64Array;
  rank: number;
  value: number;
  iterations: number;
  /** Whether the gradient tolerance was reached (false: iteration cap or a failed line search). */
  converged: boolean;
  milliseconds: number;
  certificate: KktCertificate;
}

/** The dual slack S = ∇f(G) − Diag(y) with y_i = (∇f(G)·G)_ii (K×K row-major). */
export function dualSlack(objective: GeometryObjective, g: Float64Array): Float64Array {
  const k = objective.k;
  const { grad } = objective.evaluate(g);
  const gg = matmul64(grad, g, k, k, k);
  for (let i = 0; i < k; i++) grad[i * k + i] -= gg[i * k + i];
  return grad;
}

/** The KKT certificate of G for min f over the elliptope (G must have unit diagonal and be PSD). */
export function certify(objective: GeometryObjective, g: Float64Array): KktCertificate {
  const k = objective.k;
  const s = dualSlack(objective, g);
  const sg = matmul64(s, g, k, k, k);
  let stationarity = 0;
  let complementarity = 0;
  for (let i = 0; i < k * k; i++) {
    stationarity += sg[i] * sg[i];
    complementarity += s[i] * g[i];
  }
  stationarity = Math.sqrt(stationarity);
  const minEigenvalue = jacobiEigen(s, k).values[0];
  const gapBound = k * Math.max(0, -minEigenvalue) + Math.abs(complementarity);
  return { stationarity, minEigenvalue, complementarity, gapBound, residual: Math.max(stationarity, -minEigenvalue, Math.abs(complementarity)) };
}

interface Evaluation {
  value: number;
  /** Gradient with respect to W (Riemannian gradient when W's rows are unit). */
  grad: Float64Array;
  /** Largest over rows of |Riemannian gradient| / |Euclidean gradient| (see SolveOptions.gradientTolerance). */
  gradMax: number;
  /** |∂f/∂v_a| per row. */
  euclidean: Float64Array;
}

/**
 * Minimises `objective` over the elliptope (or over the face fixed by `groups`) by Burer–Monteiro with
 * L-BFGS, then certifies the result. Deterministic for a given seed.
 */
export function solveGeometry(objective: GeometryObjective, opts: SolveOptions = {}): GeometrySolution {
  const start = performance.now();
  const k = objective.k;
  const r = opts.rank ?? k;
  const groups = opts.groups ?? Array.from({ length: k }, (_, i) => i);
  if (groups.length !== k) throw new Error(`solveGeometry: groups must have ${k} entries`);
  const rows = Math.max(...groups) + 1;
  const tol = opts.gradientTolerance ?? 1e-10;
  const maxIterations = opts.maxIterations ?? 5000;
  const rng = new Rng(opts.seed ?? 0);
  let w = Float64Array.from({ length: rows * r }, () => rng.uniform(-1, 1));
  // Row norms are a free choice (f sees only directions), and they are the preconditioner: a gradient
  // step turns row a by ∝ |∂f/∂v_a| / |w_a|², so norms ∝ √|∂f/∂v_a| give every class the same angular
  // speed, however rare. Without this a class of share 1e-6 barely moves.
  let target = new Float64Array(rows).fill(1);

  const expand = (v: Float64Array): Float64Array => {
    const out = new Float64Array(k * r);
    for (let i = 0; i < k; i++) out.set(v.subarray(groups[i] * r, groups[i] * r + r), i * r);
    return out;
  };
  const evaluate = (x: Float64Array): Evaluation => {
    const v = Float64Array.from(x);
    const norms = normaliseRows(v, rows, r, new Float64Array(rows).fill(1));
    const vk = expand(v);
    const { value, grad: gf } = objective.evaluate(gram(vk, k, r));
    const m = matmul64(gf, vk, k, k, r);
    // ∂f/∂v_a = 2 Σ_{i in group a} (∇f·V)_i, then projected on the tangent space and divided by |w_a|.
    const grad = new Float64Array(rows * r);
    for (let i = 0; i < k; i++) for (let l = 0; l < r; l++) grad[groups[i] * r + l] += 2 * m[i * r + l];
    let gradMax = 0;
    const euclidean = new Float64Array(rows);
    for (let a = 0; a < rows; a++) {
      let dot = 0;
      let e2 = 0;
      for (let l = 0; l < r; l++) {
        dot += grad[a * r + l] * v[a * r + l];
        e2 += grad[a * r + l] ** 2;
      }
      let n2 = 0;
      for (let l = 0; l < r; l++) {
        const t = grad[a * r + l] - dot * v[a * r + l];
        grad[a * r + l] = t / norms[a];
        n2 += t * t;
      }
      euclidean[a] = Math.sqrt(e2);
      gradMax = Math.max(gradMax, e2 > 0 ? Math.sqrt(n2 / e2) : 0);
    }
    return { value, grad, gradMax, euclidean };
  };

  // L-BFGS (two-loop recursion, memory 10) with Armijo backtracking.
  const memory = 10;
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  normaliseRows(w, rows, r, target);
  let cur = evaluate(w);
  const largest = Math.max(...cur.euclidean);
  target = cur.euclidean.map((e) => Math.sqrt(Math.max(e, 1e-300) / largest));
  normaliseRows(w, rows, r, target);
  cur = evaluate(w);
  let iterations = 0;
  let converged = cur.gradMax <= tol;
  // Stall guard: at the float64 noise floor (tiny f, or a nearly flat direction) progress stops short of
  // the tolerance; give up after 200 iterations without halving the gradient ratio (converged = false).
  let best = cur.gradMax;
  let lastGain = 0;
  while (!converged && iterations < maxIterations && iterations - lastGain <= 200) {
    iterations++;
    let d = twoLoop(cur.grad, ss, ys);
    let slope = dot(d, cur.grad);
    if (!(slope < 0)) {
      ss.length = 0;
      ys.length = 0;
      d = cur.grad.map((x) => -x);
      slope = dot(d, cur.grad);
    }
    // First step (no curvature pairs yet): move the worst row by about 0.1 rad.
    let step = ss.length === 0 ? 0.1 / Math.max(...cur.grad.map(Math.abs), 1e-300) : 1;
    let next: Evaluation | undefined;
    let trial = w;
    for (let attempt = 0; attempt < 60; attempt++) {
      trial = w.map((x, i) => x + step * d[i]);
      normaliseRows(trial, rows, r, target);
      const e = evaluate(trial);
      // Armijo, or near the optimum, where f's rounding (~1e-16·|f|) hides decreases of order |g|²: the
      // approximate Armijo condition of Hager & Zhang (2005), which trusts the directional derivative instead.
      const armijo = e.value <= cur.value + 1e-4 * step * slope;
      const approximate = e.value <= cur.value + 1e-14 * Math.abs(cur.value) && dot(d, e.grad) <= -(1 - 2e-4) * slope;
      if (armijo || approximate) {
        next = e;
        break;
      }
      step *= 0.5;
    }
    if (next === undefined) {
      if (ss.length === 0) break; // even steepest descent cannot decrease f in float64: at the optimum's noise floor
      ss.length = 0;
      ys.length = 0;
      continue;
    }
    const s = trial.map((x, i) => x - w[i]);
    const y = next.grad.map((x, i) => x - cur.grad[i]);
    if (dot(s, y) > 1e-18) {
      ss.push(s);
      ys.push(y);
      if (ss.length > memory) {
        ss.shift();
        ys.shift();
      }
    }
    w = trial;
    cur = next;
    converged = cur.gradMax <= tol;
    if (cur.gradMax < 0.5 * best) {
      best = cur.gradMax;
      lastGain = iterations;
    }
  }
  normaliseRows(w, rows, r, new Float64Array(rows).fill(1));
  const means = expand(w);
  const g = gram(means, k, r);
  for (let i = 0; i < k; i++) g[i * k + i] = 1;
  return {
    k, gram: g, means, rank: r, value: cur.value, iterations, converged,
    milliseconds: performance.now() - start,
    certificate: certify(objective, g),
  };
}

/** Scales each row a of x (rows×cols) in place to norm target[a] and returns the previous norms. */
function normaliseRows(x: Float64Array, rows: number, cols: number, target: Float64Array): Float64Array {
  const norms = new Float64Array(rows);
  for (let a = 0; a < rows; a++) {
    let n2 = 0;
    for (let l = 0; l < cols; l++) n2 += x[a * cols + l] ** 2;
    const n = Math.sqrt(n2) || 1;
    norms[a] = n;
    for (let l = 0; l < cols; l++) x[a * cols + l] *= target[a] / n;
  }
  return norms;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** L-BFGS two-loop recursion: returns −H·g for the inverse-Hessian estimate H built from (s, y) pairs. */
function twoLoop(g: Float64Array, ss: Float64Array[], ys: Float64Array[]): Float64Array {
  const q = Float64Array.from(g);
  const alpha: number[] = [];
  for (let i = ss.length - 1; i >= 0; i--) {
    const rho = 1 / dot(ys[i], ss[i]);
    const a = rho * dot(ss[i], q);
    alpha[i] = a;
    for (let j = 0; j < q.length; j++) q[j] -= a * ys[i][j];
  }
  if (ss.length > 0) {
    const last = ss.length - 1;
    const gamma = dot(ss[last], ys[last]) / dot(ys[last], ys[last]);
    for (let j = 0; j < q.length; j++) q[j] *= gamma;
  }
  for (let i = 0; i < ss.length; i++) {
    const rho = 1 / dot(ys[i], ss[i]);
    const b = rho * dot(ys[i], q);
    for (let j = 0; j < q.length; j++) q[j] += ss[i][j] * (alpha[i] - b);
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j];
  return q;
}
