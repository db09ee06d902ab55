// Learned vs optimal class-mean geometry (issue 8): which population loss a training run corresponds to,
// the Gram matrix of the class means it learned, and how far that is from the solver's optimum. Shared by
// `npm run geometry -- --run DIR` and the run report, so that both compare against the same objective.
import { classGeometry } from '../metrics/geometry.js';
import { collapseGroups } from './analysis.js';
import type { GeometryLoss } from './objectives.js';

/** The objective a run is compared with, and why it is that one. */
export interface RunObjective {
  loss: GeometryLoss;
  tau: number;
  negatives: number;
  /** One line saying how the run's recipe maps to the objective (printed by the CLI, shown in the report). */
  note: string;
}

/**
 * The population loss matching a run's config (`summary.json` config: recipe, batchSize and the recipe's
 * options temperature, bclAblation, queueSize). Negatives: every recipe contrasts two views of B samples in one batch, so an anchor's
 * denominator holds its positive view and 2B − 2 other rows, N = 2B − 2 (the solver's model counts
 * same-class rows among the N, as SupCon's denominator does).
 *   supcon, supcon-lc, simclr, supmin, supproto → 'supcon' (SimCLR: with collapsed classes its positive is a
 *     same-class row; SupMin's and SupProto's extra terms are not modelled);
 *   bcl (full, averaging) → 'bcl': BCL averages over anchors (weights p) and its class-averaged denominator
 *     does not depend on N (its prototypes only add one more class-averaged term per class);
 *   bcl complement (no class-averaging) → 'supcon' with the same N (the K prototype columns are left out);
 *   rebsupcon → 'supcon' with N = 2B − 2 + Q (the queue's Q keys join every denominator; the per-class
 *     weights ω and the prototype module are not modelled);
 *   ce, ce-la, balanced-softmax → 'supcon': they have no contrastive loss, so the SupCon geometry at the
 *     run's τ and N is the reference the representation is held against.
 * Without a config (an old run): SupCon, τ = 0.1, N = 255.
 */
export function runObjective(run: Readonly<Record<string, unknown>> | undefined): RunObjective {
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && v > 0 ? v : fallback);
  if (!run) return { loss: 'supcon', tau: 0.1, negatives: 255, note: 'no run config: SupCon at τ = 0.1, N = 255' };
  // The recipe's own options sit under `options` (older runs kept them at the top level).
  const options = typeof run.options === 'object' && run.options !== null ? (run.options as Record<string, unknown>) : {};
  const config = { ...run, ...options };
  const recipe = String(config.recipe ?? config.loss ?? 'ce');
  const tau = num(config.temperature, 0.1);
  const b = num(config.batchSize, 128);
  const negatives = Math.max(1, 2 * b - 2);
  const supcon = (why: string): RunObjective => ({ loss: 'supcon', tau, negatives, note: `${recipe}: SupCon, τ = ${tau}, N = 2B − 2 = ${negatives} (B = ${b}); ${why}` });
  switch (recipe) {
    case 'supcon':
    case 'supcon-lc':
      return supcon('the recipe\'s own loss');
    case 'simclr':
      return supcon('NT-Xent has no labels; once classes collapse its positive is a same-class row');
    case 'supmin':
    case 'supproto':
      return supcon('the SupCon part of the loss (the recipe\'s extra terms are not modelled)');
    case 'rebsupcon': {
      // The queue adds Q rows to every anchor's denominator: own key (its positive) + 2B − 2 batch rows + Q.
      const q = num(config.queueSize, 4096);
      return {
        loss: 'supcon', tau, negatives: negatives + q,
        note: `rebsupcon: SupCon on the MoCo queue, τ = ${tau}, N = 2B − 2 + Q = ${negatives + q} (B = ${b}, Q = ${q}); ω and the prototype module are not modelled`,
      };
    }
    case 'bcl':
      if (config.bclAblation === 'complement') return supcon('BCL without class-averaging (the K prototype columns are not modelled)');
      return { loss: 'bcl', tau, negatives, note: `bcl: BCL's class-averaged loss, τ = ${tau}, anchors weighted by p; N does not enter it` };
    default:
      return supcon('no contrastive loss in this recipe, so SupCon is the reference geometry');
  }
}

/** The Gram matrix of the normalised class means of L2-normalised rows, classes in ascending label order. */
export function learnedGram(data: ArrayLike<number>, n: number, d: number, labels: ArrayLike<number>): { classes: number[]; gram: number[][] } {
  const unit = Float64Array.from(data);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += unit[i * d + j] ** 2;
    const r = Math.sqrt(s) || 1;
    for (let j = 0; j < d; j++) unit[i * d + j] /= r;
  }
  // Uncentred: the solver's G is of the unit means themselves, not of means shifted to their centroid.
  const g = classGeometry(unit, n, d, labels, { center: false });
  return { classes: g.classes, gram: g.gram };
}

/** One pair of classes in {@link compareGeometry}. */
export interface PairAngle {
  i: number;
  j: number;
  /** Angles between the two class means in degrees. */
  learned: number;
  optimal: number;
  /** learned − optimal. */
  difference: number;
}

/** A learned Gram matrix against an optimal one. */
export interface GeometryComparison {
  /** ‖G_learned − G_optimal‖_F. */
  distance: number;
  pairs: PairAngle[];
  /** Classes whose means (nearly) coincide, singletons omitted (see {@link compareGeometry}). */
  learnedGroups: number[][];
  optimalGroups: number[][];
}

const degrees = (c: number) => (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;

/**
 * Distance, per-pair angles and collapse groups of two K×K Gram matrices (same class order). The optimum
 * is exact, so its groups use the solver's G_ij > 1 − 1e-4; trained means never coincide exactly, so the
 * learned groups use `learnedDegrees` (default 30°, classGeometry's minority-collapse criterion).
 */
export function compareGeometry(learned: number[][], optimal: number[][], learnedDegrees = 30): GeometryComparison {
  const k = learned.length;
  if (optimal.length !== k || [...learned, ...optimal].some((r) => r.length !== k)) {
    throw new Error(`compareGeometry: expected two K×K Gram matrices of the same K, got ${k}×${learned[0]?.length} and ${optimal.length}×${optimal[0]?.length}`);
  }
  let s = 0;
  const pairs: PairAngle[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      s += (learned[i][j] - optimal[i][j]) ** 2;
      if (j > i) {
        const a = degrees(learned[i][j]);
        const b = degrees(optimal[i][j]);
        pairs.push({ i, j, learned: a, optimal: b, difference: a - b });
      }
    }
  }
  const flat = (m: number[][]) => Float64Array.from(m.flat());
  const multi = (g: number[][]) => g.filter((x) => x.length > 1);
  return {
    distance: Math.sqrt(s),
    pairs,
    learnedGroups: multi(collapseGroups(flat(learned), k, 1 - Math.cos((learnedDegrees * Math.PI) / 180))),
    optimalGroups: multi(collapseGroups(flat(optimal), k)),
  };
}
