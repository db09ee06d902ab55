// Reb-SupCon (Lv et al. 2025) on PaCo's two-branch MoCo layout: a query encoder + projection head
// trained by a rebalanced SupCon over (queries, keys, a labelled key queue), SwAV-style prototypes with
// Sinkhorn codes, and a jointly trained logit-compensated classifier or a linear probe. --reb-ablation
// gives the rows of the paper's Table 6.
import { gradHook, noGrad } from '../../autograd.js';
import { Rebalancer, rebSupCon } from '../../losses/rebalance.js';
import { perSampleGradNorms } from '../../ops/grad-norms.js';
import { prototypeLoss, renormalizePrototypes } from '../../losses/swav.js';
import { Linear } from '../../nn/linear.js';
import { logitAdjustedCrossEntropy, logitAdjustment } from '../../nn/losses.js';
import { copyParameters, KeyQueue, momentumUpdate } from '../../nn/moco.js';
import type { Module } from '../../nn/module.js';
import { tensor } from '../../ops/creation.js';
import { add, assign, div, scale } from '../../ops/elementwise.js';
import { l2Normalize } from '../../ops/rowwise.js';
import { slice } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { UsageError } from '../options.js';
import { evaluateOwn, evaluateProbe, FEAT_DIM, headFor, priorShift, PROBE_OPTIONS, projectionHead, RAND_AUGMENT, SIM_AUGMENT, stepViews, temperature } from './shared.js';
import type { Recipe, RecipeContext, RecipeFamily } from './types.js';

/**
 * Table 6 ablations: 'queue' = SupCon on the MoCo queue alone (ω ≡ 1, no prototype module), 'rebalance'
 * = + the rebalancing factor ω, 'prototypes' = + the prototype module (ω ≡ 1), 'full' = both (the method).
 */
export const REB_ABLATIONS = ['queue', 'rebalance', 'prototypes', 'full'] as const;
export type RebAblation = (typeof REB_ABLATIONS)[number];
/** ω's reading: 'paper' = the paper's formula 1 / (1 + α ∇ ω_f); 'inverse' = 1 + α ∇ ω_f (its prose's intent). */
export const REB_WEIGHTINGS = ['paper', 'inverse'] as const;
/** The classifier: 'joint' = a linear classifier trained with the encoder; 'probe' = linear probing. */
export const REB_CLASSIFIERS = ['joint', 'probe'] as const;

/** The settings recipe rebsupcon reads (its option keys). */
export interface RebSupConSettings {
  rebAblation: RebAblation;
  rebWeighting: (typeof REB_WEIGHTINGS)[number];
  rebClassifier: (typeof REB_CLASSIFIERS)[number];
  /** λ_ce of the joint classifier's logit-compensated CE (L = L_reb + L_proto + λ_ce L_LC). */
  rebCeWeight: number;
  /** Q, rows of the labelled key queue (≥ the batch size; need not be a multiple of it). */
  queueSize: number;
  /** K, trainable prototypes of the prototype module. */
  numPrototypes: number;
  /** m of the key encoder's EMA θ_k ← m θ_k + (1 − m) θ_q. */
  mocoMomentum: number;
  temperature: number;
  featDim: number;
  tau: number;
}

const isRebalanced = (a: RebAblation) => a === 'rebalance' || a === 'full';
const hasPrototypes = (a: RebAblation) => a === 'prototypes' || a === 'full';

/*
 * Defaults. 'joint': PaCo, whose recipe Reb-SupCon follows, trains its classifier in the same run, and
 * here it sees the whole long-tailed training set (logit-compensated) rather than the probe's 1 %;
 * λ_ce = 1 as PaCo weighs its classifier term. Q = 4096: 32 batches of 128, 28 % of Fashion-MNIST-LT's
 * 14 886 images (a larger share would hold keys from too many steps ago). K = 30: three prototypes per
 * class for 10 classes, the ratio of the paper's K = 3000 on ImageNet-LT's 1000 classes, and few enough
 * that a batch of 128 still spreads over every prototype (Sinkhorn's equipartition gives each ≈ B/K ≈ 4
 * samples). m = 0.999 (MoCo). τ = 0.2, the paper's (its 0.05 on CIFAR-100-LT only copies a baseline's
 * setting for comparability).
 */
