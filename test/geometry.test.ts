// The optimal-geometry solver (issue 8): pure CPU, float64, no device needed.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certify, collapseGroups, collapseThreshold, geometryObjective, recoverMeans, solveGeometry, twoLevelProportions,
  type GeometryLoss,
} from '../src/index.js';
import { gram } from '../src/geometry/linalg.js';
import { Rng } from '../src/data/random.js';
import { compareGeometry, runObjective } from '../src/geometry/learned.js';
import { saveSafetensors } from '../src/io/node/safetensors.js';

/** The ETF Gram matrix: 1 on the diagonal, −1/(K−1) elsewhere. */
function etf(k: number): Float64Array {
  return Float64Array.from({ length: k * k }, (_, i) => (Math.floor(i / k) === i % k ? 1 : -1 / (k - 1)));
}

function maxOffDiagonalError(g: Float64Array, k: number, target: number): number {
  let err = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) if (i !== j) err = Math.max(err, Math.abs(g[i * k + j] - target));
  return err;
}

/** A random feasible G (random unit rows). */
function randomGram(k: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const v = Float64Array.from({ length: k * k }, () => rng.uniform(-1, 1));
  for (let i = 0; i < k; i++) {
    const n = Math.hypot(...v.subarray(i * k, i * k + k));
    for (let l = 0; l < k; l++) v[i * k + l] /= n;
  }
  return gram(v, k, k);
}

describe('optimal geometry: balanced classes give the simplex ETF', () => {
  for (const loss of ['supcon', 'bcl'] as const) {
    for (const k of [2, 3, 5, 10]) {
      it(`${loss}, K = ${k}`, () => {
        const sol = solveGeometry(geometryObjective(loss, { proportions: new Array(k).fill(1), tau: 0.1, negatives: 255 }));
        expect(maxOffDiagonalError(sol.gram, k, -1 / (k - 1))).toBeLessThan(1e-6);
        expect(sol.certificate.residual).toBeLessThan(1e-8);
      });
    }
  }
});

describe('optimal geometry: BCL under imbalance', () => {
  const p = [0.5, 0.3, 0.2];
  it('the class-balanced-anchor form (w_i = 1/K) gives the ETF for any p', () => {
    const sol = solveGeometry(geometryObjective('bcl-balanced', { proportions: [0.7, 0.2, 0.06, 0.04], tau: 0.1 }));
    expect(maxOffDiagonalError(sol.gram, 4, -1 / 3)).toBeLessThan(1e-6);
  });
  it('K = 2: antipodal means for any p', () => {
    const sol = solveGeometry(geometryObjective('bcl', { proportions: [0.9, 0.1], tau: 0.1 }));
    expect(sol.gram[1]).toBeCloseTo(-1, 8);
  });
  // BCL Theorem 3 claims the simplex for any p. With anchors weighted by p (BalSCL averages over samples)
  // the ETF is not even stationary for K ≥ 3 (row i of ∇f·V contains Σ_j p_j v_j, not parallel to v_i):
  // the theorem's Jensen step needs Σ_y n_y Σ_{q≠y} G_yq minimal at the ETF, true only for balanced n.
  it('K = 3 with anchors weighted by p: the ETF is NOT optimal (certificate fails, the solver does better)', () => {
    const objective = geometryObjective('bcl', { proportions: p, tau: 0.5 });
    const atEtf = certify(objective, etf(3));
    expect(atEtf.stationarity).toBeGreaterThan(1e-4);
    const sol = solveGeometry(objective);
    expect(sol.certificate.residual).toBeLessThan(1e-8);
    expect(objective.evaluate(etf(3)).value - sol.value).toBeGreaterThan(1e-6);
    expect(maxOffDiagonalError(sol.gram, 3, -0.5)).toBeGreaterThan(1e-3);
  });
});

