// Contrastive losses as one matmul (or two, with prototypes) plus the fused row kernel of
// src/ops/contrastive.ts. They follow the papers' released code (docs/paper-vs-code.md says which, and
// where it departs from the papers): features [B, V, D] (already L2-normalised by the model unless
// `normalize` is set), the self column dropped from denominator and positives, reduction = mean over
// anchors.
//
// Layout. The official code flattens the views view-major; here the rows are taken sample-major (a free
// reshape of [B, V, D]). Every loss is a mean over anchors of sums over columns, so the value and the
// gradient w.r.t. the features are the same; only internal matrices are permuted.
import { arange, full, tensor } from '../ops/creation.js';
import { contrastiveRows, type PositiveRule } from '../ops/contrastive.js';
import { div, gt, maximum, mul, scale, sub, where } from '../ops/elementwise.js';
import { oneHot } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { logsumexp, mean, sum } from '../ops/reduce.js';
import { l2Normalize } from '../ops/rowwise.js';
import { expand, reshape, slice } from '../ops/shape.js';
import { assertDType, describe } from '../ops/validate.js';
import { Tensor } from '../tensor.js';

/** Labels: an i32 tensor [B] already on the device, or integers (checked, then uploaded). */
export type Labels = Tensor | ArrayLike<number>;

export interface ContrastiveOptions {
  /** T in S = A·Cᵀ / T. */
  temperature?: number;
  /**
   * What an anchor without any positive contributes (possible with V = 1): 'zero' (default) is
   * SupContrast since commit 72fd989 (the anchor adds 0 but still counts in the mean); 'nan' is the older
   * code's 0/0 (docs/paper-vs-code.md SC-3).
   */
  noPositives?: 'zero' | 'nan';
  /** L2-normalise the features (and prototypes) first. Default false: the official losses never do. */
  normalize?: boolean;
  /** 'mean' over anchors (default, as the official code) or 'none': the per-anchor losses [A]. */
  reduction?: 'mean' | 'none';
}

export interface TemperedOptions extends ContrastiveOptions {
  /**
   * The per-anchor loss is multiplied by T / baseTemperature, as SupContrast does (docs/paper-vs-code.md
   * SC-1); default 0.07.
   */
  baseTemperature?: number;
}

export interface SupConOptions extends TemperedOptions {
  /**
   * 'all' (default): every view is an anchor; 'one': only view 0, against all V·B rows (SupContrast's
   * `contrast_mode`). 'one' multiplies only its B anchor rows by Xᵀ: 1/V of the matmul work of 'all'.
   */
  contrastMode?: 'all' | 'one';
}

/** Which loss of the BCL paper: Eq. 9 as in the official code (default), Eq. 6, Eq. 7 or Eq. 8. */
export type BclVariant = 'bcl' | 'L1' | 'L2' | 'L3';

export interface BclOptions extends ContrastiveOptions {
  variant?: BclVariant;
  /** K for variants 'L1' and 'L2', which have no prototypes; otherwise K = prototypes.shape[0]. */
  numClasses?: number;
  /** Labels of the prototype rows (i32 [K]); default 0..K-1 as in the official code. */
  prototypeLabels?: Tensor;
  /**
   * Variant 'bcl' only. false: the class-complement ablation (BCL Table 2) — the prototypes stay in the
   * contrast set and among the positives, but every column has weight 1 (no class-averaging), so
   * ℓ_r = −(1/|P(r)|) Σ_{p∈P(r)} [ s_rp − log Σ_{j≠r} exp(s_rj) ] over the V·B views and the K
   * prototypes. Default true (Eq. 9). The other ablation, class-averaging without prototypes, is 'L1'.
   */
  classAveraging?: boolean;
}

export interface SupMinOptions extends TemperedOptions {
  /** The minority label (TTC's `min_class`), default 1. */
  minorityClass?: number;
}

export interface SupProtoOptions extends TemperedOptions {
  /**
   * [eps_0, eps_1]: class c pulls its prototype when cos(z, p_c) ≤ cos(z, p_other) + eps_c (TTC's test);
   * default [1, 1] (TTC's config), i.e. cos(z, p_own) ≤ 0.5 for antipodal prototypes, the paper's
   * threshold (docs/paper-vs-code.md TC-4).
   */
  eps?: [number, number];
}

