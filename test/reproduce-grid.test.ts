// npm run reproduce end to end on a two-cell grid (smoke scale: 100 Fashion-MNIST images, 2 epochs):
// every cell an ordinary run folder with its report, results.{json,md,html} with the verdicts, a rerun
// that skips finished cells, a grid killed mid-cell (a real SIGKILL in a child process, after the
// cell's first checkpoint) that resumes to the same numbers, and the geometry suite over the runs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { main } from '../src/cli/reproduce.js';
import type { CliIo } from '../src/cli/train.js';
import { useTempDirs } from './helpers.js';
import { torchPython } from './reference/python.js';

const tempDir = useTempDirs('wgc-reproduce-');
const GRID = ['--suite', 'two-classes', '--scale', 'smoke', '--seeds', '0,1', '--only', 'supcon-50'];

async function here(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), tty: false, write: () => {} };
  return { code: await main(args, io), out, err };
}

function child(args: string[], fault: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const c = spawn('node_modules/.bin/tsx', ['src/cli/reproduce.ts', ...args], { env: { ...process.env, WEBGPU_CONTRASTIVE_FAULT: fault } });
  let stderr = '';
  c.stderr.on('data', (d) => (stderr += d));
  c.stdout.resume();
  return new Promise((resolve) => c.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

const results = (out: string) => JSON.parse(readFileSync(join(out, 'two-classes', 'results.json'), 'utf8'));
/** The numbers of a results.json, without the wall times (which differ run to run). */
const numbers = (r: { groups: { metrics: unknown; perClass: unknown; seeds: unknown }[]; verdicts: { claim: { id: string }; verdict: string }[] }) => ({
  groups: r.groups.map((g) => ({ metrics: g.metrics, perClass: g.perClass, seeds: g.seeds })),
  verdicts: r.verdicts.map((v) => [v.claim.id, v.verdict]),
});
const cellDir = (out: string, seed: number) => join(out, 'two-classes', 'supcon-50', `seed-${seed}`);

describe('reproduce: a two-cell grid', () => {
  let whole = '';
  beforeAll(async () => {
    await T.init({ log: false });
    whole = tempDir();
  });

  it('runs every cell as a run folder and writes results with verdicts; a rerun skips finished cells', async () => {
    const r = await here([...GRID, '--out', whole]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    for (const seed of [0, 1]) for (const f of ['summary.json', 'metrics.json', 'checkpoint.safetensors', 'report.html', 'log.jsonl']) expect(existsSync(join(cellDir(whole, seed), f)), `seed ${seed} ${f}`).toBe(true);
    const res = results(whole);
    expect(res.groups.map((g: { group: { id: string }; seeds: number[] }) => [g.group.id, g.seeds])).toEqual([['supcon-50', [0, 1]]]);
    expect(res.groups[0].metrics.balacc.n).toBe(2);
    expect(res.verdicts.find((v: { claim: { id: string } }) => v.claim.id === 'tc-supcon-degrades').verdict).toBe('not run');
    expect(r.out.some((l) => /^\[reproduce\] tc-balanced-separates: /.test(l))).toBe(true);
    const md = readFileSync(join(whole, 'two-classes', 'results.md'), 'utf8');
    expect(md).toContain('## Claims');
    expect(md).toMatch(/\| SupCon, 50 % \| 2 \|/);
    expect(readFileSync(join(whole, 'two-classes', 'results.html'), 'utf8')).toContain('<svg');
    expect(JSON.parse(r.out.at(-1)!).suites['two-classes'].verdicts['tc-collapse']).toBeDefined();

    const again = await here([...GRID, '--out', whole]);
    expect(again.code).toBe(0);
    expect(again.out).toContain('[reproduce] 2 cells: 2 finished, 0 to run');
    expect(numbers(results(whole))).toEqual(numbers(res));
  }, 180_000);

  it('killed in the middle of its second cell, resumes that cell from its checkpoint to the same results', async () => {
    const killed = tempDir();
    // Steps are counted per run: step 10 is in epoch 2 of a cell; its second hit is in the second cell.
    const c = await child([...GRID, '--out', killed], 'step:10#2');
    expect(c.signal === 'SIGKILL' || c.code === 137, `exit ${c.code} / ${c.signal}: ${c.stderr}`).toBe(true);
    expect(existsSync(join(cellDir(killed, 0), 'summary.json'))).toBe(true);
    expect(existsSync(join(cellDir(killed, 1), 'checkpoint.safetensors'))).toBe(true);
    expect(existsSync(join(cellDir(killed, 1), 'summary.json'))).toBe(false);
    const r = await here([...GRID, '--out', killed]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('[reproduce] 2 cells: 1 finished, 1 to run (1 resumed from their checkpoint)');
    expect(r.out.some((l) => /cell 2\/2: supcon-50 seed 1 \(resuming\)/.test(l))).toBe(true);
    expect(numbers(results(killed))).toEqual(numbers(results(whole)));
    for (const seed of [0, 1]) {
      const final = (d: string) => JSON.parse(readFileSync(join(cellDir(d, seed), 'summary.json'), 'utf8')).final;
      expect(final(killed)).toEqual(final(whole));
    }
  }, 180_000);

  it('the geometry suite compares every finished run with its optimum and writes geometry.json beside it', async () => {
    const r = await here(['--suite', 'geometry', '--scale', 'smoke', '--seeds', '0,1', '--only', 'supcon-50', '--out', whole]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('[reproduce] geometry: 2 finished runs analysed');
    for (const seed of [0, 1]) {
      const g = JSON.parse(readFileSync(join(cellDir(whole, seed), 'geometry.json'), 'utf8'));
      expect(g.space).toBe('projections');
      expect(g.learned).toHaveLength(2);
      expect(g.distance).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(g.distance)).toBe(true);
    }
    const md = readFileSync(join(whole, 'geometry', 'results.md'), 'utf8');
    expect(md).toMatch(/\| two-classes\/supcon-50\/seed-0 \| projections \| \d+\.\d{3} \|/);
  }, 60_000);

  const skipTorch = 'python' in torchPython ? '' : ` (skipped: ${torchPython.missing})`;
  it.skipIf(skipTorch)(`--peer torch runs the same cells in PyTorch and puts them beside ours${skipTorch}`, async () => {
    const py = (torchPython as { python: string }).python;
    const self = spawnSync(py, ['bench/peer/torch_cell.py', '--self-test'], { encoding: 'utf8' });
    expect(self.status, self.stderr).toBe(0);
    const r = await here([...GRID, '--out', whole, '--peer', 'torch']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('[reproduce] 2 cells: 2 finished, 0 to run');
    const peerCell = join(whole, 'two-classes', 'peer-torch', 'supcon-50', 'seed-1');
    const summary = JSON.parse(readFileSync(join(peerCell, 'summary.json'), 'utf8'));
    expect(summary.peer).toMatch(/^torch /);
    expect(summary.config.binaryTotal).toBe(100);
    expect(summary.trainCounts).toEqual([50, 50]);
    const res = results(whole);
    expect(res.peer.name).toBe('torch');
    expect(res.peer.groups[0].seeds).toEqual([0, 1]);
    expect(Object.keys(res.peer.groups[0].metrics)).toEqual(expect.arrayContaining(['balacc', 'auc', 'saa_min', 'cac_maj']));
    const md = readFileSync(join(whole, 'two-classes', 'results.md'), 'utf8');
    expect(md).toMatch(/\| SupCon, 50 % \(torch\) \| 2 \|/);
    expect(md).toContain('## Ours against the torch peer');
  }, 180_000);
});
