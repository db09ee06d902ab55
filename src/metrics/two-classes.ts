// The Two-Classes representation metrics as TTC's `metrics/metrics.py` computes them (where the paper
// differs, and which options give its reading: docs/paper-vs-code.md TCM-1 to TCM-6):
// sample alignment distance (SAD) and accuracy (SAA), class alignment distance (CAD) and consistency
// (CAC), and Gaussian-potential uniformity, for V views of N samples stacked view-major ([V·N, D]).
// Everything quadratic runs on the device (src/metrics/knn.ts); SAD is O(N·V·D) and done here in float64.
import { Tensor } from '../tensor.js';
import { assertDType, describe } from '../ops/validate.js';
import { meanOf } from './accuracy.js';
import { neighbourStats, type NeighbourStats } from './knn.js';

/** Options of {@link twoClassesMetrics}; defaults reproduce the official code. */
export interface TwoClassesOptions {
  /** Views per sample V (≥ 2); default 2. */
  views?: number;
  /** Neighbourhood of CAC as a fraction of all V·N views: m = floor(V·N · fraction); default 0.05. */
  neighbourhood?: number;
  /**
   * CAC anchor: 'code' (default) counts the anchor itself as its first neighbour (the official code on a
   * fresh distance matrix); 'paper' takes the m nearest *other* views (docs/paper-vs-code.md TCM-5).
   */
  cac?: 'code' | 'paper';
  /**
   * Uniformity per class: 'code' (default) mean over pairs i < j of exp(−2‖·‖²), no log; 'wang-isola'
   * its log; 'paper' Eq. 5, log of Σ over all ordered pairs, diagonal included, of exp(−‖·‖²) divided
   * by C(n + 1, 2), n the class's views (docs/paper-vs-code.md TCM-6).
   */
  uniformity?: 'code' | 'wang-isola' | 'paper';
  /** Distance block size in bytes (see NeighbourOptions.blockBytes). */
  blockBytes?: number;
}

/** The metrics of one class. Per-sample/per-view arrays keep ascending index order, as the code returns. */
export interface ClassMetrics {
  label: number;
  /** Samples (not views) of this class. */
  samples: number;
  /** Per sample: mean over v = 1..V−1 of ‖f(view 0) − f(view v)‖. */
  sad: Float64Array;
  /** 100 × fraction of this class's views whose nearest other view is another view of the same sample. */
  saa: number;
  /** Per view: Σ_{same class} d / n_c (n_c views of the class, the zero self-distance included). */
  cad: Float64Array;
  /**
   * Paper CAD: Σ over unique same-class view pairs of d / C(samples + 1, 2) (docs/paper-vs-code.md
   * TCM-4).
   */
  cadPaper: number;
  /** Per view: 100 × same-class fraction of its m-view neighbourhood. */
  cac: Float64Array;
  /** Uniformity of the class's views in the chosen variant. */
  uniformity: number;
}

export interface TwoClassesMetrics {
  /** Neighbourhood size m = floor(V·N · fraction). */
  m: number;
  /** One entry per label present, ascending. */
  classes: ClassMetrics[];
  /** Mean SAD over all samples (the paper's SAD). */
  sadMean: number;
}

/** Mean of each per-view/per-sample array of a class, for reports. */
export function classMeans(c: ClassMetrics): { sad: number; cad: number; cac: number } {
  return { sad: meanOf(c.sad), cad: meanOf(c.cad), cac: meanOf(c.cac) };
}

/**
 * SAD, SAA, CAD, CAC and uniformity of `embeddings` [V·N, D] (L2-normalised by the caller, as in the
 * reference; view-major: row v·N + i is view v of sample i) with per-sample integer `labels` [N] (any
 * number of classes; CAC becomes neighbourhood label purity). Arguments are checked before GPU work.
 */