describe('optimal geometry: objective gradients', () => {
  const cases: [GeometryLoss, number[]][] = [
    ['supcon', [0.4, 0.3, 0.2, 0.1]],
    ['bcl', [0.4, 0.3, 0.2, 0.1]],
    ['bcl-balanced', [0.6, 0.25, 0.1, 0.05]],
  ];
  for (const [loss, p] of cases) {
    it(`${loss}: symmetric gradient matches central differences`, () => {
      const k = p.length;
      const objective = geometryObjective(loss, { proportions: p, tau: 0.3, negatives: 31 });
      const g = randomGram(k, 7);
      const { grad } = objective.evaluate(g);
      const h = 1e-5;
      for (let i = 0; i < k; i++) {
        for (let j = i; j < k; j++) {
          const plus = Float64Array.from(g);
          const minus = Float64Array.from(g);
          // A symmetric perturbation H = E_ij + E_ji (E_ii on the diagonal): ⟨∇f, H⟩ = 2∇f_ij (i ≠ j) or ∇f_ii.
          for (const [a, b] of i === j ? [[i, i]] : [[i, j], [j, i]]) {
            plus[a * k + b] += h;
            minus[a * k + b] -= h;
          }
          const fd = (objective.evaluate(plus).value - objective.evaluate(minus).value) / (2 * h);
          const analytic = (i === j ? 1 : 2) * grad[i * k + j];
          expect(Math.abs(fd - analytic)).toBeLessThan(1e-7 * Math.max(1, Math.abs(analytic)));
        }
      }
    });
  }
});

describe('optimal geometry: solver certificate and restarts', () => {
  const p = [0.35, 0.25, 0.15, 0.12, 0.08, 0.05];
  const objective = geometryObjective('supcon', { proportions: p, tau: 0.2, negatives: 63 });
  const solutions = [0, 1, 2].map((seed) => solveGeometry(objective, { seed }));
  it('reaches the KKT tolerance', () => {
    for (const s of solutions) {
      expect(s.converged).toBe(true);
      expect(s.certificate.residual).toBeLessThan(1e-8);
      expect(s.certificate.gapBound).toBeLessThan(1e-8);
    }
  });
  it('random restarts reach the same objective and Gram matrix', () => {
    for (const s of solutions.slice(1)) {
      expect(Math.abs(s.value - solutions[0].value)).toBeLessThan(1e-11);
      for (let i = 0; i < p.length ** 2; i++) expect(Math.abs(s.gram[i] - solutions[0].gram[i])).toBeLessThan(1e-5);
    }
  });
  it('a non-optimal feasible point fails the certificate', () => {
    expect(certify(objective, randomGram(p.length, 3)).residual).toBeGreaterThan(1e-3);
  });
  it('recovers means whose Gram matrix is G', () => {
    const { means, rank } = recoverMeans(solutions[0].gram, p.length);
    const back = gram(means, p.length, rank);
    for (let i = 0; i < back.length; i++) expect(back[i]).toBeCloseTo(solutions[0].gram[i], 8);
  });
});

describe('optimal geometry: minority collapse (K = 4, two majority classes)', () => {
  const problem = { loss: 'supcon' as const, classes: 4, majority: 2, tau: 0.5, negatives: 255 };
  const { ratio: threshold, converged } = collapseThreshold(problem, { relativeTolerance: 1e-3 });
  const solveAt = (ratio: number) =>
    solveGeometry(geometryObjective('supcon', { proportions: twoLevelProportions(4, 2, ratio), tau: problem.tau, negatives: problem.negatives }));

  it('has a finite threshold', () => {
    expect(converged).toBe(true);
    expect(threshold).toBeGreaterThan(10);
    expect(threshold).toBeLessThan(1e4);
  });
  it('minorities stay apart below the threshold', () => {
    const sol = solveAt(threshold / 2);
    expect(sol.certificate.residual).toBeLessThan(1e-8);
    expect(sol.gram[2 * 4 + 3]).toBeLessThan(1 - 1e-3);
    expect(collapseGroups(sol.gram, 4)).toHaveLength(4);
  });
  it('minorities coincide past the threshold', () => {
    const sol = solveAt(threshold * 2);
    expect(sol.certificate.residual).toBeLessThan(1e-8);
    expect(sol.gram[2 * 4 + 3]).toBeGreaterThan(1 - 1e-6);
    expect(collapseGroups(sol.gram, 4)).toEqual([[0], [1], [2, 3]]);
  });
  // Derivation (src/geometry/analysis.ts): with few negatives the loss is in its linear regime
  // f ≈ N Σ p_i p_j e^{(G_ij − 1)/τ}, where two coinciding minorities repel at full strength e⁰; with many,
  // each anchor's softmax caps its repulsion, and collapse is cheaper: ρ* falls with N (m = 2).
  it('the threshold falls as the number of negatives grows (τ = 0.5)', () => {
    const at = (negatives: number) => collapseThreshold({ ...problem, negatives }, { relativeTolerance: 1e-3 }).ratio;
    const few = at(4);
    const many = at(4096);
    expect(few).toBeGreaterThan(threshold * 1.5);
    expect(many).toBeLessThan(threshold);
  });
  // ...but not for every m: with a single majority class the cap also weakens the majority anchor's push.
  it('with one majority class (K = 6) the threshold rises slightly with N instead', () => {
    const at = (negatives: number) => collapseThreshold({ ...problem, classes: 6, majority: 1, negatives }, { relativeTolerance: 1e-3 }).ratio;
    expect(at(16)).toBeLessThan(at(4096));
  });
  it('with three majority classes (K = 6) the minorities never collapse', () => {
    expect(collapseThreshold({ ...problem, classes: 6, majority: 3 }).ratio).toBe(Infinity);
  });
});

