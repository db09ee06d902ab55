// Reb-SupCon's prototype-aware module, SwAV style (this project's reading of the paper:
// docs/paper-vs-code.md REB-8 to REB-11): K trainable prototypes C [K, D] kept unit-norm by
// renormalisation outside the graph, equipartitioned codes from Sinkhorn (SwAV's), swapped prediction
// (SwAV's), aggregation and separation. Every loss is composed from generic ops (matmul, log-softmax,
// reductions), so autograd gives the backward; the codes Q are constants.
import { noGrad } from '../autograd.js';
import { arange, full } from '../ops/creation.js';
import { add, affine, assign, mul, relu, scale, sub } from '../ops/elementwise.js';
import { oneHot } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import { l2Normalize, logSoftmax } from '../ops/rowwise.js';
import { reshape } from '../ops/shape.js';
import { checkMatrix } from '../ops/validate.js';
import { scope, Tensor } from '../tensor.js';
import { positive } from './contrastive.js';
import { sinkhorn } from './sinkhorn.js';

/** ‖a_i − b_j‖² [N, M] = ‖a_i‖² + ‖b_j‖² − 2 a_i·b_j. */
function squaredDistances(a: Tensor, b: Tensor): Tensor {
  return distancesFromScores(a, b, matmul(a, b, { transB: true }));
}

/** {@link squaredDistances} from the products a Bᵀ already computed. */
function distancesFromScores(a: Tensor, b: Tensor, ab: Tensor): Tensor {
  const aa = sum(mul(a, a), 1, true);
  const bb = reshape(sum(mul(b, b), 1), [1, b.shape[0]]);
  return sub(add(aa, bb), scale(ab, 2));
}

/**
 * Swapped prediction (SwAV's loss; Reb-SupCon's L1): with P_x = softmax(z_x Cᵀ / τ) over the K
 * prototypes,
 *   L1 = −(1/2B) Σ_i [ Σ_k Q_b[i,k] log P_a[i,k] + Σ_k Q_a[i,k] log P_b[i,k] ]
 * i.e. ½ [CE(Q_b, P_a) + CE(Q_a, P_b)] averaged over the batch. The codes Q_a, Q_b [B, K] are constants
 * (detached here); gradients reach za, zb and C. τ defaults to 0.2 (Reb-SupCon's contrastive τ, this
 * project's reading of the paper's single τ; SwAV's own is 0.1: docs/paper-vs-code.md REB-9).
 * @param za, zb [B, D] the two branches' embeddings (unit rows); prototypes [K, D].
 */
export function swappedPrediction(za: Tensor, zb: Tensor, prototypes: Tensor, qa: Tensor, qb: Tensor, opts: { temperature?: number } = {}): Tensor {
  const op = 'swappedPrediction';
  checkMatrix(op, prototypes, 'prototypes');
  const [k, d] = prototypes.shape;
  checkMatrix(op, za, 'za', undefined, d);
  const b = za.shape[0];
  checkMatrix(op, zb, 'zb', b, d);
  checkMatrix(op, qa, 'qa', b, k);
  checkMatrix(op, qb, 'qb', b, k);
  const t = positive(op, 'temperature', opts.temperature ?? 0.2);
  return swapFromScores(matmul(za, prototypes, { transB: true }), matmul(zb, prototypes, { transB: true }), qa, qb, t);
}

/** {@link swappedPrediction} from the scores z_a Cᵀ and z_b Cᵀ [B, K] (shared with {@link prototypeLoss}). */
function swapFromScores(sa: Tensor, sb: Tensor, qa: Tensor, qb: Tensor, t: number): Tensor {
  const logP = (scores: Tensor) => logSoftmax(scale(scores, 1 / t));
  const total = add(sum(mul(qb.detach(), logP(sa))), sum(mul(qa.detach(), logP(sb))));
  return scale(total, -1 / (2 * sa.shape[0]));
}

/**
 * Aggregation (Reb-SupCon L2, docs/paper-vs-code.md REB-10): L2 = (1/B) Σ_i Σ_k Q[i,k] · ‖z_i − c_k‖²,
 * the code-weighted squared distance of each embedding to the prototypes. Q [B, K] is a constant
 * (detached).
 */
export function aggregationLoss(z: Tensor, prototypes: Tensor, q: Tensor): Tensor {
  const op = 'aggregationLoss';
  checkMatrix(op, prototypes, 'prototypes');
  const [k, d] = prototypes.shape;
  checkMatrix(op, z, 'z', undefined, d);
  checkMatrix(op, q, 'q', z.shape[0], k);
  return aggregationFromScores(z, prototypes, matmul(z, prototypes, { transB: true }), q);
}

/** {@link aggregationLoss} with ‖z_i − c_k‖² = ‖z_i‖² + ‖c_k‖² − 2 (z Cᵀ)_ik from the given scores z Cᵀ. */
function aggregationFromScores(z: Tensor, prototypes: Tensor, scores: Tensor, q: Tensor): Tensor {
  return scale(sum(mul(q.detach(), distancesFromScores(z, prototypes, scores))), 1 / z.shape[0]);
}

