// Metrics benchmark: the device kNN statistics behind the Two-Classes metrics (src/metrics/knn.ts) and
// the full metric set (SAD, SAA, CAD, CAC, uniformity, class geometry) against a plain TypeScript
// implementation of the same statistics in the same run.
//
//   npm run bench:metrics              # N = 5000 embeddings (2 views of 2500 samples), D = 128
//   tsx bench/metrics.ts --quick       # N = 1000 and 5000, short budgets
//   tsx bench/metrics.ts --full        # adds N = 20 000
//
// Report columns: 'ours' = device ms (including the read-back of the [N, 4] statistics), 'peer' = plain
// TypeScript ms on the CPU, single thread (NOT TF.js), 'ratio' = ours / peer (lower is better). The plain
// version computes each distance row in float64 and sorts it for the top-m (ties to the lowest index);
// its nearest neighbours and CAC counts are compared with the device's before timing.
import { classGeometry, engine, init, neighbourStats, tensor, twoClassesMetrics, type NeighbourStats, type Tensor } from '../src/node.js';
import { benchHeader, flag, printReport, randomData, row, timeIt, unitRows, type ResultRow } from './common.js';

const quick = flag('quick');
const SIZES = flag('full') ? [5000, 20000] : quick ? [1000, 5000] : [5000];
const D = 128;
const CLASSES = 2;

/** Plain TypeScript statistics with the semantics of neighbourStats (float64, one row at a time). */
function plainStats(x: Float32Array, labels: Int32Array, n: number, m: number, t: number): NeighbourStats {
  const out: NeighbourStats = { sameDistSum: new Float64Array(n), sameGaussSum: new Float64Array(n), nearest: new Int32Array(n), sameInTopM: new Int32Array(n) };
  const dist = new Float64Array(n);
  const idx = new Int32Array(n - 1);
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) {
        const diff = x[i * D + k] - x[j * D + k];
        s += diff * diff;
      }
      dist[j] = s;
      if (labels[j] === labels[i]) {
        out.sameDistSum[i] += Math.sqrt(s);
        if (j !== i) out.sameGaussSum[i] += Math.exp(-t * s);
      }
      if (j !== i && (best < 0 || s < dist[best])) best = j;
    }
    out.nearest[i] = best;
    let q = 0;
    for (let j = 0; j < n; j++) if (j !== i) idx[q++] = j;
    idx.sort((a, b) => dist[a] - dist[b] || a - b);
    let hits = 0;
    for (let r = 0; r < m; r++) if (labels[idx[r]] === labels[i]) hits++;
    out.sameInTopM[i] = hits;
  }
  return out;
}

async function main(): Promise<void> {
  const e = await init();
  await benchHeader('metrics bench', e, [
    `D = ${D}, ${CLASSES} classes (95/5), 2 views; 'peer' = plain single-thread TypeScript on the CPU (not TF.js); unit ms, lower is better`,
  ]);
  const results: ResultRow[] = [];
  // The correctness check below is the warm-up (pipelines compiled, buffers pooled).
  const budget = quick ? { minMs: 0, minReps: 1, maxReps: 1, warmup: 0 } : { minMs: 1000, minReps: 3, maxReps: 10, warmup: 0 };
  for (const n of SIZES) {
    const samples = n / 2;
    const u = randomData(samples, 3);
    const labels = Array.from(u, (v) => (v < 0.9 ? 0 : 1));
    const rowLabels = Int32Array.from({ length: n }, (_, r) => labels[r % samples]);
    const x = unitRows(n, D, 11);
    const emb: Tensor = tensor(x, [n, D]).keep();
    const m = Math.floor(n * 0.05) - 1;
    const dev = await neighbourStats(emb, rowLabels, { m });
    let plain: NeighbourStats | null = null;
    const plainMs = await timeIt(async () => {
      plain = plainStats(x, rowLabels, n, m, 2);
    }, { minMs: 0, minReps: 1, maxReps: 1, warmup: 0 });
    const p = plain as unknown as NeighbourStats;
    let sameNearest = 0;
    let hitDiff = 0;
    for (let i = 0; i < n; i++) {
      if (p.nearest[i] === dev.nearest[i]) sameNearest++;
      hitDiff = Math.max(hitDiff, Math.abs(p.sameInTopM[i] - dev.sameInTopM[i]));
    }
    console.log(`N = ${n}: plain kNN statistics ${plainMs.medianMs.toFixed(0)} ms; m = ${m + 1}; device vs plain: nearest equal ${sameNearest}/${n}, max |CAC hits diff| ${hitDiff} (float32 vs float64 near-ties)`);
    const knn = await timeIt(async () => void (await neighbourStats(emb, rowLabels, { m })), budget);
    results.push(row(`kNN statistics N=${n}`, knn.medianMs, plainMs.medianMs, 'ms'));
    const all = await timeIt(async () => {
      await twoClassesMetrics(emb, labels);
      classGeometry(x, n, D, rowLabels);
    }, budget);
    // The plain side of 'all metrics' = its kNN statistics (timed above) + the same CPU geometry.
    const geometry = await timeIt(async () => void classGeometry(x, n, D, rowLabels), { minMs: 0, minReps: 1, maxReps: 3, warmup: 0 });
    results.push(row(`all metrics N=${n}`, all.medianMs, plainMs.medianMs + geometry.medianMs, 'ms'));
    emb.dispose();
    await engine().sync();
  }
  printReport('metrics', engine().describeAdapter(), results);
}

await main();
