// Reb-SupCon (no released code; this project's reading: docs/paper-vs-code.md#reb-supcon): the
// rebalancing factor ω and the rebalanced supervised contrastive loss on a MoCo / PaCo key queue. The
// loss is the SupCon-family row kernel of src/ops/contrastive.ts (shaders/contrastive.wgsl) with [q, k]
// as the sample block and the queue as the extra block; the per-anchor weights ω(y_i) multiply its
// per-anchor losses, detached. Nothing is read back.
import { noGrad } from '../autograd.js';
import { full, tensor } from '../ops/creation.js';
import { contrastiveRows } from '../ops/contrastive.js';
import { add, affine, assign, div, gt, maximum, mul, scale, toFloat, where } from '../ops/elementwise.js';
import { gather, scatterAdd } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import type { QueueView } from '../ops/moco.js';
import { mean } from '../ops/reduce.js';
import { l2Normalize } from '../ops/rowwise.js';
import { concat, reshape } from '../ops/shape.js';
import { assertDType, checkMatrix, describe } from '../ops/validate.js';
import { scope, Tensor } from '../tensor.js';
import { positive } from './contrastive.js';

export interface RebSupConOptions {
  /** τ (default 0.2, the paper's; it uses 0.05 on CIFAR-100-LT). */
  temperature?: number;
  /** Per-anchor weights ω(y_i) [B] (detached here), e.g. {@link Rebalancer.anchorWeights}; default 1. */
  weights?: Tensor;
  /** L2-normalise q and k first (default true); the queue is used as stored. */
  normalize?: boolean;
  /**
   * 'mean' over the B anchors (default; the paper sums, docs/paper-vs-code.md REB-2) or 'none': the
   * weighted per-anchor losses.
   */
  reduction?: 'mean' | 'none';
}

function checkIntVector(op: string, t: Tensor, what: string, n: number): void {
  assertDType(op, t, ['i32'], what);
  if (t.rank !== 1 || t.shape[0] !== n) throw new Error(`${op}: expected ${what} [${n}] i32, got ${describe(t)}`);
}

/**
 * Rebalanced supervised contrastive loss, PaCo layout (docs/paper-vs-code.md REB-1, MOCO-4):
 *   F = [normalize(q); normalize(k); queue] [2B + Q, D], labels [y; y; queue_y],  S = normalize(q) Fᵀ / τ
 *   L_i = −ω(y_i) · (1/|P_i|) Σ_{p∈P_i} [ S_ip − log Σ_{j≠i} exp(S_ij) ],  P_i = {j ≠ i : label_j = y_i}
 *   L = mean_i L_i
 * The anchors are the B queries; the own key k_i is a positive; the queue is the snapshot before this
 * step's enqueue (MOCO-2). With ω ≡ 1 this is PaCo's loss with beta = 0 and no class logits. Gradients
 * reach q and k (k is usually a no-grad key); the queue is a constant.
 * @param query, key [B, D]; labels [B] i32; queue the key queue or null (no extra columns).
 */
export function rebSupCon(query: Tensor, key: Tensor, labels: Tensor, queue: QueueView | null, opts: RebSupConOptions = {}): Tensor {
  const op = 'rebSupCon';
  checkMatrix(op, query, 'query');
  const [b, d] = query.shape;
  checkMatrix(op, key, 'key', b, d);
  checkIntVector(op, labels, 'labels', b);
  if (queue) {
    checkMatrix(op, queue.keys, 'queue keys', undefined, d);
    checkIntVector(op, queue.labels, 'queue labels', queue.keys.shape[0]);
  }
  if (opts.weights) {
    assertDType(op, opts.weights, ['f32'], 'weights');
    if (opts.weights.rank !== 1 || opts.weights.shape[0] !== b) throw new Error(`${op}: expected weights [${b}] f32, got ${describe(opts.weights)}`);
  }
  const t = positive(op, 'temperature', opts.temperature ?? 0.2);
  const norm = opts.normalize ?? true;
  const zq = norm ? l2Normalize(query) : query;
  const zk = norm ? l2Normalize(key) : key;
  // Sample-major [q_0, k_0, q_1, k_1, …]: sample i has views (q_i, k_i); the anchors are view 0 (stride 2).
  const x = reshape(concat([reshape(zq, [b, 1, d]), reshape(zk, [b, 1, d])], 1), [2 * b, d]);
  const rows = contrastiveRows(matmul(zq, x, { transB: true }), queue ? matmul(zq, queue.keys, { transB: true }) : null, {
    rule: 'labels', samples: b, views: 2, stride: 2, temperature: t, scale: 1, classAverage: false, classes: 0,
    minority: 0, eps: [0, 0], nanWhenNoPositive: false, labels, extraLabels: queue?.labels ?? null,
  });
  const weighted = opts.weights ? mul(rows, opts.weights.detach()) : rows;
  return opts.reduction === 'none' ? weighted : mean(weighted);
}