export function twoClassesMetrics(embeddings: Tensor, labels: ArrayLike<number>, opts: TwoClassesOptions = {}): Promise<TwoClassesMetrics> {
  assertDType('twoClassesMetrics', embeddings, ['f32'], 'embeddings');
  const views = opts.views ?? 2;
  const fraction = opts.neighbourhood ?? 0.05;
  const n = labels.length;
  if (!Number.isInteger(views) || views < 2) throw new Error(`twoClassesMetrics: views must be an integer ≥ 2, got ${views}`);
  if (embeddings.rank !== 2 || embeddings.shape[0] !== views * n) {
    throw new Error(`twoClassesMetrics: expected embeddings [${views} × ${n}, D] for ${views} views of ${n} labelled samples, got ${describe(embeddings)}`);
  }
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`twoClassesMetrics: neighbourhood must be in (0, 1], got ${fraction}`);
  const total = views * n;
  const m = Math.floor(total * fraction);
  if (m < 1) throw new Error(`twoClassesMetrics: a neighbourhood of ${fraction} × ${total} views holds no view; use more samples`);
  const cacPaper = opts.cac === 'paper';
  const others = cacPaper ? m : m - 1;
  if (others > total - 1) throw new Error(`twoClassesMetrics: neighbourhood m = ${m} exceeds the ${total - 1} other views`);
  const allLabels = new Int32Array(total);
  for (let v = 0; v < views; v++) {
    for (let i = 0; i < n; i++) allLabels[v * n + i] = labels[i];
  }
  const variant = opts.uniformity ?? 'code';
  // neighbourStats checks the labels synchronously too, before any dispatch.
  const pending = neighbourStats(embeddings, allLabels, { m: others, t: variant === 'paper' ? 1 : 2, blockBytes: opts.blockBytes });
  return assemble(embeddings, labels, allLabels, pending, { views, m, cacPaper, variant });
}

interface Layout {
  views: number;
  m: number;
  cacPaper: boolean;
  variant: NonNullable<TwoClassesOptions['uniformity']>;
}

async function assemble(
  embeddings: Tensor,
  labels: ArrayLike<number>,
  allLabels: Int32Array,
  pending: Promise<NeighbourStats>,
  { views, m, cacPaper, variant }: Layout,
): Promise<TwoClassesMetrics> {
  const n = labels.length;
  const stats = await pending;
  const x = (await embeddings.read()) as Float32Array;
  const d = embeddings.shape[1];

  const sadAll = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let v = 1; v < views; v++) {
      let q = 0;
      for (let k = 0; k < d; k++) {
        const diff = x[i * d + k] - x[(v * n + i) * d + k];
        q += diff * diff;
      }
      s += Math.sqrt(q);
    }
    sadAll[i] = s / (views - 1);
  }

  const present = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const classes = present.map((label): ClassMetrics => {
    const rows = [...allLabels.keys()].filter((r) => allLabels[r] === label);
    const nc = rows.length;
    const samples = nc / views;
    let saaHits = 0;
    let pairDist = 0;
    let pairGauss = 0;
    const cad = new Float64Array(nc);
    const cac = new Float64Array(nc);
    rows.forEach((r, idx) => {
      const nn = stats.nearest[r];
      if (nn % n === r % n && Math.floor(nn / n) !== Math.floor(r / n)) saaHits++;
      cad[idx] = stats.sameDistSum[r] / nc;
      cac[idx] = (100 * (stats.sameInTopM[r] + (cacPaper ? 0 : 1))) / m;
      pairDist += stats.sameDistSum[r] / 2;
      pairGauss += stats.sameGaussSum[r] / 2;
    });
    const pairs = (nc * (nc - 1)) / 2;
    const uniformity =
      variant === 'paper' ? Math.log((2 * pairGauss + nc) / ((nc * (nc + 1)) / 2)) : variant === 'wang-isola' ? Math.log(pairGauss / pairs) : pairGauss / pairs;
    return {
      label,
      samples,
      sad: Float64Array.from(rows.filter((r) => r < n), (r) => sadAll[r]),
      saa: (100 * saaHits) / nc,
      cad,
      cadPaper: pairDist / ((samples * (samples + 1)) / 2),
      cac,
      uniformity,
    };
  });
  return { m, classes, sadMean: meanOf(sadAll) };
}