interface Prepared {
  x: Tensor;
  b: number;
  v: number;
  d: number;
}

/** `value` if it is a positive finite number, else a clear error naming `op` and `name`. */
export function positive(op: string, name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`${op}: ${name} must be a positive finite number, got ${value}`);
  return value;
}

function prepareFeatures(op: string, features: Tensor, minViews: number): Prepared {
  assertDType(op, features, ['f32'], 'features');
  if (features.rank !== 3 || features.shape.some((n) => n === 0)) {
    throw new Error(`${op}: expected features [B, V, D] with B, V, D ≥ 1, got ${describe(features)}`);
  }
  const [b, v, d] = features.shape;
  if (v < minViews) throw new Error(`${op}: expected at least ${minViews} views (features [B, V, D] with V ≥ ${minViews}), got ${describe(features)}`);
  return { x: reshape(features, [b * v, d]), b, v, d };
}

function checkPrototypes(op: string, prototypes: Tensor, d: number, k?: number): void {
  assertDType(op, prototypes, ['f32'], 'prototypes');
  if (prototypes.rank !== 2 || prototypes.shape[1] !== d || prototypes.shape[0] === 0 || (k !== undefined && prototypes.shape[0] !== k)) {
    throw new Error(`${op}: expected prototypes [${k ?? 'K ≥ 1'}, ${d}] (D of the features), got ${describe(prototypes)}`);
  }
}

/** Validates labels; returns a device tensor (uploaded here when given as numbers) and whether it is ours. */
function checkLabels(op: string, labels: Labels, b: number, range?: [number, number]): Tensor | number[] {
  if (labels instanceof Tensor) {
    assertDType(op, labels, ['i32'], 'labels');
    if (labels.rank !== 1 || labels.shape[0] !== b) throw new Error(`${op}: expected labels [${b}] (one per sample) i32, got ${describe(labels)}`);
    return labels;
  }
  const values = Array.from(labels);
  if (values.length !== b) throw new Error(`${op}: expected ${b} labels (one per sample), got ${values.length}`);
  const bad = values.findIndex((y) => !Number.isInteger(y) || (range && (y < range[0] || y > range[1])));
  if (bad >= 0) {
    const want = range ? `an integer in [${range[0]}, ${range[1]}]` : 'an integer';
    throw new Error(`${op}: label ${bad} is ${values[bad]}, expected ${want}`);
  }
  return values;
}

function upload(labels: Tensor | number[]): Tensor {
  return labels instanceof Tensor ? labels : tensor(Int32Array.from(labels), [labels.length], 'i32');
}

function finish(rows: Tensor, opts: ContrastiveOptions): Tensor {
  return opts.reduction === 'none' ? rows : mean(rows);
}

function commonOptions(op: string, opts: ContrastiveOptions, defaultT: number): { t: number; nan: boolean } {
  const t = positive(op, 'temperature', opts.temperature ?? defaultT);
  if (opts.noPositives !== undefined && opts.noPositives !== 'zero' && opts.noPositives !== 'nan') {
    throw new Error(`${op}: noPositives must be 'zero' or 'nan', got ${String(opts.noPositives)}`);
  }
  return { t, nan: opts.noPositives === 'nan' };
}

/** S = X Xᵀ over the flattened views, optionally normalised first. */
function selfLogits(p: Prepared, normalize: boolean | undefined): { x: Tensor; g: Tensor } {
  const x = normalize ? l2Normalize(p.x) : p.x;
  return { x, g: matmul(x, x, { transB: true }) };
}

/**
 * Supervised contrastive loss, SupContrast `SupConLoss` (docs/paper-vs-code.md#supcon): for anchor r with
 * positives P(r) (the other rows of its class),
 *   ℓ_r = −(T/T_base) · (1/|P(r)|) Σ_{p∈P(r)} [ s_rp − log Σ_{j≠r} exp(s_rj) ],  s = z·zᵀ / T,
 * averaged over the V·B anchors ('all') or the B view-0 anchors ('one'). Without labels (null) every
 * sample is its own class: SupContrast's SimCLR mode. Defaults T = T_base = 0.07.
 * @param features [B, V, D] f32; labels [B] integers (any values; only equality matters).
 */
