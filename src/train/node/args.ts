// The training command line as data: its own flags (preset, recipe, resume, ...) and the parse of argv
// into a config (preset, then flags), shared by `npm run train` and the grids of `npm run reproduce`.
import { parseArgs } from 'node:util';
import { COMMON_OPTIONS, defaultConfig, PRESETS, type TrainConfig } from '../config.js';
import { parseOption, UsageError, type OptionSpec, type OptionValue } from '../options.js';
import { allRecipeOptions } from '../recipes/index.js';
import { RESUME_SAFE } from './trainer.js';

const RESUME_SAFE_FLAGS = RESUME_SAFE.map((k) => `--${COMMON_OPTIONS.find((o) => o.key === k)!.flag}`).join(', ');

/** Flags of the CLI itself (not part of a config). */
export const CLI_OPTIONS: readonly OptionSpec[] = [
  { flag: 'preset', key: 'preset', type: 'choice', choices: Object.keys(PRESETS), default: undefined, help: "a paper's configuration (see \"Presets\"); later flags override it" },
  { flag: 'recipe', key: 'recipe', type: 'string', arg: 'NAME', default: 'ce', help: 'what is trained (see "Recipes")' },
  { flag: 'loss', key: 'loss', type: 'choice', choices: ['ce', 'la', 'bs'], default: undefined, help: 'the same as --recipe ce|ce-la|balanced-softmax' },
  { flag: 'resume', key: 'resume', type: 'boolean', default: false, help: `continue the run in the output folder from its checkpoint, with the configuration saved there; a flag that contradicts it is refused, except ${RESUME_SAFE_FLAGS}` },
  { flag: 'overwrite', key: 'overwrite', type: 'boolean', default: false, help: 'replace the run the output folder holds (without it, such a folder is refused)' },
  { flag: 'help', key: 'help', type: 'boolean', default: false, help: 'this text' },
];
const LOSS_RECIPES: Record<string, string> = { ce: 'ce', la: 'ce-la', bs: 'balanced-softmax' };
const cliOption = (flag: string) => CLI_OPTIONS.find((o) => o.flag === flag)!;

/** The parsed command line: the run's config and the CLI's own switches. */
export interface ParsedArgs {
  config: TrainConfig;
  /** The config keys and recipe option keys set by a flag or the preset (the rest are defaults). */
  given: { common: string[]; options: string[] };
  resume: boolean;
  overwrite: boolean;
  help: boolean;
}

/** Parses `argv` into a config (preset, then flags); throws a UsageError naming the flag. */
export function parseTrainArgs(argv: string[]): ParsedArgs {
  const recipeSpecs = allRecipeOptions();
  const specs = [...CLI_OPTIONS, ...COMMON_OPTIONS, ...recipeSpecs];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: Object.fromEntries(specs.map((o) => [o.flag, { type: o.type === 'boolean' ? 'boolean' as const : 'string' as const }])),
    }));
  } catch (e) {
    // parseArgs says e.g. "Unknown option '--foo'. To specify a positional argument starting with a '-', ...".
    const first = (e as Error).message.split(/\.\s/)[0].replace(/\.$/, '');
    throw new UsageError(first);
  }
  const given = (o: OptionSpec): OptionValue | undefined => (values[o.flag] === undefined ? undefined : parseOption(o, values[o.flag]!));
  if (values.help) return { config: defaultConfig(), given: { common: [], options: [] }, resume: false, overwrite: false, help: true };
  if (values.loss !== undefined && values.recipe !== undefined) throw new UsageError('give --recipe or --loss, not both');
  const preset = values.preset === undefined ? undefined : PRESETS[String(given(cliOption('preset')))];
  const common: Partial<TrainConfig> = { ...preset?.config };
  for (const o of COMMON_OPTIONS) {
    const v = given(o);
    if (v !== undefined) (common as Record<string, unknown>)[o.key] = o.key === 'binary' ? [...(v as number[])] : v;
  }
  const recipe = values.loss !== undefined ? LOSS_RECIPES[String(given(cliOption('loss')))] : String(values.recipe ?? preset?.config.recipe ?? 'ce');
  const options: Record<string, OptionValue> = { ...(recipe === preset?.config.recipe ? preset.config.options : {}) };
  for (const o of recipeSpecs) {
    const v = given(o);
    if (v !== undefined) options[o.key] = v;
  }
  const recipeGiven = values.loss !== undefined || values.recipe !== undefined || preset !== undefined;
  return {
    config: defaultConfig({ ...common, recipe, options }),
    given: { common: [...Object.keys(common), ...(recipeGiven ? ['recipe'] : [])], options: Object.keys(options) },
    resume: values.resume === true, overwrite: values.overwrite === true, help: false,
  };
}

