// BCL's two-branch framework (Zhu et al. 2022) and its plain-SupCon counterpart: one backbone; λ ×
// logit-compensated CE on a RandAugment view v1, μ × a contrastive loss on two SimAugment views v2, v3
// through a Linear-BN-ReLU-Linear head. For bcl the class prototypes are a second such head (head_fc)
// applied to the classifier's weight rows; --bcl-ablation gives the rows of BCL's Table 2.
import { bcl as bclLoss, supCon } from '../../losses/contrastive.js';
import { classWeightRows } from '../../nn/heads.js';
import { logitAdjustedCrossEntropy, logitAdjustment } from '../../nn/losses.js';
import type { Module } from '../../nn/module.js';
import { add, scale } from '../../ops/elementwise.js';
import { slice } from '../../ops/shape.js';
import { byViews, evaluateOwn, FEAT_DIM, headFor, priorShift, projectionHead, RAND_AUGMENT, SIM_AUGMENT, stepViews, temperature } from './shared.js';
import type { RecipeFamily } from './types.js';

/**
 * BCL's Table 2 ablations of recipe bcl: 'full' (Eq. 9: class-complement + class-averaging),
 * 'complement' (prototypes in the contrast set, every column weight 1: `bcl(..., { classAveraging: false })`)
 * and 'averaging' (class-averaging over the batch views, no prototypes and no head_fc: Eq. 6, variant 'L1').
 */
export const BCL_ABLATIONS = ['full', 'complement', 'averaging'] as const;
export type BclAblation = (typeof BCL_ABLATIONS)[number];

export const bclFamily: RecipeFamily = {
  recipes: {
    bcl: "BCL's two-branch training: λ logit-compensated CE on a RandAugment view + μ BCL loss on two SimAugment views; prototypes = head_fc(classifier weights)",
    'supcon-lc': 'the same two branches with plain SupCon instead of the BCL loss',
  },
  options: [
    priorShift(),
    { flag: 'lambda', key: 'lambda', type: 'number', min: 0, arg: 'L', default: 2, help: 'weight λ of the logit-compensated CE branch' },
    { flag: 'mu', key: 'mu', type: 'number', min: 0, arg: 'M', default: 0.6, help: 'weight μ of the contrastive branch' },
    temperature({ bcl: 0.1, 'supcon-lc': 0.1 }),
    FEAT_DIM,
    projectionHead({ bcl: 'mlp-bn', 'supcon-lc': 'mlp-bn' }),
    {
      flag: 'bcl-ablation', key: 'bclAblation', type: 'choice', choices: BCL_ABLATIONS, default: 'full', recipes: ['bcl'],
      help: "BCL's Table 2: full = class-complement + class-averaging; complement = prototypes, no class-averaging; averaging = class-averaging, no prototypes (no head_fc)",
    },
  ],
  build(ctx) {
    const { model, trainCounts, recipe, options } = ctx;
    const ablation = options.bclAblation as BclAblation;
    const t = options.temperature as number;
    const featDim = options.featDim as number;
    const views = stepViews(ctx);
    const adjustment = logitAdjustment(trainCounts, options.tau as number);
    const head = headFor(ctx, featDim);
    // BCL's head_fc: same structure as the head, its own weights; SupCon and the class-averaging-only
    // ablation have no prototypes.
    const protoHead = recipe === 'bcl' && ablation !== 'averaging' ? headFor(ctx, featDim) : null;
    const heads: [string, Module][] = protoHead ? [['head', head], ['head_fc', protoHead]] : [['head', head]];
    return {
      head,
      parts: [['', model], ...heads.map(([n, m]): [string, Module] => [`${n}.`, m])],
      named: [...model.namedParameters(), ...heads.flatMap(([n, m]) => m.namedParameters(`${n}.`))],
      evalLabel: 'eval',
      evaluate: evaluateOwn(ctx),
      loss: (input) => {
        const b = input.indices.length;
        // [v1; v2; v3] as one batch: the backbone's and the head's batch norms see all 3B rows, as BCL's code.
        const feat = model.features(views(input, [RAND_AUGMENT, SIM_AUGMENT, SIM_AUGMENT]));
        const logits = model.fc.forward(slice(feat, 0, 0, b));
        const pair = byViews(slice(head.forward(feat), 0, b), 2);
        const contrastive = protoHead
          ? bclLoss(pair, input.labels, protoHead.forward(classWeightRows(model.fc)), { temperature: t, classAveraging: ablation === 'full' })
          : recipe === 'bcl'
            ? bclLoss(pair, input.labels, null, { temperature: t, variant: 'L1', numClasses: trainCounts.length })
            : // T_base = T: mu weighs the plain SupCon mean, as it weighs BCL's (which has no T/T_base factor).
            supCon(pair, input.labels, { temperature: t, baseTemperature: t });
        return add(scale(logitAdjustedCrossEntropy(logits, input.labels, adjustment), options.lambda as number), scale(contrastive, options.mu as number));
      },
      dispose: () => {
        adjustment.dispose();
        for (const [, m] of heads) m.dispose();
      },
    };
  },
};