export function supCon(features: Tensor, labels: Labels | null, opts: SupConOptions = {}): Tensor {
  const op = labels === null ? 'supCon (SimCLR mode)' : 'supCon';
  const { t, nan } = commonOptions(op, opts, 0.07);
  const base = positive(op, 'baseTemperature', opts.baseTemperature ?? 0.07);
  const mode = opts.contrastMode ?? 'all';
  if (mode !== 'all' && mode !== 'one') throw new Error(`${op}: contrastMode must be 'all' or 'one', got ${String(mode)}`);
  const p = prepareFeatures(op, features, labels === null ? 2 : 1);
  const y = labels === null ? null : checkLabels(op, labels, p.b);
  const x = opts.normalize ? l2Normalize(p.x) : p.x;
  // 'one': only the view-0 rows (every V-th row, sample-major) are anchors, so only they are multiplied.
  const g = matmul(mode === 'one' ? slice(x, 0, 0, undefined, p.v) : x, x, { transB: true });
  const rows = contrastiveRows(g, null, {
    rule: y ? 'labels' : 'pairs', samples: p.b, views: p.v, stride: mode === 'one' ? p.v : 1,
    temperature: t, scale: t / base, classAverage: false, classes: 0, minority: 0, eps: [0, 0],
    nanWhenNoPositive: nan, labels: y ? upload(y) : null, extraLabels: null,
  });
  return finish(rows, opts);
}

/**
 * NT-Xent (SimCLR): the only positive of a view is the other view of its sample (V ≥ 2; with V > 2,
 * every other view), against the V·B − 1 other rows, mean over anchors (SupContrast's SimCLR mode).
 * baseTemperature defaults to T, which gives the SimCLR paper's mean; SupContrast's SimCLR mode is
 * `baseTemperature: 0.07`, and the TF code returns twice the paper's value (docs/paper-vs-code.md SC-2).
 */
export function ntXent(features: Tensor, opts: TemperedOptions = {}): Tensor {
  const t = opts.temperature ?? 0.07;
  return supCon(features, null, { ...opts, temperature: t, baseTemperature: opts.baseTemperature ?? t, contrastMode: 'all' });
}

/**
 * Balanced contrastive loss, BCL `BalSCL` (paper Eq. 9; docs/paper-vs-code.md#bcl). Contrast set = the
 * V·B views plus the K prototypes (class-complement); each column is weighted by 1 / (size of its class),
 * the class size counting the batch's views plus the prototype and minus one for the anchor's own class
 * (class-averaging):
 *   ℓ_r = −(1/|P(r)|) Σ_{p∈P(r)} [ s_rp − log Σ_{j≠r} exp(s_rj) / (cnt[y_j] − [y_j = y_r]) ],
 * P(r) = same-class views and the own prototype; mean over the V·B sample anchors; no T/T_base factor.
 * Default T = 0.1 (BalSCL's default). Variants (one weighted form, different columns and weights):
 *  - 'L1' (Eq. 6): class-averaging without prototypes (cnt counts batch views only); needs numClasses.
 *  - 'L2' (Eq. 7): averaging inside the exponential, no prototypes; needs numClasses. With the mean
 *    logit m_rc = (1/T)·mean of z_r·z_k over the views k ≠ r of class c, the positives' mean logit is
 *    m_{r,y_r}, so ℓ_r = −log softmax_c(m_r)[y_r] over the classes with a view other than the anchor.
 *  - 'L3' (Eq. 8): prototypes only, weight 1: −log softmax_k(z·c_k / T)[y].
 *  - classAveraging: false (with 'bcl'): class-complement only, the prototypes appended to a SupCon
 *    contrast set, every column weight 1 (BCL Table 2's ablation).
 * Gradients flow to features and prototypes. Labels must lie in [0, K); a device label outside gives NaN.
 */