describe('optimal geometry: the expected-counts SupCon model', () => {
  // ℓ_i(n) = −G_ii/τ + log(e^{G_ii/τ} + Σ_j n_j e^{G_ij/τ}) with n ~ Multinomial(N, p); the module puts
  // E n = N p inside the log. log is concave, so that is an upper bound (Jensen), tight as N grows.
  const p = [0.6, 0.3, 0.1];
  const tau = 0.5;
  const g = randomGram(3, 11);
  const exact = (n: number): number => {
    let total = 0;
    const fact = (x: number): number => (x <= 1 ? 1 : x * fact(x - 1));
    for (let a = 0; a <= n; a++) {
      for (let b = 0; a + b <= n; b++) {
        const counts = [a, b, n - a - b];
        const prob = (fact(n) / (fact(a) * fact(b) * fact(n - a - b))) * p.reduce((s, q, j) => s * q ** counts[j], 1);
        for (let i = 0; i < 3; i++) {
          const den = Math.exp(g[i * 4] / tau) + counts.reduce((s, c, j) => s + c * Math.exp(g[i * 3 + j] / tau), 0);
          total += prob * p[i] * (-g[i * 4] / tau + Math.log(den));
        }
      }
    }
    return total;
  };
  it('is an upper bound whose gap shrinks with N', () => {
    const gaps = [2, 8, 32].map((n) => geometryObjective('supcon', { proportions: p, tau, negatives: n }).evaluate(g).value - exact(n));
    for (const gap of gaps) expect(gap).toBeGreaterThan(0);
    expect(gaps[1]).toBeLessThan(gaps[0]);
    expect(gaps[2]).toBeLessThan(gaps[1]);
  });
});

describe('geometry CLI', () => {
  it('prints the certificate and ends with one JSON line', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync('npx', ['tsx', 'src/cli/geometry.ts', '--proportions', '0.5,0.3,0.2', '--loss', 'bcl', '--tau', '0.5'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]) as { kktResidual: number; gram: number[]; collapseGroups: number[][] };
    expect(summary.kktResidual).toBeLessThan(1e-8);
    expect(summary.gram).toHaveLength(9);
    expect(summary.collapseGroups).toEqual([]);
    expect(out).toContain('KKT:');
  });
});

