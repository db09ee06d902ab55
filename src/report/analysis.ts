// The computations behind the report's figures that are not plain drawing: the ideal simplex Gram
// matrix, the 2-D view of embeddings, the solver's optimal geometry for a run's class proportions and
// the reduction of Two-Classes metrics to JSON numbers. CPU, float64, K (classes) small.
import { thresholdSweep, type ThresholdRow } from '../geometry/analysis.js';
import { compareGeometry, learnedGram, type GeometryComparison } from '../geometry/learned.js';
import { geometryObjective, type GeometryLoss } from '../geometry/objectives.js';
import { jacobiEigen } from '../geometry/linalg.js';
import { solveGeometry } from '../geometry/solver.js';
import type { Embeddings, OptimalGeometry, RunData, ThresholdCurves } from './types.js';

/** Gram matrix of a regular simplex (the ETF) of k unit vectors: 1 on the diagonal, −1/(k−1) off it. */
export function etfGram(k: number): number[][] {
  return Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : k > 1 ? -1 / (k - 1) : 0)));
}

/** Class indices ordered head → tail (most training images first; ties by label). */
export function headToTail(counts: readonly number[]): number[] {
  return counts.map((_, c) => c).sort((a, b) => counts[b] - counts[a] || a - b);
}

/** A 2-D view of embeddings; `method` says how it was made, for the caption. */
export interface Projection {
  method: 'circle' | 'class-mean-pca';
  points: { x: number; y: number; label: number }[];
}

/**
 * 2-D view of `emb`: 2-D features are normalised onto the unit circle (their directions are what a
 * contrastive loss shapes). Higher dimensions are projected onto the top-2 principal directions of the
 * centred class means, not of the samples, so that the view separates classes rather than showing
 * within-class spread; found from the K×K Gram of the means (K ≪ d): with M = U Σ Vᵀ the directions are
 * v_i = Mᵀ u_i / σ_i. At most `maxPoints` points are kept (every ⌈n/maxPoints⌉-th) to bound the file size.
 */
export function projectEmbeddings(emb: Embeddings, maxPoints = 1500): Projection {
  const { data, n, d, labels } = emb;
  if (data.length !== n * d || labels.length !== n) throw new Error(`projectEmbeddings: ${data.length} values and ${labels.length} labels for [${n}, ${d}]`);
  const stride = Math.max(1, Math.ceil(n / maxPoints));
  const keep: number[] = [];
  for (let i = 0; i < n; i += stride) keep.push(i);
  if (d === 2) {
    return {
      method: 'circle',
      points: keep.map((i) => {
        const x = data[2 * i];
        const y = data[2 * i + 1];
        const r = Math.hypot(x, y) || 1;
        return { x: x / r, y: y / r, label: labels[i] };
      }),
    };
  }
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const k = classes.length;
  const slot = new Map(classes.map((c, i) => [c, i]));
  const means = classes.map(() => new Float64Array(d));
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const c = slot.get(labels[i])!;
    counts[c]++;
    for (let j = 0; j < d; j++) means[c][j] += data[i * d + j];
  }
  const centre = new Float64Array(d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centre[j] += means[c][j] / counts[c] / k;
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) means[c][j] = means[c][j] / counts[c] - centre[j];
  const g = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) g[a * k + b] = means[a].reduce((s, v, j) => s + v * means[b][j], 0);
  const { values, vectors } = jacobiEigen(g, k);
  const order = Array.from(values, (_, i) => i).sort((a, b) => values[b] - values[a]);
  const dirs = order.slice(0, 2).map((e) => {
    const v = new Float64Array(d);
    const sigma = Math.sqrt(Math.max(values[e], 0));
    // A direction with no spread (one class, or all means equal) stays zero: the points lie on the axis.
    if (sigma > 1e-12) for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) v[j] += (means[c][j] * vectors[c * k + e]) / sigma;
    return v;
  });
  while (dirs.length < 2) dirs.push(new Float64Array(d));
  const proj = (i: number, v: Float64Array) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (data[i * d + j] - centre[j]) * v[j];
    return s;
  };
  return { method: 'class-mean-pca', points: keep.map((i) => ({ x: proj(i, dirs[0]), y: proj(i, dirs[1]), label: labels[i] })) };
}