export function bcl(features: Tensor, labels: Labels, prototypes: Tensor | null, opts: BclOptions = {}): Tensor {
  const variant = opts.variant ?? 'bcl';
  const op = variant === 'bcl' ? 'bcl' : `bcl (${variant})`;
  if (!['bcl', 'L1', 'L2', 'L3'].includes(variant)) throw new Error(`bcl: variant must be 'bcl', 'L1', 'L2' or 'L3', got ${String(variant)}`);
  const { t, nan } = commonOptions(op, opts, 0.1);
  const averaging = opts.classAveraging ?? true;
  if (typeof averaging !== 'boolean') throw new Error(`${op}: classAveraging must be a boolean, got ${String(averaging)}`);
  if (!averaging && variant !== 'bcl') throw new Error(`${op}: classAveraging: false applies to variant 'bcl' only (the class-complement ablation)`);
  const p = prepareFeatures(op, features, 1);
  let k: number;
  if (variant === 'L1' || variant === 'L2') {
    if (prototypes) throw new Error(`${op}: Eq. ${variant === 'L1' ? 6 : 7} has no prototypes; pass null (and numClasses)`);
    k = opts.numClasses ?? NaN;
    if (!Number.isInteger(k) || k < 1) throw new Error(`${op}: numClasses must be a positive integer, got ${opts.numClasses}`);
  } else {
    if (!(prototypes instanceof Tensor)) throw new Error(`${op}: expected prototypes [K, ${p.d}] f32, got ${prototypes === null ? 'null' : typeof prototypes}`);
    checkPrototypes(op, prototypes, p.d);
    k = prototypes.shape[0];
    if (opts.prototypeLabels) {
      assertDType(op, opts.prototypeLabels, ['i32'], 'prototypeLabels');
      if (opts.prototypeLabels.rank !== 1 || opts.prototypeLabels.shape[0] !== k) {
        throw new Error(`${op}: expected prototypeLabels [${k}] i32, got ${describe(opts.prototypeLabels)}`);
      }
    }
  }
  const y = checkLabels(op, labels, p.b, [0, k - 1]);
  const x = opts.normalize ? l2Normalize(p.x) : p.x;
  if (variant === 'L2') return finish(classMeanRows(x, upload(y), p, k, t, nan), opts);
  const gs = variant === 'L3' ? null : matmul(x, x, { transB: true });
  let ge: Tensor | null = null;
  let protoLabels: Tensor | null = null;
  if (prototypes) {
    const c = opts.normalize ? l2Normalize(prototypes) : prototypes;
    ge = matmul(x, c, { transB: true });
    protoLabels = opts.prototypeLabels ?? arange(0, k, 1, 'i32');
  }
  const rows = contrastiveRows(gs, ge, {
    rule: 'labels', samples: p.b, views: p.v, stride: 1, temperature: t, scale: 1,
    classAverage: variant !== 'L3' && averaging, classes: k, minority: 0, eps: [0, 0],
    nanWhenNoPositive: nan, labels: upload(y), extraLabels: protoLabels,
  });
  return finish(rows, opts);
}

/**
 * Per-anchor losses [R] of BCL's Eq. 7 from generic ops (everything is [R, K] or [K, D], so no fused
 * kernel is needed and autograd gives the backward). Class sums of the features come from a one-hot
 * matmul; the anchor's own dot product is taken back out of its class, as Eq. 7's "minus one when the
 * positive class is averaged" asks (class sizes count views: docs/paper-vs-code.md BCL-1, BCL-2). A
 * class with no view besides the anchor is left out of the log-sum-exp; an anchor whose own class is such
 * a class has no positives (0 or NaN, as the other losses). A device label outside [0, K) gives NaN.
 */
function classMeanRows(x: Tensor, labels: Tensor, p: Prepared, k: number, t: number, nanEmpty: boolean): Tensor {
  const r = p.b * p.v;
  const perSample = oneHot(labels, k); // [B, K]
  const own = reshape(expand(reshape(perSample, [p.b, 1, k]), [p.b, p.v, k]), [r, k]); // [R, K], sample-major rows
  const classSums = matmul(perSample, sum(reshape(x, [p.b, p.v, p.d]), 1), { transA: true }); // [K, D]
  const others = sub(scale(sum(perSample, 0, true), p.v), own); // [R, K]: views of class c other than row r
  const selfDots = sum(mul(x, x), 1, true); // [R, 1]
  const dots = sub(matmul(x, classSums, { transB: true }), mul(own, selfDots));
  const present = gt(others, full([], 0));
  const means = scale(div(dots, maximum(others, full([], 1))), 1 / t);
  // Absent classes drop out of the log-sum-exp: exp(−1e30 − max) is exactly 0 while a class is present.
  const lse = logsumexp(where(present, means, full([], -1e30)), 1);
  const rows = sub(lse, sum(mul(own, means), 1));
  const hasPositives = sum(mul(own, present), 1);
  const validLabel = sum(own, 1);
  return where(validLabel, where(hasPositives, rows, full([], nanEmpty ? NaN : 0)), full([], NaN));
}