export const rebsupconFamily: RecipeFamily = {
  recipes: {
    rebsupcon: 'Reb-SupCon: MoCo query/key encoders + heads with a labelled key queue, rebalanced SupCon + SwAV-style prototypes',
  },
  options: [
    temperature({ rebsupcon: 0.2 }),
    FEAT_DIM,
    projectionHead({ rebsupcon: 'mlp' }),
    priorShift(),
    {
      flag: 'reb-ablation', key: 'rebAblation', type: 'choice', choices: REB_ABLATIONS, default: 'full',
      help: 'Table 6: queue = SupCon on the MoCo queue alone (ω = 1, no prototypes); rebalance = + the rebalancing factor ω; prototypes = + the prototype module; full = both',
    },
    {
      flag: 'reb-weighting', key: 'rebWeighting', type: 'choice', choices: REB_WEIGHTINGS, default: 'paper',
      help: "ω = 1 / (1 + α ∇ ω_f) as the paper's formula (it lowers the weight of hard and rare classes), or its inverse 1 + α ∇ ω_f (the prose's intent)",
    },
    {
      flag: 'reb-classifier', key: 'rebClassifier', type: 'choice', choices: REB_CLASSIFIERS, default: 'joint',
      help: 'joint = a linear classifier on the query features trained with logit-compensated CE (--tau, --reb-ce-weight); probe = the linear probe',
    },
    { flag: 'reb-ce-weight', key: 'rebCeWeight', type: 'number', min: 0, arg: 'W', default: 1, help: "weight λ_ce of the joint classifier's CE" },
    { flag: 'queue-size', key: 'queueSize', type: 'integer', min: 1, arg: 'Q', default: 4096, help: 'rows of the labelled key queue (≥ the batch size; any multiple or not: it wraps around)' },
    { flag: 'prototypes', key: 'numPrototypes', type: 'integer', min: 1, arg: 'K', default: 30, help: 'trainable prototypes of the prototype module' },
    { flag: 'moco-momentum', key: 'mocoMomentum', type: 'number', min: 0, max: 1, arg: 'M', default: 0.999, help: "the key encoder's EMA (1 / (1 - M) steps of memory)" },
    ...PROBE_OPTIONS,
  ],
  check(_recipe, options, common) {
    const reb = options as unknown as RebSupConSettings;
    if (reb.queueSize < common.batchSize) {
      throw new UsageError(`--queue-size ${reb.queueSize} must be ≥ the batch size ${common.batchSize} (each step enqueues B keys; Q need not be a multiple of B, the queue wraps around)`);
    }
    if (!isRebalanced(reb.rebAblation) && reb.rebWeighting !== 'paper') {
      throw new UsageError(`--reb-weighting ${reb.rebWeighting} needs the rebalancing factor (--reb-ablation rebalance or full), got --reb-ablation ${reb.rebAblation}`);
    }
    if (!hasPrototypes(reb.rebAblation) && reb.numPrototypes !== 30) {
      throw new UsageError(`--prototypes needs the prototype module (--reb-ablation prototypes or full), got --reb-ablation ${reb.rebAblation}`);
    }
  },
  build,
};

/**
 * Recipe rebsupcon (README "Reb-SupCon recipe"). Per step, on the view pair [RandAugment query;
 * SimAugment key] of the batch:
 *   1. the query branch: backbone features → projection head → zq (unit rows);
 *   2. the key branch (MoCo): θ_k ← m θ_k + (1 − m) θ_q for the key encoder and key head, then the keys
 *      zk = keyHead(keyEncoder(key view)) without gradient (unit rows);
 *   3. L = L_reb(zq, zk, queue snapshot; ω(y) detached) [+ L_proto(zq, zk, C)] [+ λ_ce L_LC(fc(features))];
 *   4. after backward and the optimizer step: enqueue (zk, y), renormalise C.
 * ω (full / rebalance ablations) comes from the Rebalancer's per-class EMA of previous steps: this step's
 * gradient norms are folded in during its backward, after ω was read.
 */
