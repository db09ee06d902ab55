// The papers' claims from one command: a suite's grid of ordinary training runs over seeds, aggregated
// with error bars and judged claim by claim.
//   npm run reproduce -- --suite two-classes|long-tail|rebsupcon|geometry|all [--seeds 0,1,2] [--scale cpu|paper|smoke] [--out DIR]
// Rerunning the same command skips finished cells and resumes interrupted ones. Writes
// <out>/<suite>/results.{md,json,html}; prints each claim's verdict and, last, one JSON summary.
// Bad arguments: one line and exit status 2; interrupted (Ctrl-C): exit status 130, resumable.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DATASET_NAMES } from '../data/datasets.js';
import { PEERS, torchAvailable, type Cell, type Peer } from '../reproduce/node/grid.js';
import { CLAIMS_FILE, loadClaims, reproduceGeometry, reproduceSuite, selectGroups } from '../reproduce/node/reproduce.js';
import { evidenceText } from '../reproduce/render.js';
import { SCALES, SUITE_NAMES, suite, type Scale, type SuiteData, type SuiteName } from '../reproduce/suites.js';
import { resolveConfig } from '../train/config.js';
import { TrainingAborted, type StepProgress } from '../train/loop.js';
import { parseTrainArgs } from '../train/node/args.js';
import { progressLine } from '../train/node/trainer.js';
import { UsageError } from '../train/options.js';
import { processIo, type CliIo } from './train.js';

const HELP = `Usage: npm run reproduce -- --suite NAME [options]

Runs a grid of ordinary training runs (one run folder per group and seed), aggregates them over seeds
(mean ± sd, 95 % intervals of paired differences) and judges the papers' claims: holds, does not hold,
or not resolved at this scale. Rerun the same command to resume an interrupted grid.

  --suite two-classes|long-tail|rebsupcon|geometry|all
                        two-classes: SupCon / SupMin / SupProto × minority share 50 / 5 / 1 %;
                        long-tail: CE, logit-adjusted CE, balanced softmax, LC + SupCon, BCL and its
                        ablations; rebsupcon: Reb-SupCon's ablations against LC + SupCon; geometry:
                        learned vs optimal class-mean geometry of every finished run; all: each in turn
  --seeds 0,1,2         seeds (default 0,1,2)
  --scale cpu|paper|smoke
                        cpu: sized for a 2-core machine without a GPU (about an hour a suite);
                        paper: the papers' configurations (CIFAR, ResNet-32; for a GPU); smoke: a
                        seconds-long pipeline check that proves nothing (default cpu)
  --out DIR             where the run folders and results go (default runs/reproduce-<scale>)
  --only G1,G2          only these groups (ids as in the results tables, e.g. supcon-1,supmin-1)
  --dataset NAME        ${DATASET_NAMES.join('|')} (default fashion-mnist; paper scale: cifar10 / cifar100)
  --data-dir DIR        the dataset's folder;   --data-file FILE  MedMNIST's .npz
  --binary A,B          two-classes: the pair (B the minority; default Pullover,Coat = 2,4)
  --imbalance IF        long-tail, rebsupcon: the imbalance factor (default 100)
  --peer torch          also run every cell with the PyTorch implementation in bench/peer (needs
                        Debian's python3-torch: SETUP_BENCH=1 npm run setup) and show it beside ours
  --claims FILE         the claims table (default docs/claims.md)
  --help                this text`;

interface Parsed {
  suites: SuiteName[];
  scale: Scale;
  seeds: number[];
  out: string;
  only?: string[];
  data: SuiteData;
  peer?: Peer;
  claims: string;
}