/**
 * Supervised Minority, TTC `SupConLoss` with ratio_supervised_majority = 0: a minority anchor's
 * positives are all other minority views; a majority anchor's only positives are its own other views
 * (NT-Xent). The denominator covers all other rows of both classes; −(T/T_base)·mean, mean over the V·B
 * anchors: one loss where the paper sums two (docs/paper-vs-code.md TC-1). Defaults T = T_base = 0.07,
 * minorityClass 1.
 */
export function supMin(features: Tensor, labels: Labels, opts: SupMinOptions = {}): Tensor {
  const op = 'supMin';
  const { t, nan } = commonOptions(op, opts, 0.07);
  const base = positive(op, 'baseTemperature', opts.baseTemperature ?? 0.07);
  const minority = opts.minorityClass ?? 1;
  if (!Number.isInteger(minority)) throw new Error(`${op}: minorityClass must be an integer, got ${minority}`);
  const p = prepareFeatures(op, features, 1);
  const y = checkLabels(op, labels, p.b);
  const { g } = selfLogits(p, opts.normalize);
  const rows = contrastiveRows(g, null, {
    rule: 'minority' satisfies PositiveRule, samples: p.b, views: p.v, stride: 1, temperature: t, scale: t / base,
    classAverage: false, classes: 0, minority, eps: [0, 0], nanWhenNoPositive: nan, labels: upload(y), extraLabels: null,
  });
  return finish(rows, opts);
}

/**
 * Supervised Prototypes, TTC `ConSupPrototypeLoss` (docs/paper-vs-code.md#two-classes): NT-Xent over the
 * V·B views (prototypes are not in the denominator) plus, for an anchor of class c that is "pulled" —
 * cos(z, p_c) ≤ cos(z, p_{1−c}) + eps_c on un-tempered cosines, no gradient through the test — the
 * prototype logit z·p_c/T joins the positives, which are then averaged (the code averages, the paper
 * sums: TC-3). ×T/T_base, mean over the V·B anchors. Prototypes [2, D] are constants (detached): the
 * released random pair from `antipodalPrototypes`, or the paper's fitted one from `fitPrototypes` (TC-5).
 * Labels must be 0 or 1. Defaults T = T_base = 0.07, eps = [1, 1].
 */
export function supProto(features: Tensor, labels: Labels, prototypes: Tensor, opts: SupProtoOptions = {}): Tensor {
  const op = 'supProto';
  const { t, nan } = commonOptions(op, opts, 0.07);
  const base = positive(op, 'baseTemperature', opts.baseTemperature ?? 0.07);
  const eps = opts.eps ?? [1, 1];
  if (eps.length !== 2 || !eps.every(Number.isFinite)) throw new Error(`${op}: eps must be two finite numbers, got [${eps.join(', ')}]`);
  const p = prepareFeatures(op, features, 2);
  checkPrototypes(op, prototypes, p.d, 2);
  const y = checkLabels(op, labels, p.b, [0, 1]);
  const { x, g } = selfLogits(p, opts.normalize);
  const c = opts.normalize ? l2Normalize(prototypes.detach()) : prototypes.detach();
  const ge = matmul(x, c, { transB: true });
  const rows = contrastiveRows(g, ge, {
    rule: 'proto', samples: p.b, views: p.v, stride: 1, temperature: t, scale: t / base, classAverage: false,
    classes: 2, minority: 0, eps, nanWhenNoPositive: nan, labels: upload(y), extraLabels: arange(0, 2, 1, 'i32'),
  });
  return finish(rows, opts);
}