describe('learned vs optimal (geometry --run)', () => {
  const k = 3;
  /** ETF vertices in the plane: unit vectors 120° apart. */
  const etfVertex = (c: number) => [Math.cos((2 * Math.PI * c) / k), Math.sin((2 * Math.PI * c) / k), 0];
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'geometry-run-'));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** A run directory: summary.json and embeddings.safetensors whose rows of class c are `row(c)` (10 per class). */
  async function writeRun(name: string, row: (c: number) => number[], extra: { projections?: (c: number) => number[]; config?: object } = {}): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const config = extra.config ?? { recipe: 'supcon', temperature: 0.5, batchSize: 8 };
    await writeFile(join(dir, 'summary.json'), JSON.stringify({ config, trainCounts: [10, 10, 10] }));
    const labels = Int32Array.from({ length: 10 * k }, (_, i) => i % k);
    // Rows are scaled by 2 + i (the learned Gram is of normalised rows, so the scale must not matter).
    const rows = (f: (c: number) => number[]) => Float32Array.from(Array.from(labels, (c, i) => f(c).map((v) => v * (2 + i))).flat());
    const tensors: Record<string, { data: Float32Array | Int32Array; shape: number[] }> = { embeddings: { data: rows(row), shape: [labels.length, 3] }, labels: { data: labels, shape: [labels.length] } };
    if (extra.projections) tensors.projections = { data: rows(extra.projections), shape: [labels.length, 3] };
    await saveSafetensors(join(dir, 'embeddings.safetensors'), tensors);
    return dir;
  }

  const cli = (args: string[]) => promisify(execFile)('npx', ['tsx', 'src/cli/geometry.ts', ...args]);
  const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!);

  it('runObjective maps each recipe to its loss, τ and N = 2B − 2', () => {
    expect(runObjective({ recipe: 'supcon', temperature: 0.07, batchSize: 64 })).toMatchObject({ loss: 'supcon', tau: 0.07, negatives: 126 });
    expect(runObjective({ recipe: 'bcl', temperature: 0.1, batchSize: 128 })).toMatchObject({ loss: 'bcl', tau: 0.1 });
    expect(runObjective({ recipe: 'bcl', bclAblation: 'complement', temperature: 0.1, batchSize: 4 })).toMatchObject({ loss: 'supcon', negatives: 6 });
    expect(runObjective({ recipe: 'ce', temperature: 0.1, batchSize: 128 })).toMatchObject({ loss: 'supcon', negatives: 254, note: expect.stringMatching(/no contrastive loss/) });
    expect(runObjective({ recipe: 'rebsupcon', temperature: 0.2, batchSize: 32, queueSize: 100 })).toMatchObject({ loss: 'supcon', tau: 0.2, negatives: 162 });
    expect(runObjective(undefined)).toMatchObject({ loss: 'supcon', tau: 0.1, negatives: 255 });
  });

  it('compareGeometry: distance, pair angles and groups of a collapsed set against the ETF', () => {
    const collapsed = [[1, -1, -1], [-1, 1, 1], [-1, 1, 1]];
    const etfRows = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : -0.5)));
    const cmp = compareGeometry(collapsed, etfRows);
    expect(cmp.distance).toBeCloseTo(Math.sqrt(5.5), 12); // four entries off by 0.5, two by 1.5
    expect(cmp.pairs.map((p) => Math.round(p.difference))).toEqual([60, 60, -120]);
    expect(cmp.learnedGroups).toEqual([[1, 2]]);
    expect(cmp.optimalGroups).toEqual([]);
    expect(() => compareGeometry(collapsed, [[1]])).toThrow(/compareGeometry: expected two K×K Gram matrices of the same K/);
  });

  it('the CLI compares a run with its optimum: learned ETF at balanced proportions gives distance 0; a collapsed set √5.5', async () => {
    const etfRun = await writeRun('etf', etfVertex);
    // The collapsed run saves projections (compared) and ETF embeddings (ignored when projections exist).
    const collapsedRun = await writeRun('collapsed', etfVertex, { projections: (c) => (c === 0 ? [1, 0, 0] : [-1, 0, 0]) });
    const bare = join(root, 'bare');
    await mkdir(bare);
    await writeFile(join(bare, 'summary.json'), JSON.stringify({ trainCounts: [10, 10, 10] }));
    const [a, b, missing, noEmb] = await Promise.allSettled([cli(['--run', etfRun]), cli(['--run', collapsedRun]), cli(['--run', join(root, 'nope')]), cli(['--run', bare])]);
    if (a.status !== 'fulfilled' || b.status !== 'fulfilled') throw new Error('geometry --run failed');
    const etf = lastJson(a.value.stdout);
    expect(etf).toMatchObject({ space: 'embeddings', loss: 'supcon', tau: 0.5, negatives: 14, learnedGroups: [], optimalGroups: [] });
    expect(etf.kktResidual).toBeLessThan(1e-8);
    expect(etf.distance).toBeLessThan(1e-6);
    expect(a.value.stdout).toContain('|G_learned - G_optimal|_F = 0.000000');
    const col = lastJson(b.value.stdout);
    expect(col.space).toBe('projections');
    expect(col.distance).toBeCloseTo(Math.sqrt(5.5), 5);
    expect(col.learnedGroups).toEqual([[1, 2]]);
    expect(b.value.stdout).toMatch(/collapse groups: learned \(means < 30 deg apart\) \{1,2\}; optimal none/);
    expect(missing).toMatchObject({ status: 'rejected', reason: { code: 1, stderr: expect.stringMatching(/\[geometry\] --run: run directory '.*nope' does not exist/) } });
    expect(noEmb).toMatchObject({ status: 'rejected', reason: { code: 1, stderr: expect.stringMatching(/\[geometry\] --run: '.*bare' has no usable embeddings\.safetensors/) } });
  }, 120_000);
});