/** Solver settings for {@link optimalGeometry}. */
export interface OptimalOptions {
  loss?: GeometryLoss;
  tau?: number;
  negatives?: number;
  seed?: number;
}

/**
 * The Gram matrix of class means minimising the population loss at the run's class proportions (issue 8's
 * solver), for comparison with the trained geometry. Classes without training images are left out by
 * the solver's contract (positive proportions), so null is returned then.
 */
export function optimalGeometry(trainCounts: readonly number[], opts: OptimalOptions = {}): OptimalGeometry | null {
  if (trainCounts.length < 2 || trainCounts.some((c) => !(c > 0))) return null;
  const objective = geometryObjective(opts.loss ?? 'supcon', { proportions: trainCounts, tau: opts.tau ?? 0.1, negatives: opts.negatives });
  const sol = solveGeometry(objective, { seed: opts.seed ?? 0 });
  const k = sol.k;
  return { objective: objective.name, negatives: opts.negatives, gram: Array.from({ length: k }, (_, i) => Array.from(sol.gram.subarray(i * k, (i + 1) * k))) };
}

/** A run's learned class-mean Gram matrix against its optimum ({@link learnedAgainstOptimal}). */
export interface LearnedAgainstOptimal {
  /** Which saved space: the contrastive projections when saved, else the embeddings. */
  space: 'projections' | 'embeddings';
  learned: number[][];
  optimal: OptimalGeometry;
  comparison: GeometryComparison;
}

/**
 * The learned Gram matrix (normalised class means of the L2-normalised projections, else embeddings)
 * of a loaded run against its optimal geometry; a sentence saying why not when the run lacks a piece.
 */
export function learnedAgainstOptimal(run: RunData): LearnedAgainstOptimal | string | null {
  const space = run.projections ? 'projections' : run.embeddings ? 'embeddings' : null;
  const emb = run.projections ?? run.embeddings;
  if (!space || !emb) return null;
  if (!run.optimal) return 'No optimal geometry (solver skipped by --no-optimal, or no training counts): learned vs optimal omitted.';
  const learned = learnedGram(emb.data, emb.n, emb.d, emb.labels);
  const k = run.optimal.gram.length;
  if (learned.classes.length !== k || learned.classes.some((c, i) => c !== i)) {
    return `The ${space} hold classes [${learned.classes.join(', ')}] but the optimum has ${k}: learned vs optimal omitted.`;
  }
  return { space, learned: learned.gram, optimal: run.optimal, comparison: compareGeometry(learned.gram, run.optimal.gram) };
}

/** The problem of the report's threshold curves: SupCon's documented two-level case (K = 4, m = 2). */
export interface ThresholdCurveOptions {
  loss: GeometryLoss;
  classes?: number;
  majority?: number;
  taus?: number[];
  negatives?: number[];
}

const curveCache = new Map<string, ThresholdRow[]>();

/**
 * Minority-collapse thresholds ρ*(N) for a few τ (thresholdSweep of src/geometry/analysis.ts), memoised
 * per problem so that a comparison of many runs solves once. Defaults: K = 4 with m = 2 majority classes
 * (the setting with finite thresholds at every τ; m ≥ 3 never collapses), τ ∈ {0.2, 0.5, 1} (lower τ
 * pushes ρ* towards 1e6 and float64's limits), N ∈ {1, 4, 16, 64, 255, 1024}; bisection to 0.1 %
 * (about 0.5 s for SupCon). BCL's losses do not depend on N, so they are solved at one N and the
 * threshold repeated along N.
 */
export function thresholdCurves(opts: ThresholdCurveOptions): ThresholdCurves {
  const { loss, classes = 4, majority = 2, taus = [0.2, 0.5, 1], negatives = [1, 4, 16, 64, 255, 1024] } = opts;
  const key = JSON.stringify([loss, classes, majority, taus, negatives]);
  let rows = curveCache.get(key);
  if (!rows) {
    const solved = thresholdSweep({ loss, classes, majority }, taus, loss === 'supcon' ? negatives : negatives.slice(0, 1), { relativeTolerance: 1e-3 });
    rows = loss === 'supcon' ? solved : solved.flatMap((r) => negatives.map((n) => ({ ...r, negatives: n })));
    curveCache.set(key, rows);
  }
  return { loss, classes, majority, rows };
}