export interface RebalancerOptions {
  /** α (default 0.5), β (default 0.1), ε (default 1e-5): the paper's values. */
  alpha?: number;
  beta?: number;
  epsilon?: number;
  /**
   * EMA momentum of the per-class gradient norms: ∇̄_c ← m·∇̄_c + (1 − m)·∇_c for the classes in the
   * batch (a class's first batch sets ∇̄_c = ∇_c; absent classes keep their value). Default 0.9 (a
   * project choice; the paper uses the batch value, m = 0).
   */
  momentum?: number;
  /**
   * 'formula' (default): ω = 1 / (1 + α ∇ ω_f), the paper's formula as printed (decreases with difficulty
   * and rarity). 'inverse': ω = 1 + α ∇ ω_f, the prose's reading (more weight to hard and rare classes).
   * docs/paper-vs-code.md REB-3.
   */
  reading?: 'formula' | 'inverse';
}

/**
 * Reb-SupCon's rebalancing factor with a running per-class gradient norm on the device:
 *   ω_f(c) = β / (f(c) + ε),  ω(c) = 1 / (1 + α · ∇̄_c · ω_f(c))   (or its inverse, see `reading`)
 * ∇_c = mean over the batch's class-c samples of the per-sample gradient norms (ops/grad-norms.ts perSampleGradNorms),
 * folded into the EMA ∇̄_c by {@link update}; classes never seen have ∇̄_c = 0, i.e. ω = 1. ω is
 * always detached. f(c) is the training-set class proportion n_c / N (the paper says "class frequency":
 * docs/paper-vs-code.md REB-4; the smoothing is REB-6).
 */
export class Rebalancer {
  readonly classes: number;
  readonly alpha: number;
  readonly beta: number;
  readonly epsilon: number;
  readonly momentum: number;
  readonly reading: 'formula' | 'inverse';
  /** ∇̄ [K] and whether each class has been seen (1/0) [K]. */
  readonly gradNorms: Tensor;
  readonly seen: Tensor;
  private readonly omegaF: Tensor;

  /** @param classCounts n_c of the training set (f(c) = n_c / Σ n). */
  constructor(classCounts: ArrayLike<number>, opts: RebalancerOptions = {}) {
    const op = 'Rebalancer';
    const counts = Array.from(classCounts);
    if (counts.length === 0 || counts.some((n) => !(n >= 0) || !Number.isFinite(n))) {
      throw new Error(`${op}: classCounts must be a non-empty list of finite counts ≥ 0`);
    }
    const total = counts.reduce((a, n) => a + n, 0);
    if (!(total > 0)) throw new Error(`${op}: classCounts sum to 0`);
    const { alpha = 0.5, beta = 0.1, epsilon = 1e-5, momentum = 0.9, reading = 'formula' } = opts;
    for (const [name, v] of Object.entries({ alpha, beta, epsilon })) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${op}: ${name} must be a finite number ≥ 0, got ${v}`);
    }
    if (!(momentum >= 0 && momentum < 1)) throw new Error(`${op}: momentum must be in [0, 1), got ${momentum}`);
    if (reading !== 'formula' && reading !== 'inverse') throw new Error(`${op}: reading must be 'formula' or 'inverse', got ${String(reading)}`);
    this.classes = counts.length;
    this.alpha = alpha;
    this.beta = beta;
    this.epsilon = epsilon;
    this.momentum = momentum;
    this.reading = reading;
    this.omegaF = tensor(Float32Array.from(counts, (n) => beta / (n / total + epsilon)), [counts.length]).keep();
    this.gradNorms = full([counts.length], 0).keep();
    this.seen = full([counts.length], 0).keep();
  }

  /** Folds a batch's per-sample gradient norms [B] with labels [B] (i32, in [0, K)) into ∇̄. */
  update(norms: Tensor, labels: Tensor): void {
    const op = 'Rebalancer.update';
    assertDType(op, norms, ['f32'], 'norms');
    if (norms.rank !== 1 || norms.shape[0] === 0) throw new Error(`${op}: expected norms [B ≥ 1] f32, got ${describe(norms)}`);
    checkIntVector(op, labels, 'labels', norms.shape[0]);
    const k = this.classes;
    scope(() => noGrad(() => {
      const sums = scatterAdd(norms.detach(), 0, labels, k);
      const counts = scatterAdd(full([norms.shape[0]], 1), 0, labels, k);
      const present = gt(counts, full([], 0));
      const batchMean = div(sums, maximum(counts, full([], 1)));
      const blended = add(scale(this.gradNorms, this.momentum), scale(batchMean, 1 - this.momentum));
      assign(this.gradNorms, where(present, where(this.seen, blended, batchMean), this.gradNorms));
      assign(this.seen, maximum(this.seen, toFloat(present)));
    }));
  }

  /** ω(c) for every class [K] (a new tensor, detached). */
  weights(): Tensor {
    return noGrad(() => {
      const x = affine(mul(this.gradNorms, this.omegaF), this.alpha, 1);
      return this.reading === 'inverse' ? x : div(full([], 1), x);
    });
  }

  /** ω(y_i) for labels [B] (i32): the `weights` option of {@link rebSupCon}. */
  anchorWeights(labels: Tensor): Tensor {
    assertDType('Rebalancer.anchorWeights', labels, ['i32'], 'labels');
    return noGrad(() => gather(this.weights(), 0, labels));
  }

  dispose(): void {
    for (const t of [this.gradNorms, this.seen, this.omegaF]) t.dispose();
  }
}