function build(ctx: RecipeContext): Recipe {
  const { model, trainCounts } = ctx;
  const reb = ctx.options as unknown as RebSupConSettings;
  const views = stepViews(ctx);
  const b = ctx.batchSize;
  const t = reb.temperature;
  const featDim = reb.featDim;
  const m = reb.mocoMomentum;
  const joint = reb.rebClassifier === 'joint';
  const head = headFor(ctx, featDim);
  // The key branch: the same architectures, θ_k = θ_q at the start (MoCo's copy), then only the EMA moves
  // them, so they are checkpointed (`parts`) but not trained (`named`: SGD never sees them). The key
  // encoder is a whole model, as PaCo's encoder_k; its fc is averaged but unused. Batch-norm running
  // statistics are not averaged (MoCo averages parameters only): the key encoder's come from its own
  // forward passes in training mode, and are checkpointed with it.
  const keyModel = ctx.makeModel().train();
  const keyHead = headFor(ctx, featDim);
  copyParameters(keyModel, model);
  copyParameters(keyHead, head);
  // PaCo's start: random keys and labels, flushed after ⌈Q/B⌉ steps. The write pointer lives on the host
  // (a uniform of the enqueue kernel) and is mirrored in `ptr` for the checkpoint.
  const queue = new KeyQueue(reb.queueSize, featDim, trainCounts.length, { seed: ctx.seed });
  const ptr = tensor([0], [1], 'i32').keep();
  const rebalancer = isRebalanced(reb.rebAblation) ? new Rebalancer(trainCounts, { reading: reb.rebWeighting === 'paper' ? 'formula' : 'inverse' }) : null;
  // C [K, D]: SwAV's prototypes, the weight of a bias-free Linear(D, K), unit rows from the start.
  const prototypes = hasPrototypes(reb.rebAblation) ? new Linear(featDim, reb.numPrototypes, { bias: false }) : null;
  if (prototypes) renormalizePrototypes(prototypes.weight);
  // The joint classifier: logit-compensated CE (BCL's L_LC, prior shift tau) on the query view's
  // features; its gradient reaches the backbone too, as PaCo's classifier term.
  const adjustment = joint ? logitAdjustment(trainCounts, reb.tau) : null;
  const trained: [string, Module][] = prototypes ? [['head', head], ['prototypes', prototypes]] : [['head', head]];
  // This step's keys, from loss() to afterStep(): the backward reads the queue snapshot, so the enqueue follows it.
  let keys: Tensor | null = null;
  const state: [string, Tensor][] = [['queue.keys', queue.keys], ['queue.labels', queue.labels], ['queue.ptr', ptr]];
  if (rebalancer) state.push(['rebalancer.grad_norms', rebalancer.gradNorms], ['rebalancer.seen', rebalancer.seen]);
  return {
    head,
    parts: [['', model], ...trained.map(([n, mod]): [string, Module] => [`${n}.`, mod]), ['key.', keyModel], ['key_head.', keyHead]],
    // The probe replaces the classifier, which is then not trained.
    named: [...model.namedParameters().filter(([n]) => joint || !n.startsWith('fc.')), ...trained.flatMap(([n, mod]) => mod.namedParameters(`${n}.`))],
    evalLabel: joint ? 'eval' : 'probe',
    state,
    resumed: async () => {
      const p = await ptr.item();
      if (!(Number.isInteger(p) && p >= 0 && p < queue.size)) throw new Error(`train: the checkpoint's queue pointer ${p} is outside the queue of ${queue.size}`);
      queue.ptr = p;
    },
    loss: (input) => {
      const x = views(input, [RAND_AUGMENT, SIM_AUGMENT]);
      const feat = model.features(slice(x, 0, 0, b));
      const { hidden, output } = head.split(feat);
      // ω(y_i) from the EMA of the previous steps (read before this step's backward updates it), detached.
      const weights = rebalancer?.anchorWeights(input.labels);
      // ∇: L_i is the rebalanced contrastive loss of anchor i, θ the head's last linear layer
      // y = h Wᵀ + b (this project's choice). The hook sits on the path into L_reb only (L_proto sees y
      // directly) and receives δ = ∂L_reb/∂y during this backward. The batch gradient is Σ_i δ_i [h_i; 1]ᵀ;
      // sample i's term has norm ‖δ_i‖·sqrt(‖h_i‖² + 1), the gradient w.r.t. the copy of (W, b) that sample
      // i's forward uses (the queries are also contrast columns of the other anchors, so this is sample
      // i's share of the batch gradient). × B: L_reb is a mean over the B anchors. ÷ ω(y_i): ∇ measures the
      // class's difficulty, so it is taken before the weighting; this removes ω from the sample's own anchor
      // term (the small share through other anchors' columns keeps their ω). With ω left in, ∇ would feed
      // back into ω: stable for the paper's formula, a runaway for the inverse reading (ω grows with ∇; on
      // the tiny test its loss rose 32 → 44 in two epochs).
      const zq = l2Normalize(output);
      const zqReb = rebalancer && weights
        ? l2Normalize(gradHook(output, (delta) => {
          rebalancer.update(div(scale(perSampleGradNorms(delta, hidden, { bias: true }), b), weights), input.labels);
        }))
        : zq;
      // MoCo: the EMA first, then the keys, without gradient (unit rows from the key head).
      const zk = noGrad(() => {
        momentumUpdate(keyModel, model, m);
        momentumUpdate(keyHead, head, m);
        return keyHead.forward(keyModel.features(slice(x, 0, b, 2 * b)));
      });
      keys = zk;
      let loss = rebSupCon(zqReb, zk, input.labels, queue, { temperature: t, weights, normalize: false });
      if (prototypes) loss = add(loss, prototypeLoss(zq, zk, prototypes.weight, { temperature: t, normalize: false }).loss);
      if (adjustment) loss = add(loss, scale(logitAdjustedCrossEntropy(model.fc.forward(feat), input.labels, adjustment), reb.rebCeWeight));
      return loss;
    },
    afterStep: (input) => {
      if (!keys) throw new Error('train: rebsupcon afterStep() without a loss() before it');
      queue.enqueue(keys, input.labels);
      // Recorded as a copy from a fresh upload, not ptr.write(): a write into a buffer the step's recorded
      // work may use would submit that work first, splitting every step's command buffer in two.
      assign(ptr, tensor([queue.ptr], [1], 'i32'));
      keys = null;
      // SwAV keeps C unit-norm outside the graph: renormalised after every optimizer step.
      if (prototypes) renormalizePrototypes(prototypes.weight);
    },
    evaluate: joint ? evaluateOwn(ctx) : evaluateProbe(ctx),
    dispose: () => {
      for (const mod of [head, keyModel, keyHead, prototypes]) mod?.dispose();
      for (const tn of [ptr, adjustment]) tn?.dispose();
      queue.dispose();
      rebalancer?.dispose();
    },
  };
}
