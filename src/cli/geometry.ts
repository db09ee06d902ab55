// Optimal class-mean geometry of a contrastive loss under class imbalance (issue 8), on the CPU.
//   npm run geometry -- --proportions 0.5,0.3,0.2 --loss supcon --tau 0.1 --negatives 255
//   npm run geometry -- --sweep --classes 4 --majority 2 --taus 0.2,0.5,1 --negatives-list 1,16,255,4096
// Prints G, the angles between class means, the collapse groups and the KKT certificate (or the
// threshold table), and as its last line one JSON summary.
import { parseArgs } from 'node:util';
import { collapseGroups, meanAngles, recoverMeans, thresholdSweep } from '../geometry/analysis.js';
import { GEOMETRY_LOSSES, geometryObjective, type GeometryLoss } from '../geometry/objectives.js';
import { solveGeometry } from '../geometry/solver.js';

const HELP = `Usage: npm run geometry -- [options]
  --proportions 0.5,0.3,0.2     class proportions (normalised), or
  --classes K --imbalance R     K classes with exponential profile p_i ∝ R^(-i/(K-1)) (default K=4, R=1)
  --loss supcon|bcl|bcl-balanced  population loss (default supcon; see src/geometry/objectives.ts)
  --tau T --negatives N         temperature (default 0.1) and number of negatives (SupCon, default 255)
  --seed S --restarts R         random starts of the solver (default 0, 1); the best is kept
  --epsilon E                   collapse groups: G_ij > 1 - E (default 1e-4)
  --sweep                       minority-collapse thresholds: --classes K (default 4) --majority m (default 2)
                                --taus 0.2,0.5,1 --negatives-list 1,4,16,64,255,4096 --max-ratio 1e8
  --run DIR                     (not available: comparing with a trained run needs the diagnostics issue)`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean' }, proportions: { type: 'string' }, classes: { type: 'string' }, imbalance: { type: 'string' },
    loss: { type: 'string' }, tau: { type: 'string' }, negatives: { type: 'string' }, seed: { type: 'string' }, restarts: { type: 'string' },
    epsilon: { type: 'string' }, sweep: { type: 'boolean' }, majority: { type: 'string' }, taus: { type: 'string' },
    'negatives-list': { type: 'string' }, 'max-ratio': { type: 'string' }, run: { type: 'string' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
if (values.run !== undefined) {
  console.error('geometry --run: comparing with a trained run needs the representation diagnostics (separate issue); not implemented yet.');
  process.exit(2);
}

const numbers = (s: string): number[] => s.split(',').map((x) => Number(x.trim()));
const loss = (values.loss ?? 'supcon') as GeometryLoss;
if (!GEOMETRY_LOSSES.includes(loss)) throw new Error(`--loss must be one of ${GEOMETRY_LOSSES.join(', ')}`);
const tau = Number(values.tau ?? 0.1);
const negatives = Number(values.negatives ?? 255);
const fmt = (x: number, digits: number): string => (x >= 0 ? ' ' : '') + x.toFixed(digits);
const printMatrix = (title: string, m: Float64Array, k: number, digits: number): void => {
  console.log(title);
  for (let i = 0; i < k; i++) console.log('  ' + Array.from(m.subarray(i * k, i * k + k), (x) => fmt(x, digits)).join(' '));
};

if (values.sweep) {
  const classes = Number(values.classes ?? 4);
  const majority = Number(values.majority ?? 2);
  const taus = numbers(values.taus ?? '0.2,0.5,1');
  const negs = numbers(values['negatives-list'] ?? '1,4,16,64,255,4096');
  const maxRatio = Number(values['max-ratio'] ?? 1e8);
  const start = performance.now();
  const rows = thresholdSweep({ loss, classes, majority }, taus, negs, { maxRatio, relativeTolerance: 1e-4 });
  console.log(`minority-collapse threshold rho* = p_maj/p_min (${loss}, K=${classes}, m=${majority} majority classes; inf: none up to ${maxRatio})`);
  console.log('  tau \\ N ' + negs.map((n) => String(n).padStart(10) + ' ').join(''));
  for (const t of taus) {
    const line = rows.filter((r) => r.tau === t).map((r) => ((Number.isFinite(r.ratio) ? r.ratio.toPrecision(5) : 'inf') + (r.converged ? ' ' : '?')).padStart(11));
    console.log(`  ${String(t).padEnd(8)}${line.join('')}`);
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(`(${rows.length} thresholds in ${seconds.toFixed(1)} s; '?': a face solve stopped short of its tolerance, treat as indicative)`);
  console.log(JSON.stringify({ sweep: { loss, classes, majority, maxRatio, rows: rows.map((r) => ({ ...r, ratio: Number.isFinite(r.ratio) ? r.ratio : null })) }, seconds }));
} else {
  let proportions: number[];
  if (values.proportions !== undefined) proportions = numbers(values.proportions);
  else {
    const k = Number(values.classes ?? 4);
    const r = Number(values.imbalance ?? 1);
    proportions = Array.from({ length: k }, (_, i) => Math.pow(r, -i / Math.max(1, k - 1)));
  }
  const total = proportions.reduce((s, x) => s + x, 0);
  proportions = proportions.map((x) => x / total);
  const k = proportions.length;
  const objective = geometryObjective(loss, { proportions, tau, negatives });
  const seed = Number(values.seed ?? 0);
  const restarts = Number(values.restarts ?? 1);
  const sols = Array.from({ length: restarts }, (_, i) => solveGeometry(objective, { seed: seed + i }));
  const sol = sols.reduce((a, b) => (b.value < a.value ? b : a));
  const groups = collapseGroups(sol.gram, k, Number(values.epsilon ?? 1e-4));
  const rank = recoverMeans(sol.gram, k).rank;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) if (i !== j) [lo, hi] = [Math.min(lo, sol.gram[i * k + j]), Math.max(hi, sol.gram[i * k + j])];
  console.log(`${objective.name}, K=${k}, p=${proportions.map((x) => x.toPrecision(3)).join(',')}`);
  if (k <= 12) {
    printMatrix('G = [mu_i . mu_j]', sol.gram, k, 4);
    printMatrix('angles (degrees)', meanAngles(sol.gram, k), k, 1);
  } else console.log(`(G and angles omitted for K > 12) off-diagonal range [${lo.toFixed(4)}, ${hi.toFixed(4)}]; ETF would be ${(-1 / (k - 1)).toFixed(4)}`);
  console.log(`rank of G: ${rank}; collapse groups (G_ij > 1 - eps): ${groups.filter((g) => g.length > 1).map((g) => `{${g.join(',')}}`).join(' ') || 'none'}`);
  const c = sol.certificate;
  console.log(`f* = ${sol.value.toPrecision(12)}; ${sol.iterations} L-BFGS iterations, converged ${sol.converged}, ${sol.milliseconds.toFixed(0)} ms`);
  console.log(`KKT: |S G|_F = ${c.stationarity.toExponential(2)}, lambda_min(S) = ${c.minEigenvalue.toExponential(2)}, <S,G> = ${c.complementarity.toExponential(2)}, gap <= ${c.gapBound.toExponential(2)}`);
  console.log(c.residual <= 1e-8 ? 'certified optimal: KKT residual <= 1e-8' : `NOT certified: KKT residual ${c.residual.toExponential(2)} > 1e-8`);
  if (restarts > 1) console.log(`restarts: objective spread ${(Math.max(...sols.map((s) => s.value)) - sol.value).toExponential(2)}`);
  console.log(JSON.stringify({
    loss, tau, negatives, proportions, value: sol.value, iterations: sol.iterations, converged: sol.converged, milliseconds: sol.milliseconds,
    kktResidual: c.residual, minEigenvalue: c.minEigenvalue, gapBound: c.gapBound, rank, offDiagonal: [lo, hi],
    collapseGroups: groups.filter((g) => g.length > 1), gram: k <= 12 ? Array.from(sol.gram) : undefined,
  }));
}
