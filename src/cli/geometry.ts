// Optimal class-mean geometry of a contrastive loss under class imbalance (issue 8), on the CPU.
//   npm run geometry -- --proportions 0.5,0.3,0.2 --loss supcon --tau 0.1 --negatives 255
//   npm run geometry -- --sweep --classes 4 --majority 2 --taus 0.2,0.5,1 --negatives-list 1,16,255,4096 [--html FILE]
//   npm run geometry -- --run runs/fashion-mnist-lt
// Prints G, the angles between class means, the collapse groups and the KKT certificate (or the
// threshold table, or a trained run's learned geometry against its optimum), and as its last line one
// JSON summary. Errors: one line on stderr, exit status 1.
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../io/node/atomic.js';
import { compareGeometry, learnedGram, runObjective } from '../geometry/learned.js';
import { loadRun } from '../report/node/load-run.js';
import { renderSweep } from '../report/render.js';
import { collapseGroups, meanAngles, recoverMeans, thresholdSweep } from '../geometry/analysis.js';
import { GEOMETRY_LOSSES, geometryObjective, type GeometryLoss, type GeometryObjective } from '../geometry/objectives.js';
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
                                --html FILE also writes the curves rho*(N), one per tau, as a self-contained page
  --run DIR                     a trained run (npm run train --out DIR) against its optimum: proportions from
                                summary.json trainCounts, loss/tau/N from its config (see runObjective in
                                src/geometry/learned.ts; --loss/--tau/--negatives override), learned G from
                                embeddings.safetensors (projections if saved, else embeddings)`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean' }, proportions: { type: 'string' }, classes: { type: 'string' }, imbalance: { type: 'string' },
    loss: { type: 'string' }, tau: { type: 'string' }, negatives: { type: 'string' }, seed: { type: 'string' }, restarts: { type: 'string' },
    epsilon: { type: 'string' }, sweep: { type: 'boolean' }, majority: { type: 'string' }, taus: { type: 'string' },
    'negatives-list': { type: 'string' }, 'max-ratio': { type: 'string' }, run: { type: 'string' }, html: { type: 'string' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const numbers = (s: string): number[] => s.split(',').map((x) => Number(x.trim()));
if (values.loss !== undefined && !GEOMETRY_LOSSES.includes(values.loss as GeometryLoss)) {
  fail(`--loss must be one of ${GEOMETRY_LOSSES.join(', ')}, got '${values.loss}'`);
}
const fmt = (x: number, digits: number): string => (x >= 0 ? ' ' : '') + x.toFixed(digits);
const printMatrix = (title: string, m: ArrayLike<number>, k: number, digits: number): void => {
  console.log(title);
  for (let i = 0; i < k; i++) console.log('  ' + Array.from({ length: k }, (_, j) => fmt(m[i * k + j], digits)).join(' '));
};

/** One line on stderr and exit status 1: the CLI's error contract. */
function fail(message: string): never {
  console.error(`[geometry] ${message}`);
  process.exit(1);
}

/** Solves `objective` from --restarts seeds, prints G, angles, collapse groups and the certificate. */
function solveAndPrint(objective: GeometryObjective, proportions: number[]) {
  const k = proportions.length;
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
  if (restarts > 1) console.log(`restarts: objective spread ${(Math.max(...sols.map((x) => x.value)) - sol.value).toExponential(2)}`);
  return { sol, groups, rank, lo, hi };
}

/** --run DIR: the run's learned class-mean Gram matrix against the optimum of its own loss (see HELP). */
async function compareRun(dir: string): Promise<void> {
  const run = await loadRun(dir, { optimal: false }).catch((e: Error) => fail(e.message.replace(/^report: /, '--run: ')));
  const counts = run.trainCounts;
  if (!counts?.length) fail(`--run: '${dir}' has no training class counts (summary.json "trainCounts", written at the end of npm run train)`);
  const space = run.projections ? 'projections' : 'embeddings';
  const emb = run.projections ?? run.embeddings;
  if (!emb) fail(`--run: '${dir}' has no usable embeddings.safetensors (written at the end of npm run train, since the diagnostics issue)${run.notes?.length ? `: ${run.notes.join(' ')}` : ''}`);
  const auto = runObjective(run.summary?.config);
  const loss = (values.loss as GeometryLoss | undefined) ?? auto.loss;
  const tau = values.tau !== undefined ? Number(values.tau) : auto.tau;
  const negatives = values.negatives !== undefined ? Number(values.negatives) : auto.negatives;
  const overridden = values.loss !== undefined || values.tau !== undefined || values.negatives !== undefined;
  const k = counts.length;
  const learned = learnedGram(emb.data, emb.n, emb.d, emb.labels);
  if (learned.classes.length !== k || learned.classes.some((c, i) => c !== i)) {
    fail(`--run: the ${space} of '${dir}' hold classes [${learned.classes.join(', ')}], expected every class 0..${k - 1} of trainCounts`);
  }
  if (counts.some((c) => !(c > 0))) fail(`--run: every class needs training images for the solver, got trainCounts [${counts.join(', ')}]`);
  const total = counts.reduce((a, b) => a + b, 0);
  const proportions = counts.map((c) => c / total);
  console.log(`run ${dir}: ${emb.n} test samples, ${space} [${emb.n}, ${emb.d}], K=${k}, training counts [${counts.join(', ')}]`);
  console.log(`objective: ${overridden ? `set by --loss/--tau/--negatives (the run's own: ${auto.note})` : auto.note}`);
  const { sol, groups } = solveAndPrint(geometryObjective(loss, { proportions, tau, negatives }), proportions);
  const optimal = Array.from({ length: k }, (_, i) => Array.from(sol.gram.subarray(i * k, (i + 1) * k)));
  const cmp = compareGeometry(learned.gram, optimal);
  printMatrix(`learned G (normalised class means of the L2-normalised ${space})`, learned.gram.flat(), k, 4);
  console.log(`|G_learned - G_optimal|_F = ${cmp.distance.toFixed(6)}`);
  console.log('pair  learned(deg)  optimal(deg)  difference');
  for (const p of cmp.pairs) console.log(`${`${p.i},${p.j}`.padEnd(5)} ${p.learned.toFixed(2).padStart(12)}  ${p.optimal.toFixed(2).padStart(12)}  ${fmt(p.difference, 2).padStart(10)}`);
  const show = (g: number[][]) => g.map((x) => `{${x.join(',')}}`).join(' ') || 'none';
  console.log(`collapse groups: learned (means < 30 deg apart) ${show(cmp.learnedGroups)}; optimal ${show(cmp.optimalGroups)}`);
  console.log(JSON.stringify({
    run: dir, space, loss, tau, negatives, note: auto.note, proportions, distance: cmp.distance, pairs: cmp.pairs,
    learnedGroups: cmp.learnedGroups, optimalGroups: groups.filter((g) => g.length > 1), learnedGram: learned.gram, optimalGram: optimal,
    kktResidual: sol.certificate.residual,
  }));
}

const loss = (values.loss ?? 'supcon') as GeometryLoss;
const tau = Number(values.tau ?? 0.1);
const negatives = Number(values.negatives ?? 255);
if (values.run !== undefined) {
  await compareRun(values.run);
} else if (values.sweep) {
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
  if (values.html !== undefined) {
    await writeFileAtomic(values.html, new TextEncoder().encode(renderSweep({ loss, classes, majority, rows })));
    console.log(`wrote ${values.html}`);
  }
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
  const { sol, groups, rank, lo, hi } = solveAndPrint(geometryObjective(loss, { proportions, tau, negatives }), proportions);
  const k = proportions.length;
  const c = sol.certificate;
  console.log(JSON.stringify({
    loss, tau, negatives, proportions, value: sol.value, iterations: sol.iterations, converged: sol.converged, milliseconds: sol.milliseconds,
    kktResidual: c.residual, minEigenvalue: c.minEigenvalue, gapBound: c.gapBound, rank, offDiagonal: [lo, hi],
    collapseGroups: groups.filter((g) => g.length > 1), gram: k <= 12 ? Array.from(sol.gram) : undefined,
  }));
}
