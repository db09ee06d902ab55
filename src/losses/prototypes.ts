// The two fixed prototypes [p_0, p_1] of Supervised Prototypes (src/losses/contrastive.ts `supProto`):
// row c belongs to class c. The paper and the released code place them differently
// (docs/paper-vs-code.md TC-5):
//  - released code (TTC `simulate_prototypes=True`): p = normalize(randn(D)), prototypes [p, −p];
//  - paper (Two Classes §4.3): p_maj on the unit sphere minimising the average distance to the
//    unaugmented training embeddings (by default here, the majority class's), found by gradient descent,
//    and p_min = −p_maj.
// The code's unused `find_n_prototypes` minimises Σ cos instead (the farthest direction) and ignores
// min_class; it is not reproduced.
import { noGrad } from '../autograd.js';
import { checkSeed } from '../data/random.js';
import { full, randn, tensor, zeros, zerosLike } from '../ops/creation.js';
import { affine, assign, div, eq, maximum, mul, neg, sqrt, toFloat } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import { l2Normalize } from '../ops/rowwise.js';
import { sgdStep } from '../ops/sgd.js';
import { concat, reshape } from '../ops/shape.js';
import { assertDType, describe } from '../ops/validate.js';
import { scope, Tensor } from '../tensor.js';
import type { Labels } from './contrastive.js';