/**
 * Separation (Reb-SupCon L3, docs/paper-vs-code.md REB-10): L3 = Σ_k Σ_{k'≠k} max(0, δ − ‖c_k − c_k'‖²),
 * over ordered pairs (each unordered pair counted twice), no normalisation; δ defaults to 1 (with unit
 * prototypes the hinge is active iff cos(c_k, c_k') > 1 − δ/2).
 */
export function separationLoss(prototypes: Tensor, opts: { delta?: number } = {}): Tensor {
  const op = 'separationLoss';
  checkMatrix(op, prototypes, 'prototypes');
  const delta = opts.delta ?? 1;
  if (!Number.isFinite(delta)) throw new Error(`${op}: delta must be a finite number, got ${delta}`);
  const k = prototypes.shape[0];
  const offDiagonal = sub(full([k, k], 1), oneHot(arange(0, k, 1, 'i32'), k));
  return sum(mul(relu(affine(squaredDistances(prototypes, prototypes), -1, delta)), offDiagonal));
}

export interface PrototypeLossOptions {
  /** τ of the swapped prediction (default 0.2, the contrastive τ: docs/paper-vs-code.md REB-9). */
  temperature?: number;
  /** Sinkhorn ψ (ε, default 0.05) and iterations (default 3), the paper's and SwAV's values. */
  epsilon?: number;
  iterations?: number;
  /**
   * (λ1, λ2, λ3) for (swap, aggregation, separation); default (0.5, 0.3, 0.2). The paper's Sec. 3.3.2
   * order; its Sec. 4.5 names them differently (docs/paper-vs-code.md REB-11).
   */
  weights?: [number, number, number];
  /** Separation margin δ, default 1. */
  delta?: number;
  /** L2-normalise the two projections first (default true: zq = normalize(query projection)). */
  normalize?: boolean;
}

export interface PrototypeLosses {
  loss: Tensor;
  swap: Tensor;
  aggregation: Tensor;
  separation: Tensor;
  /** The Sinkhorn codes of the query and key branches [B, K] (constants). */
  codesQuery: Tensor;
  codesKey: Tensor;
}

/**
 * Reb-SupCon's L_proto = λ1 L1 + λ2 L2 + λ3 L3 (docs/paper-vs-code.md REB-8 to REB-11):
 * Q_q = sinkhorn(zq Cᵀ), Q_k = sinkhorn(zk Cᵀ) (detached, rows sum to 1), L1 = swappedPrediction(zq, zk,
 * C, Q_q, Q_k), L2 = aggregation of zq with Q_q, L3 = separation of C. In MoCo zk carries no gradient, so
 * CE(Q_q, P_k) trains only C. Keep C unit norm with {@link renormalizePrototypes} after each optimiser
 * step (SwAV; not part of the graph).
 * @param query, key [B, D] projections; prototypes [K, D] (trainable).
 */
export function prototypeLoss(query: Tensor, key: Tensor, prototypes: Tensor, opts: PrototypeLossOptions = {}): PrototypeLosses {
  const op = 'prototypeLoss';
  checkMatrix(op, prototypes, 'prototypes');
  const d = prototypes.shape[1];
  checkMatrix(op, query, 'query', undefined, d);
  checkMatrix(op, key, 'key', query.shape[0], d);
  const [l1, l2, l3] = opts.weights ?? [0.5, 0.3, 0.2];
  if (![l1, l2, l3].every(Number.isFinite)) throw new Error(`${op}: weights must be three finite numbers`);
  const t = positive(op, 'temperature', opts.temperature ?? 0.2);
  const norm = opts.normalize ?? true;
  const zq = norm ? l2Normalize(query) : query;
  const zk = norm ? l2Normalize(key) : key;
  const sk = { epsilon: opts.epsilon, iterations: opts.iterations };
  // Each branch's scores z Cᵀ once: the Sinkhorn codes (detached), the swapped prediction and the aggregation.
  const scoresQuery = matmul(zq, prototypes, { transB: true });
  const scoresKey = matmul(zk, prototypes, { transB: true });
  const codesQuery = noGrad(() => sinkhorn(scoresQuery.detach(), sk));
  const codesKey = noGrad(() => sinkhorn(scoresKey.detach(), sk));
  const swap = swapFromScores(scoresQuery, scoresKey, codesQuery, codesKey, t);
  const aggregation = aggregationFromScores(zq, prototypes, scoresQuery, codesQuery);
  const separation = separationLoss(prototypes, { delta: opts.delta });
  const loss = add(add(scale(swap, l1), scale(aggregation, l2)), scale(separation, l3));
  return { loss, swap, aggregation, separation, codesQuery, codesKey };
}

/** C ← normalize(C) row-wise, in place and outside the graph (SwAV renormalises before every forward). */
export function renormalizePrototypes(prototypes: Tensor): void {
  checkMatrix('renormalizePrototypes', prototypes, 'prototypes');
  scope(() => noGrad(() => assign(prototypes, l2Normalize(prototypes))));
}
