// Contrastive pre-training of encoder + projection head on two SimAugment views, evaluated by a linear
// probe on a balanced 1 % of the training set (the Two Classes protocol): SupCon, SimCLR (NT-Xent), and
// on two-class tasks SupMin and SupProto.
import { ntXent, supCon, supMin, supProto } from '../../losses/contrastive.js';
import { antipodalPrototypes, fitPrototypes } from '../../losses/prototypes.js';
import { noGrad } from '../../autograd.js';
import { assign } from '../../ops/elementwise.js';
import { scope, type Tensor } from '../../tensor.js';
import { cleanBatches } from '../evaluate.js';
import { UsageError } from '../options.js';
import { byViews, evaluateProbe, FEAT_DIM, headFor, PROBE_OPTIONS, projectionHead, SIM_AUGMENT, stepViews, temperature } from './shared.js';
import type { RecipeFamily } from './types.js';

/**
 * Where supproto's two fixed prototypes come from: 'antipodal' = the released code's random pair [p, −p]
 * drawn from the seed; 'fitted' = the paper's placement, p_maj fitted to the unaugmented training
 * embeddings of the initial encoder ({@link fitPrototypes}), p_min = −p_maj.
 */
export const PROTO_PLACEMENTS = ['antipodal', 'fitted'] as const;

const BINARY_ONLY = ['supmin', 'supproto'];

export const pretrain: RecipeFamily = {
  recipes: {
    supcon: 'supervised contrastive pre-training (SupCon), evaluated by a linear probe',
    simclr: 'self-supervised contrastive pre-training (NT-Xent), evaluated by a linear probe',
    supmin: 'SupMin of the Two Classes paper (needs --binary): SupCon on the minority, NT-Xent on the majority',
    supproto: 'SupProto of the Two Classes paper (needs --binary): NT-Xent + a pull towards fixed class prototypes',
  },
  options: [
    temperature({ supcon: 0.07, simclr: 0.07, supmin: 0.07, supproto: 0.07 }),
    FEAT_DIM,
    projectionHead({ supcon: 'mlp', simclr: 'mlp', supmin: 'mlp', supproto: 'mlp' }),
    ...PROBE_OPTIONS,
    { flag: 'eps', key: 'eps', type: 'numbers', length: 2, min: 0, arg: 'E0,E1', default: [1, 1], recipes: ['supproto'], help: "supproto's pull margins" },
    {
      flag: 'proto-placement', key: 'protoPlacement', type: 'choice', choices: PROTO_PLACEMENTS, default: 'antipodal', recipes: ['supproto'],
      help: "supproto's prototypes: the released code's random pair [p, -p], or the paper's p_maj fitted to the clean training embeddings of the initial encoder, p_min = -p_maj",
    },
  ],
  check(recipe, _options, common) {
    if (BINARY_ONLY.includes(recipe) && !common.binary) throw new UsageError(`--recipe ${recipe} needs a two-class task: give --binary A,B`);
  },
  build(ctx) {
    const { model, trainImages, trainLabels, trainCounts, norm, recipe, options } = ctx;
    const featDim = options.featDim as number;
    const views = stepViews(ctx);
    const head = headFor(ctx, featDim);
    // SupProto's released placement [p, -p] drawn from the seed; the fitted placement overwrites it in
    // init(). Either is checkpointed as state.
    const prototypes: Tensor | null = recipe === 'supproto' ? antipodalPrototypes(featDim, ctx.seed).keep() : null;
    const fitted = prototypes && options.protoPlacement === 'fitted';
    const t = { temperature: options.temperature as number };
    return {
      head,
      parts: [['', model], ['head.', head]],
      // The classifier is not trained here: the probe replaces it.
      named: [...model.namedParameters().filter(([n]) => !n.startsWith('fc.')), ...head.namedParameters('head.')],
      evalLabel: 'probe',
      ...(prototypes ? { state: [['prototypes', prototypes]] as [string, Tensor][] } : {}),
      ...(fitted ? {
        // The paper fits p_maj once, before training, to the clean embeddings z = head(f(x)) of the
        // training set (evaluation mode, so fitting leaves the batch-norm statistics untouched).
        init: async () => {
          const z = cleanBatches([model, head], trainImages, null, ctx.batchSize, norm, (x) => head.forward(model.features(x)));
          try {
            scope(() => {
              // The binary protocol's label 0 is the majority; a capped, balanced subset keeps that convention.
              const majorityClass = trainCounts[1] > trainCounts[0] ? 1 : 0;
              const fit = fitPrototypes(z, trainLabels, { seed: ctx.seed, majorityClass });
              noGrad(() => assign(prototypes!, fit));
            });
          } finally {
            z.dispose();
          }
        },
      } : {}),
      loss: (input) => {
        const pair = byViews(head.forward(model.features(views(input, [SIM_AUGMENT, SIM_AUGMENT]))), 2);
        if (recipe === 'supcon') return supCon(pair, input.labels, t);
        if (recipe === 'supmin') return supMin(pair, input.labels, t);
        if (prototypes) return supProto(pair, input.labels, prototypes, { ...t, eps: options.eps as [number, number] });
        return ntXent(pair, t);
      },
      evaluate: evaluateProbe(ctx),
      dispose: () => {
        head.dispose();
        prototypes?.dispose();
      },
    };
  },
};