const intList = (flag: string, v: string) => v.split(',').map((x) => {
  const n = Number(x.trim());
  if (x.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} must be a comma-separated list of non-negative integers, got "${v}"`);
  return n;
});

function choice<T extends string>(flag: string, v: string | undefined, allowed: readonly T[], dflt?: T): T {
  if (v === undefined) {
    if (dflt === undefined) throw new UsageError(`--${flag} is required: ${allowed.join(', ')}`);
    return dflt;
  }
  if (!allowed.includes(v as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

/** Parses and checks the command line (no GPU work, no training). */
export function parseReproduceArgs(argv: string[]): Parsed | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: Object.fromEntries(['suite', 'seeds', 'scale', 'out', 'only', 'dataset', 'data-dir', 'data-file', 'binary', 'imbalance', 'peer', 'claims', 'help']
        .map((f) => [f, { type: f === 'help' ? 'boolean' as const : 'string' as const }])),
    }));
  } catch (e) {
    throw new UsageError((e as Error).message.split(/\.\s/)[0].replace(/\.$/, ''));
  }
  if (values.help) return 'help';
  const str = (k: string) => values[k] as string | undefined;
  const name = choice('suite', str('suite'), [...SUITE_NAMES, 'all'] as const);
  const scale = choice('scale', str('scale'), SCALES, 'cpu');
  const seeds = intList('seeds', str('seeds') ?? '0,1,2');
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds lists a seed twice: "${str('seeds')}"`);
  const binary = str('binary') === undefined ? undefined : intList('binary', str('binary')!);
  if (binary && binary.length !== 2) throw new UsageError(`--binary takes two classes A,B, got "${str('binary')}"`);
  const imbalance = str('imbalance') === undefined ? undefined : Number(str('imbalance'));
  if (imbalance !== undefined && !(imbalance >= 1)) throw new UsageError(`--imbalance must be a number ≥ 1, got "${str('imbalance')}"`);
  const dataset = str('dataset') === undefined ? undefined : choice('dataset', str('dataset'), DATASET_NAMES);
  const data: SuiteData = { dataset, dataDir: str('data-dir'), dataFile: str('data-file'), binary: binary as [number, number] | undefined, imbalance };
  const suites: SuiteName[] = name === 'all' ? [...SUITE_NAMES] : [name];
  const only = str('only')?.split(',').map((x) => x.trim());
  const parsed: Parsed = {
    suites, scale, seeds, out: str('out') ?? `runs/reproduce-${scale}`, only, data,
    peer: str('peer') === undefined ? undefined : choice('peer', str('peer'), PEERS), claims: str('claims') ?? CLAIMS_FILE,
  };
  // Every cell's flags go through the trainer's own checks now, before any GPU work.
  const known = new Set<string>();
  for (const n of suites) {
    let s;
    try {
      s = suite(n, scale, data);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // The geometry suite reads the runs of the training suites: --only names their groups.
    if (n === 'geometry') for (const t of SUITE_NAMES) if (t !== 'geometry') suite(t, scale, data).groups.forEach((g) => known.add(g.id));
    s.groups.forEach((g) => known.add(g.id));
    for (const g of selectGroups(s, only).groups) resolveConfig(parseTrainArgs([...s.common, ...g.args]).config);
  }
  const unknown = only?.filter((g) => !known.has(g)) ?? [];
  if (unknown.length) throw new UsageError(`--only: no group ${unknown.join(', ')} in ${suites.join(', ')} (groups: ${[...known].join(', ')})`);
  if (parsed.peer === 'torch' && !torchAvailable()) {
    throw new UsageError('--peer torch needs python3 with PyTorch (SETUP_BENCH=1 npm run setup installs Debian\'s python3-torch)');
  }
  return parsed;
}

/** Runs the CLI on `argv`; returns the exit status (0 done, 1 failed, 2 bad arguments, 130 interrupted). */
export async function main(argv: string[], io: CliIo = processIo, signal?: AbortSignal): Promise<number> {
  let p: Parsed;
  try {
    const got = parseReproduceArgs(argv);
    if (got === 'help') {
      io.out(HELP);
      return 0;
    }
    p = got;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`reproduce: ${e.message} (see --help)`);
    return 2;
  }
  let barShown = false;
  const log = (line: string) => {
    if (barShown) io.write('\n');
    barShown = false;
    io.out(line);
  };
  const progress = io.tty
    ? (q: StepProgress, cell: Cell, epochs: number) => {
      io.write(`\r${cell.group.id} seed ${cell.seed}: ${progressLine(q, epochs)}\x1b[K`);
      barShown = true;
    }
    : undefined;
  const summary: Record<string, unknown> = {};
  try {
    const claims = await loadClaims(p.claims);
    for (const name of p.suites) {
      const opts = { scale: p.scale, seeds: p.seeds, out: p.out, data: p.data, only: p.only, peer: p.peer, claims, log, progress, signal };
      const { results, files } = name === 'geometry' ? await reproduceGeometry(opts) : await reproduceSuite(name, opts);
      for (const v of results.verdicts) log(`[reproduce] ${v.claim.id}: ${v.verdict}${v.reason ? ` (${v.reason})` : ''} — ${evidenceText(v)}`);
      log(`[reproduce] ${name}: ${files.join(', ')}`);
      summary[name] = { files, verdicts: Object.fromEntries(results.verdicts.map((v) => [v.claim.id, v.verdict])) };
    }
    io.out(JSON.stringify({ scale: p.scale, seeds: p.seeds, out: p.out, suites: summary }));
    return 0;
  } catch (e) {
    if (barShown) io.write('\n');
    if (e instanceof TrainingAborted || (e as Error).name === 'AbortError') {
      io.err('reproduce: interrupted; run the same command again to resume');
      return 130;
    }
    if (e instanceof UsageError) {
      io.err(`reproduce: ${e.message} (see --help)`);
      return 2;
    }
    io.err(`reproduce: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.exit(await main(process.argv.slice(2), processIo, stop.signal));
}
