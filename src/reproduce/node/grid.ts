// Running a suite's grid as ordinary run folders, <out>/<suite>/<group>/seed-<s>/ (the PyTorch peer's
// under <out>/<suite>/peer-torch/...): a finished cell (summary.json written) is skipped, an interrupted
// one resumes from its checkpoint, a new one starts; so the command can be killed and run again.

import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathExists } from '../../data/node/idx-files.js';
import { writeFileAtomic } from '../../io/node/atomic.js';
import { loadRun, writeReport } from '../../report/node/load-run.js';
import { learnedAgainstOptimal } from '../../report/analysis.js';
import { resolveConfig } from '../../train/config.js';
import type { StepProgress } from '../../train/loop.js';
import { UsageError } from '../../train/options.js';
import { CHECKPOINT, formatDuration, train } from '../../train/node/trainer.js';
import { parseTrainArgs } from '../../train/node/args.js';
import type { CellFiles, GroupCells } from '../results.js';
import type { Group, Suite } from '../suites.js';

/** One cell of a grid: a group at one seed, in its run folder. */
export interface Cell {
  group: Group;
  seed: number;
  dir: string;
  /** The `npm run train` flags of the cell (suite's, group's, seed and folder). */
  argv: string[];
}

/** The peers a grid can run beside ours. */
export const PEERS = ['torch'] as const;
export type Peer = (typeof PEERS)[number];

/** The run folder of a suite's cells (ours, or a peer's). */
export const suiteDir = (out: string, suite: Suite, peer?: Peer) => join(out, suite.name, ...(peer ? [`peer-${peer}`] : []));

/** Every cell of `suite` at `seeds`, group by group. */
export function cellsOf(suite: Suite, seeds: readonly number[], out: string, peer?: Peer): Cell[] {
  return suite.groups.flatMap((group) => seeds.map((seed) => {
    const dir = join(suiteDir(out, suite, peer), group.id, `seed-${seed}`);
    return { group, seed, dir, argv: [...suite.common, ...group.args, '--seed', String(seed), '--out', dir] };
  }));
}

/** A cell's state from its folder: done (summary.json), interrupted (a checkpoint) or new. */
export async function cellState(dir: string): Promise<'done' | 'interrupted' | 'new'> {
  if (await pathExists(join(dir, 'summary.json'))) return 'done';
  return (await pathExists(join(dir, CHECKPOINT))) ? 'interrupted' : 'new';
}

/** Options of {@link runGrid}. */
export interface GridOptions {
  /** Progress and status lines. */
  log: (line: string) => void;
  /** Each progress window of a cell's training (a terminal's progress line); without it, none is shown. */
  progress?: (p: StepProgress, cell: Cell, epochs: number) => void;
  signal?: AbortSignal;
  /** Run the cells with this peer instead of our trainer. */
  peer?: Peer;
}

/** What {@link runGrid} did. */
export interface GridRun {
  ran: number;
  resumed: number;
  skipped: number;
  /** Wall seconds of the cells run now. */
  seconds: number;
}

