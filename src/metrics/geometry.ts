// Class-mean geometry of an embedding set (neural-collapse style diagnostics), float64 on the CPU: it
// is O(n·d + K²·d) for K classes, far below one distance block, and K is small.

/** Options of {@link classGeometry}. */
export interface GeometryOptions {
  /**
   * Subtract the global mean of the class means (each class weighted equally) before the Gram matrix,
   * as neural-collapse analyses do; without it a simplex shifted off the origin is not an ETF. Default true.
   */
  center?: boolean;
  /** Classifier weights [K, d] (row c = class c), for per-class weight norms. */
  weights?: ArrayLike<number>;
  /** A class is a minority class when its count ≤ minorityShare × the largest count. Default 0.2. */
  minorityShare?: number;
  /**
   * Counts per label that decide which classes are minority, e.g. the training counts (minority is about
   * training frequency, while the embeddings are often of a balanced test set). Default: the counts here.
   */
  minorityCounts?: readonly number[];
  /**
   * Minority collapse (Fang et al., 2021: minority classifiers/means merge) is flagged when two minority
   * class means are less than this many degrees apart. Default 30°, well below the 90° or more of any
   * simplex with K ≥ 2 classes.
   */
  collapseDegrees?: number;
}

export interface ClassGeometry {
  /** Labels present, ascending; every per-class array below follows this order. */
  classes: number[];
  counts: number[];
  /** Class means of the (caller-normalised) embeddings, [K][d], before centring. */
  means: Float64Array[];
  /** ‖mean_c‖ before any normalisation (1 = the class is collapsed to one direction). */
  meanNorms: number[];
  /** Cosine Gram matrix of the (centred, if `center`) class means, [K][K], unit diagonal. */
  gram: number[][];
  /** ‖G − G_ETF‖_F / ‖G_ETF‖_F with G_ETF: 1 on the diagonal, −1/(K−1) off it (0 for a regular simplex). */
  etfDistance: number;
  /** Smallest and mean angle between two class means, in degrees (NaN with one class). */
  minAngle: number;
  meanAngle: number;
  /** Classes counted as minority (see GeometryOptions.minorityShare). */
  minorityClasses: number[];
  minorityCollapse: boolean;
  /** ‖w_c‖ per class when weights were given. */
  weightNorms?: number[];
}

/** Geometry of the class means of `x` [n, d] (row-major) with integer labels [n]. */
export function classGeometry(x: ArrayLike<number>, n: number, d: number, labels: ArrayLike<number>, opts: GeometryOptions = {}): ClassGeometry {
  if (x.length !== n * d) throw new Error(`classGeometry: ${x.length} values for [${n}, ${d}] embeddings`);
  if (labels.length !== n) throw new Error(`classGeometry: ${labels.length} labels for ${n} embeddings`);
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  if (classes.some((c) => !Number.isInteger(c) || c < 0)) throw new Error('classGeometry: labels must be non-negative integers');
  const k = classes.length;
  const slot = new Map(classes.map((c, i) => [c, i]));
  const counts = new Array<number>(k).fill(0);
  const means = classes.map(() => new Float64Array(d));
  for (let i = 0; i < n; i++) {
    const c = slot.get(labels[i])!;
    counts[c]++;
    for (let j = 0; j < d; j++) means[c][j] += x[i * d + j];
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) means[c][j] /= counts[c];
  const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, a) => s + a * a, 0));
  const meanNorms = means.map(norm);
  const centre = new Float64Array(d);
  if (opts.center ?? true) for (const mu of means) for (let j = 0; j < d; j++) centre[j] += mu[j] / k;
  const dirs = means.map((mu) => {
    const v = mu.map((a, j) => a - centre[j]);
    const s = norm(v);
    return v.map((a) => a / s);
  });
  const gram = dirs.map((a) => dirs.map((b) => a.reduce((s, v, j) => s + v * b[j], 0)));
  let num = 0;
  let den = 0;
  const angles: number[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const target = a === b ? 1 : -1 / (k - 1);
      num += (gram[a][b] - target) ** 2;
      den += target ** 2;
      if (b > a) angles.push((Math.acos(Math.max(-1, Math.min(1, gram[a][b]))) * 180) / Math.PI);
    }
  }
  const decide = opts.minorityCounts ? classes.map((c) => opts.minorityCounts![c] ?? 0) : counts;
  const largest = Math.max(...(opts.minorityCounts ?? counts));
  const share = opts.minorityShare ?? 0.2;
  const minority = classes.map((_, c) => c).filter((c) => decide[c] <= share * largest);
  const limit = opts.collapseDegrees ?? 30;
  let collapse = false;
  for (const a of minority) for (const b of minority) if (b > a && (Math.acos(Math.max(-1, Math.min(1, gram[a][b]))) * 180) / Math.PI < limit) collapse = true;
  const result: ClassGeometry = {
    classes,
    counts,
    means,
    meanNorms,
    gram,
    etfDistance: k > 1 ? Math.sqrt(num / den) : NaN,
    minAngle: angles.length ? Math.min(...angles) : NaN,
    meanAngle: angles.length ? angles.reduce((s, a) => s + a, 0) / angles.length : NaN,
    minorityClasses: minority.map((c) => classes[c]),
    minorityCollapse: collapse,
  };
  if (opts.weights) {
    const w = opts.weights;
    if (w.length % d !== 0) throw new Error(`classGeometry: ${w.length} weights are not rows of ${d}`);
    result.weightNorms = Array.from({ length: w.length / d }, (_, c) => norm(Array.prototype.slice.call(w, c * d, (c + 1) * d) as number[]));
  }
  return result;
}
