// One suite from grid to verdicts: run (or resume) its cells, the peer's if asked, read what they left,
// aggregate over seeds, judge the claims and write results.json / results.md / results.html into
// <out>/<suite>/. The geometry suite analyses the finished runs of the other suites instead.

import { cpus, totalmem } from 'node:os';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../io/node/atomic.js';
import { judgeClaims, parseClaims, type Claim } from '../claims.js';
import { renderHtml, renderMarkdown, type GeometryRow } from '../render.js';
import { aggregate, claimData, type SuiteResults } from '../results.js';
import { suite as suiteOf, type Scale, type Suite, type SuiteData, type SuiteName } from '../suites.js';
import { analyseGeometry, cellState, cellsOf, readCells, runGrid, suiteDir, type Cell, type GridOptions, type Peer } from './grid.js';

/** The claims table shipped with the repository. */
export const CLAIMS_FILE = fileURLToPath(new URL('../../../docs/claims.md', import.meta.url));

/** Reads and parses a claims file (the repository's by default). */
export async function loadClaims(file = CLAIMS_FILE): Promise<Claim[]> {
  return parseClaims(await readFile(file, 'utf8'), file);
}

/** What `npm run reproduce` asks of one suite. */
export interface ReproduceOptions extends Omit<GridOptions, 'peer'> {
  scale: Scale;
  seeds: number[];
  out: string;
  data?: SuiteData;
  /** Only these group ids (all when absent). */
  only?: string[];
  peer?: Peer;
  claims: Claim[];
}

const machine = () => `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
const bytes = (s: string) => new TextEncoder().encode(s);

/** A suite with only the groups asked for (all when `only` is absent). */
export function selectGroups(s: Suite, only?: string[]): Suite {
  return only ? { ...s, groups: s.groups.filter((g) => only.includes(g.id)) } : s;
}

/** Writes results.json, results.md and results.html into `dir`; returns the paths. */
async function writeResults(dir: string, r: SuiteResults, geometry?: GeometryRow[]): Promise<string[]> {
  const files = [
    ['results.json', `${JSON.stringify({ ...r, geometry }, null, 1)}\n`],
    ['results.md', renderMarkdown(r, geometry)],
    ['results.html', renderHtml(r, geometry)],
  ] as const;
  await mkdir(dir, { recursive: true });
  for (const [name, text] of files) await writeFileAtomic(join(dir, name), bytes(text));
  return files.map(([name]) => join(dir, name));
}

/** The results of a suite's grid as they stand (finished cells only), with its claims judged. */
export async function collectResults(s: Suite, opts: Pick<ReproduceOptions, 'seeds' | 'out' | 'peer' | 'claims'>, wallSeconds?: number): Promise<SuiteResults> {
  const cells = await readCells(cellsOf(s, opts.seeds, opts.out));
  const groups = aggregate(s.groups, cells);
  const peerCells = opts.peer ? await readCells(cellsOf(s, opts.seeds, opts.out, opts.peer)) : undefined;
  const first = [...cells.values()][0]?.values().next().value;
  return {
    suite: s, machine: machine(), adapter: first?.summary.adapter ?? 'unknown', seeds: opts.seeds,
    wallSeconds: wallSeconds ?? groups.reduce((a, g) => a + g.wallSeconds, 0),
    groups,
    peer: peerCells && { name: opts.peer!, groups: aggregate(s.groups, peerCells) },
    verdicts: judgeClaims(opts.claims.filter((c) => c.suite === s.name), claimData(cells)),
  };
}

/** Runs one training suite (two-classes, long-tail, rebsupcon) and writes its results. */
export async function reproduceSuite(name: Exclude<SuiteName, 'geometry'>, opts: ReproduceOptions): Promise<{ results: SuiteResults; files: string[] }> {
  const s = selectGroups(suiteOf(name, opts.scale, opts.data), opts.only);
  const grid: GridOptions = { log: opts.log, progress: opts.progress, signal: opts.signal };
  opts.log(`[reproduce] ${s.name} (${s.scale}): ${s.groups.length} groups × ${opts.seeds.length} seeds in ${suiteDir(opts.out, s)}`);
  await runGrid(cellsOf(s, opts.seeds, opts.out), grid);
  if (opts.peer) {
    opts.log(`[reproduce] ${s.name}: the same cells with the ${opts.peer} peer`);
    await runGrid(cellsOf(s, opts.seeds, opts.out, opts.peer), { ...grid, peer: opts.peer });
  }
  const results = await collectResults(s, opts);
  return { results, files: await writeResults(suiteDir(opts.out, s), results) };
}

/**
 * The geometry suite: every finished run of the other suites under `out` (at this scale and seeds),
 * its learned class-mean Gram matrix against the optimum at its proportions (geometry.json in each run).
 */
export async function reproduceGeometry(opts: ReproduceOptions): Promise<{ results: SuiteResults; files: string[] }> {
  const rows: GeometryRow[] = [];
  const cells: Cell[] = (['two-classes', 'long-tail', 'rebsupcon'] as const).flatMap((n) => cellsOf(selectGroups(suiteOf(n, opts.scale, opts.data), opts.only), opts.seeds, opts.out));
  for (const c of cells) {
    if ((await cellState(c.dir)) !== 'done') continue;
    const got = await analyseGeometry(c.dir);
    const run = `${c.dir.slice(opts.out.length + 1)}`;
    if (typeof got === 'string') {
      opts.log(`[reproduce] geometry: ${run}: ${got}`);
      continue;
    }
    rows.push({ run, suite: run.split('/')[0], group: c.group.id, space: got.space, distance: got.distance, learnedGroups: got.learnedGroups, optimalGroups: got.optimalGroups });
  }
  const s = suiteOf('geometry', opts.scale, opts.data);
  opts.log(`[reproduce] geometry: ${rows.length} finished runs analysed`);
  const results: SuiteResults = { suite: s, machine: machine(), adapter: '', seeds: opts.seeds, wallSeconds: 0, groups: [], verdicts: [] };
  return { results, files: await writeResults(suiteDir(opts.out, s), results, rows) };
}
