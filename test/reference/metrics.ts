// Float64 references of the Two-Classes metrics written straight from TTC's code as docs/paper-vs-code.md
// (TCM-1 to TCM-6) describes it, on a full distance matrix (argsort with ties to the lowest index, argmin
// with the diagonal at +inf), and a brute-force AUC.

/** Euclidean distance matrix of rows of x [n, d], float64, exact zero diagonal. */
export function distanceMatrix(x: ArrayLike<number>, n: number, d: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) =>
    Float64Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += (x[i * d + k] - x[j * d + k]) ** 2;
      return Math.sqrt(s);
    }),
  );
}

export interface RefClass {
  sad: number[];
  saa: number;
  cad: number[];
  cadPaper: number;
  cac: number[];
  cacPaper: number[];
  uniformity: { code: number; wangIsola: number; paper: number };
}

/** Reference metrics per label (ascending) for V views of N samples stacked view-major; m = floor(V·N·fraction). */
export function twoClassesRef(x: ArrayLike<number>, labels: number[], views: number, d: number, fraction = 0.05): RefClass[] {
  const n = labels.length;
  const total = views * n;
  const dist = distanceMatrix(x, total, d);
  const all = Array.from({ length: total }, (_, r) => labels[r % n]);
  const m = Math.floor(total * fraction);
  const order = (r: number, self: boolean) =>
    [...dist[r].keys()].filter((j) => self || j !== r).sort((a, b) => (self && a === r ? -1 : self && b === r ? 1 : dist[r][a] - dist[r][b] || a - b));
  const present = [...new Set(labels)].sort((a, b) => a - b);
  return present.map((c) => {
    const rows = [...all.keys()].filter((r) => all[r] === c);
    const nc = rows.length;
    const samples = nc / views;
    const sad = rows.filter((r) => r < n).map((i) => {
      let s = 0;
      for (let v = 1; v < views; v++) s += dist[i][i + v * n];
      return s / (views - 1);
    });
    let hits = 0;
    for (const r of rows) {
      let nn = -1;
      for (let j = 0; j < total; j++) if (j !== r && (nn < 0 || dist[r][j] < dist[r][nn])) nn = j;
      if (nn % n === r % n && Math.floor(nn / n) !== Math.floor(r / n)) hits++;
    }
    const cad = rows.map((r) => rows.reduce((s, j) => s + dist[r][j], 0) / nc);
    let pairDist = 0;
    let g2 = 0;
    let g1 = 0;
    for (const a of rows) {
      for (const b of rows) {
        if (b <= a) continue;
        pairDist += dist[a][b];
        g2 += Math.exp(-2 * dist[a][b] ** 2);
        g1 += Math.exp(-(dist[a][b] ** 2));
      }
    }
    const purity = (r: number, self: boolean) => (100 * order(r, self).slice(0, m).filter((j) => all[j] === c).length) / m;
    const pairs = (nc * (nc - 1)) / 2;
    return {
      sad,
      saa: (100 * hits) / nc,
      cad,
      cadPaper: pairDist / ((samples * (samples + 1)) / 2),
      cac: rows.map((r) => purity(r, true)),
      cacPaper: rows.map((r) => purity(r, false)),
      uniformity: { code: g2 / pairs, wangIsola: Math.log(g2 / pairs), paper: Math.log((2 * g1 + nc) / ((nc * (nc + 1)) / 2)) },
    };
  });
}

/** AUC by brute force over all positive/negative pairs, a tie counting one half. */
export function aucBruteForce(scores: number[], labels: number[]): number {
  let s = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      s += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return s / pairs;
}

/**
 * ‖∂CE_i/∂θ‖ of each sample's own cross-entropy, θ = the classifier's weight (and bias), from its explicit
 * gradient: every entry by central differences of CE_i in float64, no factorisation assumed.
 * logits(h, W, b) is the classifier; W and b are flat and perturbed in place.
 */
export function classifierGradNormsRef(
  h: ArrayLike<number>, labels: ArrayLike<number>, d: number, w: Float64Array, b: Float64Array | null,
  logits: (h: Float64Array, w: Float64Array, b: Float64Array | null) => Float64Array,
): Float64Array {
  const n = labels.length;
  const eps = 1e-6;
  return Float64Array.from({ length: n }, (_, i) => {
    const hi = Float64Array.from({ length: d }, (_, j) => h[i * d + j]);
    const ce = () => {
      const z = logits(hi, w, b);
      const m = Math.max(...z);
      return m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[labels[i]];
    };
    let s = 0;
    for (const p of b ? [w, b] : [w]) {
      for (let k = 0; k < p.length; k++) {
        const v = p[k];
        p[k] = v + eps;
        const up = ce();
        p[k] = v - eps;
        const down = ce();
        p[k] = v;
        s += ((up - down) / (2 * eps)) ** 2;
      }
    }
    return Math.sqrt(s);
  });
}
