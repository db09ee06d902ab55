// The run report (issue 7) from the command line:
//   npm run report -- <run-dir>                   writes <run-dir>/report.html
//   npm run compare -- <run-dir> <run-dir> ...    writes compare.html beside the first run (or --out FILE)
// The first argument picks the mode (the npm scripts pass it). Exit status 1 with one clear line on error.
import { parseArgs } from 'node:util';
import { GEOMETRY_LOSSES, type GeometryLoss } from '../geometry/objectives.js';
import { writeComparison, writeReport, type LoadOptions } from '../report/node/load-run.js';

const HELP = `Usage: npm run report -- <run-dir> [options]
       npm run compare -- <run-dir> <run-dir> ... [--out FILE] [options]
  --out FILE              compare only: where to write (default compare.html beside the first run)
  --no-optimal            skip solving for the optimal class-mean geometry
  --loss supcon|bcl|bcl-balanced --tau T --negatives N   objective of that solve (default: the run's own,
                          from its recipe, temperature and batch size; see runObjective in src/geometry/learned.ts)
A run directory holds log.jsonl (and optionally summary.json, checkpoint.safetensors,
embeddings.safetensors, metrics.json; see src/report/node/load-run.ts).`;

const [mode, ...rest] = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args: rest,
  allowPositionals: true,
  options: {
    help: { type: 'boolean' }, out: { type: 'string' }, 'no-optimal': { type: 'boolean' },
    loss: { type: 'string' }, tau: { type: 'string' }, negatives: { type: 'string' },
  },
});

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!(x > 0)) throw new Error(`${mode}: --${name} must be a positive number, got '${v}'`);
  return x;
}

async function main(): Promise<number> {
  if (values.help || (mode !== 'report' && mode !== 'compare')) {
    console.log(HELP);
    return values.help ? 0 : 1;
  }
  if (values.loss !== undefined && !GEOMETRY_LOSSES.includes(values.loss as GeometryLoss)) {
    throw new Error(`${mode}: --loss must be one of ${GEOMETRY_LOSSES.join(', ')}, got '${values.loss}'`);
  }
  const opts: LoadOptions = {
    optimal: values['no-optimal'] ? false : { loss: values.loss as GeometryLoss | undefined, tau: positive('tau', values.tau), negatives: positive('negatives', values.negatives) },
  };
  if (mode === 'report') {
    if (positionals.length !== 1) throw new Error(`report: give exactly one run directory (got ${positionals.length}); npm run compare takes several`);
    console.log(`[report] wrote ${await writeReport(positionals[0], opts)}`);
  } else {
    if (!positionals.length) throw new Error('compare: give one or more run directories');
    console.log(`[compare] wrote ${await writeComparison(positionals, values.out, opts)}`);
  }
  return 0;
}

try {
  process.exit(await main());
} catch (err) {
  console.error(`[${mode ?? 'report'}] ${(err as Error).message}`);
  process.exit(1);
}
