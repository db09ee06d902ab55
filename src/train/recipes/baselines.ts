// Supervised baselines: cross-entropy on pad-crop-flip batches, with an optional prior shift of the
// logits (logit-adjusted CE, Menon et al.; balanced softmax is the shift with τ = 1).
import { cropFlipPlan, makeBatch } from '../../data/augment.js';
import { logitAdjustedCrossEntropy, logitAdjustment } from '../../nn/losses.js';
import { crossEntropy } from '../../ops/rowwise.js';
import { evaluateOwn, priorShift } from './shared.js';
import type { RecipeFamily } from './types.js';

export const baselines: RecipeFamily = {
  recipes: {
    ce: 'cross-entropy',
    'ce-la': 'logit-adjusted cross-entropy (prior shift --tau)',
    'balanced-softmax': 'balanced softmax (the prior shift with τ = 1)',
  },
  options: [
    priorShift(['ce-la']),
    { flag: 'pad', key: 'pad', type: 'integer', min: 0, arg: 'P', default: 2, help: 'pad-and-random-crop by P pixels (0: no crop)' },
    { flag: 'no-flip', key: 'noFlip', type: 'boolean', default: false, help: 'no random horizontal flips' },
  ],
  build(ctx) {
    const { model, trainImages, trainCounts, norm, recipe, options } = ctx;
    const pad = options.pad as number;
    const adjustment = recipe === 'ce' ? null : logitAdjustment(trainCounts, recipe === 'balanced-softmax' ? 1 : (options.tau as number));
    return {
      parts: [['', model]],
      named: model.namedParameters(),
      evalLabel: 'eval',
      evaluate: evaluateOwn(ctx),
      loss: ({ indices, labels, random }) => {
        const logits = model.forward(makeBatch(trainImages, cropFlipPlan(indices, { pad, flip: !options.noFlip }, random), pad, norm));
        return adjustment ? logitAdjustedCrossEntropy(logits, labels, adjustment) : crossEntropy(logits, labels);
      },
      dispose: () => adjustment?.dispose(),
    };
  },
};