const jsonBytes = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v)}\n`);

const PEER_SCRIPT = fileURLToPath(new URL('../../../bench/peer/torch_cell.py', import.meta.url));

/**
 * Whether the PyTorch peer can run: python3 on the PATH, or Debian's /usr/bin/python3 (where
 * python3-torch installs it, and where the peer re-executes itself when another python3 comes first).
 */
export function torchAvailable(): boolean {
  return ['python3', '/usr/bin/python3'].some((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

/** Runs one cell with the PyTorch peer: `python3 bench/peer/torch_cell.py CONFIG.json DIR`. */
async function runPeerCell(cell: Cell, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  if (!(await pathExists(PEER_SCRIPT))) throw new UsageError(`--peer torch: ${PEER_SCRIPT} is missing`);
  const { config } = resolveConfig(parseTrainArgs(cell.argv).config);
  const configPath = join(cell.dir, 'peer-config.json');
  await mkdir(cell.dir, { recursive: true });
  await writeFileAtomic(configPath, jsonBytes({ config }));
  await new Promise<void>((resolve, reject) => {
    const child = spawn('python3', [PEER_SCRIPT, configPath, cell.dir], { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let err = '';
    // The peer's per-step lines are left out, as ours are without a terminal.
    child.stdout.on('data', (d: Buffer) => d.toString().split('\n').filter((l) => l && !/ step \d+\/\d+ /.test(l)).forEach((l) => log(`  ${l}`)));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(e.name === 'AbortError' ? e : new UsageError(`--peer torch: cannot run python3 (${e.message}); install it with SETUP_BENCH=1 npm run setup`)));
    child.on('close', (code) => {
      const last = err.trim().split('\n').pop() ?? '';
      if (code === 0) resolve();
      else if (/PyTorch is not installed|No module named 'torch'/.test(err)) reject(new UsageError('--peer torch: PyTorch is not installed (SETUP_BENCH=1 npm run setup installs Debian\'s python3-torch)'));
      else if (code === 3) reject(new UsageError(last));
      else reject(new Error(`torch peer failed on ${cell.dir} (exit ${code}): ${last}`));
    });
  });
}

/**
 * Runs every cell not finished yet, in order, through the ordinary trainer (or the peer), and writes
 * each cell's report. Finished cells are skipped, interrupted ones resumed from their checkpoint.
 */
export async function runGrid(cells: readonly Cell[], opts: GridOptions): Promise<GridRun> {
  const states = await Promise.all(cells.map((c) => cellState(c.dir)));
  const todo = states.filter((s) => s !== 'done').length;
  const result: GridRun = { ran: 0, resumed: 0, skipped: cells.length - todo, seconds: 0 };
  opts.log(`[reproduce] ${cells.length} cells: ${result.skipped} finished, ${todo} to run${states.includes('interrupted') ? ` (${states.filter((s) => s === 'interrupted').length} resumed from their checkpoint)` : ''}`);
  let done = 0;
  for (const [i, cell] of cells.entries()) {
    if (states[i] === 'done') {
      if (!opts.peer && !(await pathExists(join(cell.dir, 'report.html')))) await writeReport(cell.dir);
      continue;
    }
    opts.signal?.throwIfAborted();
    const start = performance.now();
    const eta = done ? ` · ETA ${formatDuration(((result.seconds / done) * (todo - done)))}` : '';
    opts.log(`[reproduce] cell ${result.skipped + done + 1}/${cells.length}: ${cell.group.id} seed ${cell.seed}${states[i] === 'interrupted' ? ' (resuming)' : ''}${eta}`);
    if (opts.peer) {
      await runPeerCell(cell, opts.log, opts.signal);
    } else {
      const { config } = parseTrainArgs(cell.argv);
      await train(config, {
        resume: states[i] === 'interrupted', overwrite: states[i] === 'new',
        log: (line) => { if (!line.startsWith('[train] adapter') && !line.startsWith('{')) opts.log(`  ${line}`); },
        progress: (p) => opts.progress?.(p, cell, config.epochs),
        signal: opts.signal,
      });
      await writeReport(cell.dir);
    }
    if (states[i] === 'interrupted') result.resumed++;
    result.ran++;
    done++;
    result.seconds += (performance.now() - start) / 1000;
  }
  return result;
}

/** Reads one finished cell's files (null when it has not finished). */
export async function readCell(dir: string): Promise<CellFiles | null> {
  const read = async (name: string) => (await pathExists(join(dir, name)) ? JSON.parse(await readFile(join(dir, name), 'utf8')) : undefined);
  const summary = await read('summary.json');
  if (!summary) return null;
  return { summary, metrics: await read('metrics.json'), geometry: await read('geometry.json') };
}

/** The finished cells of a grid, by group id then seed. */
export async function readCells(cells: readonly Cell[]): Promise<Map<string, GroupCells>> {
  const out = new Map<string, GroupCells>();
  for (const c of cells) {
    const files = await readCell(c.dir);
    if (!files) continue;
    if (!out.has(c.group.id)) out.set(c.group.id, new Map());
    out.get(c.group.id)!.set(c.seed, files);
  }
  return out;
}

/**
 * The geometry suite's work on one finished run: its learned class-mean Gram matrix against the
 * solver's optimum at its proportions, written as geometry.json beside its other files (once).
 */
export async function analyseGeometry(dir: string): Promise<NonNullable<CellFiles['geometry']> | string> {
  const path = join(dir, 'geometry.json');
  if (await pathExists(path)) return JSON.parse(await readFile(path, 'utf8'));
  const got = learnedAgainstOptimal(await loadRun(dir));
  if (got === null || typeof got === 'string') return got ?? `${dir}: no embeddings saved`;
  const geometry = {
    space: got.space, objective: got.optimal.objective, note: got.optimal.note,
    distance: got.comparison.distance, learnedGroups: got.comparison.learnedGroups, optimalGroups: got.comparison.optimalGroups,
    pairs: got.comparison.pairs, learned: got.learned, optimal: got.optimal.gram,
  };
  await writeFileAtomic(path, jsonBytes(geometry));
  return geometry;
}
