// Statistics over seeds: means, standard deviations and Student-t 95 % intervals, for one value per seed
// and for differences paired by seed. Seeds are few (3 to 10), so the t quantile matters: with 3 seeds
// the half-width is 4.30 standard errors, not 1.96.

/** Mean, sample standard deviation and 95 % interval of the mean over `n` values. */
export interface Interval {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); NaN for one value. */
  sd: number;
  /** 95 % Student-t interval of the mean; [mean, mean] is not claimed for one value: NaN bounds. */
  lo: number;
  hi: number;
}

// t_{0.975, df} for df = 1..30 (from the Student-t distribution's quantile function).
const T975 = [
  12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.306, 2.2622, 2.2281, 2.201, 2.1788, 2.1604, 2.1448, 2.1314,
  2.1199, 2.1098, 2.1009, 2.093, 2.086, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];

/** The 0.975 quantile of Student's t with `df` degrees of freedom (df > 30: the normal's 1.96, within 2 %). */
export function t975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`t975: degrees of freedom must be a positive integer, got ${df}`);
  return df <= 30 ? T975[df - 1] : 1.96;
}

/** Mean, standard deviation and 95 % interval of `values` (non-finite values are an error: a run that diverged is reported, not averaged). */
export function interval(values: readonly number[]): Interval {
  const n = values.length;
  if (n === 0) throw new Error('interval: no values');
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`interval: non-finite value in [${values.join(', ')}]`);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, sd: NaN, lo: NaN, hi: NaN };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = (t975(n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, lo: mean - half, hi: mean + half };
}

/**
 * The interval of a − b paired by seed: only seeds present in both count (the pairing removes the
 * seed-to-seed variation the two runs share: same subset, same initialisation, same batch order).
 */
export function pairedDifference(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): Interval & { seeds: number[] } {
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  if (seeds.length === 0) throw new Error('pairedDifference: no seed in common');
  return { ...interval(seeds.map((s) => a.get(s)! - b.get(s)!)), seeds };
}

/**
 * The interval of mean(a) − mean(b) for two independent samples given as intervals (Welch's standard
 * error; degrees of freedom min(n_a, n_b) − 1, the conservative choice): for runs whose random streams
 * differ, such as ours and a peer implementation's, where pairing by seed means nothing.
 */
export function unpairedDifference(a: Interval, b: Interval): Interval {
  const mean = a.mean - b.mean;
  const df = Math.min(a.n, b.n) - 1;
  if (df < 1) return { n: Math.min(a.n, b.n), mean, sd: NaN, lo: NaN, hi: NaN };
  const se = Math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n);
  const half = t975(df) * se;
  return { n: Math.min(a.n, b.n), mean, sd: se, lo: mean - half, hi: mean + half };
}
