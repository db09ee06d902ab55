// The main job: training from the command line. Flags, help and validation are generated from the
// option schemas (src/train/config.ts for the common settings, src/train/recipes/ for each recipe's),
// so a recipe added to the registry is on the command line at once.
//   npm run train -- [--preset NAME] [--dataset NAME] [--recipe NAME] [options]    (--help lists them)
// Prints progress, per-epoch evaluation and, last, one JSON summary; writes the run folder (see the
// README's "Run folder") and the HTML report. Bad arguments: one line and exit status 2.
import { pathToFileURL } from 'node:url';
import { DATASET_NAMES, DATASETS } from '../data/datasets.js';
import { writeReport } from '../report/node/load-run.js';
import { COMMON_OPTIONS, PRESETS, type TrainConfig } from '../train/config.js';
import type { StepProgress } from '../train/loop.js';
import { CLI_OPTIONS, parseTrainArgs, type ParsedArgs } from '../train/node/args.js';
import { progressLine, savedConfig, train } from '../train/node/trainer.js';
import { helpLines, UsageError } from '../train/options.js';
import { allRecipeOptions, recipeFamily, recipeNames } from '../train/recipes/index.js';

/** The --help text, generated from the schemas and the registries. */
export function helpText(): string {
  const lines = ['Usage: npm run train -- [options]', '', 'Run:'];
  for (const o of CLI_OPTIONS) lines.push(...helpLines(o));
  lines.push('', 'Common options:');
  for (const o of COMMON_OPTIONS) lines.push(...helpLines(o));
  lines.push('', 'Recipes (--recipe):');
  for (const name of recipeNames()) lines.push(...helpLines({ flag: '', key: '', type: 'boolean', default: undefined, help: recipeFamily(name).recipes[name] }).map((l, i) => (i ? l : `  ${name.padEnd(32)}${l.trimStart()}`)));
  lines.push('', 'Recipe options (each applies to the recipes named; another recipe refuses it):');
  for (const o of allRecipeOptions()) lines.push(...helpLines(o));
  lines.push('', 'Presets (--preset), for GPUs:');
  for (const [name, p] of Object.entries(PRESETS)) {
    lines.push(...helpLines({ flag: '', key: '', type: 'boolean', default: undefined, help: p.description }).map((l, i) => (i ? l : `  ${name.padEnd(32)}${l.trimStart()}`)));
  }
  lines.push('', 'Datasets (--dataset):');
  for (const name of DATASET_NAMES) {
    const d = DATASETS[name];
    const where = `${d.files}; ${d.source === 'file' ? '--data-file' : '--data-dir'} or ${d.env}${d.defaultDir ? ` (default ${d.defaultDir})` : ''}; from ${d.url}`;
    lines.push(...helpLines({ flag: '', key: '', type: 'boolean', default: undefined, help: `${d.title}, ${d.channels}×${d.size}×${d.size}: ${where}` }).map((l, i) => (i ? l : `  ${name.padEnd(32)}${l.trimStart()}`)));
  }
  return lines.join('\n');
}

/**
 * The config of a resumed run: the one saved in its checkpoint, with the settings given on the command
 * line over it (the trainer refuses those that contradict it, but for the safe ones).
 */
async function resumedConfig({ config, given }: ParsedArgs): Promise<TrainConfig> {
  const saved = await savedConfig(config.out);
  if (!saved) return config;
  const pick = <T extends object>(from: T, keys: string[]) => Object.fromEntries(keys.map((k) => [k, (from as Record<string, unknown>)[k]]));
  return { ...saved, ...pick(config, given.common), out: config.out, options: { ...saved.options, ...pick(config.options, given.options) } } as TrainConfig;
}

/** Where the CLI writes. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** A terminal: progress is one updating line. */
  tty: boolean;
  write: (text: string) => void;
}

/** The process's own stdout and stderr. */
export const processIo: CliIo = {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
  tty: Boolean(process.stdout.isTTY),
  write: (t) => process.stdout.write(t),
};

/** Runs the CLI on `argv`; returns the exit status (0 done, 1 failed, 2 bad arguments). */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseTrainArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`train: ${e.message} (see --help)`);
    return 2;
  }
  if (parsed.help) {
    io.out(helpText());
    return 0;
  }
  // On a terminal the progress record redraws one line; every other line first ends it.
  let barShown = false;
  const endBar = () => {
    if (barShown) io.write('\n');
    barShown = false;
  };
  const log = (line: string) => {
    endBar();
    io.out(line);
  };
  const progress = io.tty
    ? (p: StepProgress) => {
      io.write(`\r${progressLine(p, parsed.config.epochs)}\x1b[K`);
      barShown = true;
    }
    : undefined;
  try {
    const config = parsed.resume ? await resumedConfig(parsed) : parsed.config;
    const result = await train(config, { resume: parsed.resume, overwrite: parsed.overwrite, log, progress });
    log(`[train] report: ${await writeReport(result.config.out)}`);
    io.out(JSON.stringify(result));
    return 0;
  } catch (e) {
    endBar();
    if (e instanceof UsageError) {
      io.err(`train: ${e.message} (see --help)`);
      return 2;
    }
    io.err(`train: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main(process.argv.slice(2)));
}