function checkDim(op: string, dim: number): void {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${op}: dim must be a positive integer, got ${dim}`);
}

/** [p, −p] with p a unit row [1, D], or [−p, p] when class 1 owns p. */
function antipodal(p: Tensor, owner: number): Tensor {
  return owner === 0 ? concat([p, neg(p)], 0) : concat([neg(p), p], 0);
}

/**
 * The released SupProto placement (TTC's code): p = normalize(randn(D)) drawn on the device from `seed`
 * (the same seed gives the same prototypes on every device), returned as [p, −p] [2, D].
 */
export function antipodalPrototypes(dim: number, seed: number): Tensor {
  checkDim('antipodalPrototypes', dim);
  checkSeed(seed, 'antipodalPrototypes');
  return scope(() => antipodal(l2Normalize(randn([1, dim], 0, 1, { seed })), 0));
}

export interface FitPrototypesOptions {
  /** The majority label (0 or 1). Default: the more frequent one in `labels`; required for device labels. */
  majorityClass?: number;
  /**
   * 'cosine' (default): mean of 1 − cos(z, p), whose optimum is normalize(Σ normalize(z)); for the model's
   * unit embeddings it is half the mean squared Euclidean distance, so both readings agree.
   * 'euclidean': the plain mean of ‖normalize(z) − p‖ (a spherical median; no closed form).
   */
  distance?: 'cosine' | 'euclidean';
  /**
   * Which embeddings p_maj is fitted to: 'majority' (default, as the p_maj name suggests) or 'all', the
   * literal reading of the paper's "all encodings of unaugmented training samples" (at 95/5 the two
   * differ little).
   */
  fitTo?: 'majority' | 'all';
  /** Projected gradient-descent steps (default 500) and SGD learning rate (default 0.5). */
  steps?: number;
  lr?: number;
  /** Seed of the starting point, a random unit vector as in {@link antipodalPrototypes}; default 0. */
  seed?: number;
}

/**
 * The paper's SupProto placement (Two Classes §4.3; docs/paper-vs-code.md TC-5): p_maj minimises the mean
 * distance (see `distance`) from p on the unit sphere to the majority rows (see `fitTo`) of `embeddings`
 * [N, D] (pass the unaugmented training embeddings; rows are normalised first), by plain SGD on the
 * engine's autograd with p renormalised after each step (as TTC's `find_n_prototypes` does);
 * p_min = −p_maj. Returns [2, D], row c for class c. Labels [N] are 0/1. Nothing is read back; device
 * labels without a majority row give NaN. Each step contracts the angle to the optimum by about
 * 1 − lr·‖mean direction‖, so widely spread majority embeddings need more steps.
 */
export function fitPrototypes(embeddings: Tensor, labels: Labels, opts: FitPrototypesOptions = {}): Tensor {
  const op = 'fitPrototypes';
  assertDType(op, embeddings, ['f32'], 'embeddings');
  if (embeddings.rank !== 2 || embeddings.shape.some((n) => n === 0)) {
    throw new Error(`${op}: expected embeddings [N, D] with N, D ≥ 1, got ${describe(embeddings)}`);
  }
  const [n, d] = embeddings.shape;
  const { distance = 'cosine', fitTo = 'majority', steps = 500, lr = 0.5, seed = 0 } = opts;
  if (distance !== 'cosine' && distance !== 'euclidean') throw new Error(`${op}: distance must be 'cosine' or 'euclidean', got ${String(distance)}`);
  if (fitTo !== 'majority' && fitTo !== 'all') throw new Error(`${op}: fitTo must be 'majority' or 'all', got ${String(fitTo)}`);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`${op}: steps must be a positive integer, got ${steps}`);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`${op}: lr must be a positive finite number, got ${lr}`);
  checkSeed(seed, op);
  const majority = majorityOf(op, labels, n, opts.majorityClass);

  // w [N, 1]: 1 / #fitted rows on the fitted rows, 0 elsewhere, so that Σ w·dist is their mean.
  const [z, w] = scope(() => {
    const y = labels instanceof Tensor ? labels : tensor(Int32Array.from(labels), [n], 'i32');
    const mask = fitTo === 'all' ? full([n, 1], 1) : reshape(eq(toFloat(y), full([], majority)), [n, 1]);
    return [l2Normalize(embeddings).detach(), div(mask, sum(mask))];
  });
  z.keep();
  w.keep();
  const p = scope(() => l2Normalize(randn([1, d], 0, 1, { seed }))).keep().requireGrad();
  // Plain SGD (momentum 0): the buffer, zeros, is bound but leaves the step equal to the gradient.
  const hyper = { lr, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false };
  const buffer = zerosLike(p).keep();
  // The update's finiteness flag: unread here (a non-finite fit shows in the prototypes themselves).
  const flag = { status: zeros([1], 'u32').keep(), slot: 0 };
  try {
    for (let s = 0; s < steps; s++) {
      scope(() => {
        const cos = matmul(z, l2Normalize(p), { transB: true });
        // ‖z − p‖ = sqrt(2 − 2 cos) for unit rows; the floor keeps the gradient finite when p = z.
        const dist = distance === 'cosine' ? affine(cos, -1, 1) : sqrt(maximum(affine(cos, -2, 2), full([], 1e-12)));
        sum(mul(w, dist)).backward();
        sgdStep(p, p.grad!, buffer, hyper, flag);
        p.grad!.dispose();
        p.grad = null;
        noGrad(() => assign(p, l2Normalize(p)));
      });
    }
    return scope(() => noGrad(() => antipodal(p.detach(), majority)));
  } finally {
    for (const t of [p, z, w, buffer, flag.status]) t.dispose();
  }
}

function majorityOf(op: string, labels: Labels, n: number, given: number | undefined): number {
  if (given !== undefined && given !== 0 && given !== 1) throw new Error(`${op}: majorityClass must be 0 or 1, got ${given}`);
  if (labels instanceof Tensor) {
    assertDType(op, labels, ['i32'], 'labels');
    if (labels.rank !== 1 || labels.shape[0] !== n) throw new Error(`${op}: expected labels [${n}] (one per embedding) i32, got ${describe(labels)}`);
    if (given === undefined) throw new Error(`${op}: pass majorityClass with device labels (counting them would read them back)`);
    return given;
  }
  const values = Array.from(labels);
  if (values.length !== n) throw new Error(`${op}: expected ${n} labels (one per embedding), got ${values.length}`);
  const bad = values.findIndex((y) => y !== 0 && y !== 1);
  if (bad >= 0) throw new Error(`${op}: label ${bad} is ${values[bad]}, expected 0 or 1`);
  const ones = values.filter((y) => y === 1).length;
  const majority = given ?? (ones > n - ones ? 1 : 0);
  if (given === undefined && 2 * ones === n) throw new Error(`${op}: the two classes are equally frequent; pass majorityClass`);
  if ((majority === 1 ? ones : n - ones) === 0) throw new Error(`${op}: no embedding has the majority label ${majority}`);
  return majority;
}
