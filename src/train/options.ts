// Option schemas: one declaration per option (flag, type, default, allowed values, help line, which
// recipes it applies to), from which the command line's help, parsing and validation and the checks of
// a config built in code are all derived. Platform-neutral: a web page validates its settings with the
// same schemas as the CLI.

/** The value types an option can hold. */
export type OptionValue = number | string | boolean | number[];

/** One option. */
export interface OptionSpec {
  /** Command-line flag without the dashes, e.g. 'queue-size'. */
  flag: string;
  /** Key in the config, e.g. 'queueSize'. */
  key: string;
  /**
   * 'number' / 'integer': one value; 'boolean': a switch; 'choice': one of `choices`; 'string': free text;
   * 'list': comma-separated integers; 'numbers': comma-separated numbers ('numbers' and 'list' may fix `length`).
   */
  type: 'number' | 'integer' | 'boolean' | 'choice' | 'string' | 'list' | 'numbers';
  default: OptionValue | undefined;
  /** Per-recipe defaults that override `default` (e.g. the temperature). */
  defaults?: Readonly<Record<string, OptionValue>>;
  choices?: readonly string[];
  /** Inclusive bounds of a number (of every element of a list). */
  min?: number;
  max?: number;
  /** Exclusive lower bound (e.g. a learning rate must be > 0). */
  above?: number;
  /** Exact element count of a 'list' / 'numbers'. */
  length?: number;
  /** Placeholder of the value in the help, e.g. 'Q'. */
  arg?: string;
  /** One line (wrapped by the help printer) saying what it does. */
  help: string;
  /** The recipes it applies to; absent = every recipe of the schema's owner. */
  recipes?: readonly string[];
}

/** A bad option: what, which flag, what is allowed. The CLI prints its message alone and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function bounds(spec: OptionSpec): string {
  const parts: string[] = [];
  if (spec.above !== undefined) parts.push(`> ${spec.above}`);
  if (spec.min !== undefined) parts.push(`≥ ${spec.min}`);
  if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
  return parts.join(' and ');
}

/** What `spec` accepts, in words: "an integer ≥ 1", "one of ce, la". */
export function allowedValues(spec: OptionSpec): string {
  const b = bounds(spec);
  switch (spec.type) {
    case 'boolean': return 'a switch (no value)';
    case 'choice': return `one of ${spec.choices!.join(', ')}`;
    case 'string': return 'a text';
    case 'integer': return `an integer${b ? ` ${b}` : ''}`;
    case 'number': return `a number${b ? ` ${b}` : ''}`;
    case 'list':
    case 'numbers': {
      const what = spec.type === 'list' ? 'integers' : 'numbers';
      return `${spec.length ? `${spec.length} comma-separated` : 'comma-separated'} ${what}${b ? ` ${b}` : ''}`;
    }
  }
}

const fail = (spec: OptionSpec, got: unknown): never => {
  throw new UsageError(`--${spec.flag} must be ${allowedValues(spec)}, got ${JSON.stringify(got)}`);
};

function checkNumber(spec: OptionSpec, x: number, got: unknown, integer: boolean): number {
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) fail(spec, got);
  if ((spec.above !== undefined && !(x > spec.above)) || (spec.min !== undefined && x < spec.min) || (spec.max !== undefined && x > spec.max)) fail(spec, got);
  return x;
}

/** Parses the command-line text of `spec` (a switch is given as `true`); throws a {@link UsageError}. */
export function parseOption(spec: OptionSpec, raw: string | boolean): OptionValue {
  if (spec.type === 'boolean') return raw === true ? true : fail(spec, raw);
  if (typeof raw !== 'string') return fail(spec, raw);
  switch (spec.type) {
    case 'number':
    case 'integer':
      return checkNumber(spec, raw.trim() === '' ? NaN : Number(raw), raw, spec.type === 'integer');
    case 'list':
    case 'numbers': {
      const parts = raw.split(',');
      if (spec.length !== undefined && parts.length !== spec.length) fail(spec, raw);
      return raw === '' ? [] : parts.map((p) => checkNumber(spec, p.trim() === '' ? NaN : Number(p), raw, spec.type === 'list'));
    }
    default:
      return checkOption(spec, raw);
  }
}

/** Checks a value given in code (a config object) against `spec`; returns it, or throws a {@link UsageError}. */
export function checkOption(spec: OptionSpec, value: unknown): OptionValue {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? value : fail(spec, value);
    case 'choice':
      return typeof value === 'string' && spec.choices!.includes(value) ? value : fail(spec, value);
    case 'string':
      return typeof value === 'string' ? value : fail(spec, value);
    case 'number':
    case 'integer':
      return typeof value === 'number' ? checkNumber(spec, value, value, spec.type === 'integer') : fail(spec, value);
    case 'list':
    case 'numbers':
      if (!Array.isArray(value) || (spec.length !== undefined && value.length !== spec.length)) return fail(spec, value);
      return value.map((v) => (typeof v === 'number' ? checkNumber(spec, v, value, spec.type === 'list') : fail(spec, value)));
  }
}

/** The default of `spec` for `recipe`. */
export function defaultOf(spec: OptionSpec, recipe?: string): OptionValue | undefined {
  return (recipe !== undefined ? spec.defaults?.[recipe] : undefined) ?? spec.default;
}

/** `spec`'s help entry: the flag with its placeholder, then the help text with the default(s) and allowed values. */
export function helpLines(spec: OptionSpec, width = 100): string[] {
  const head = `  --${spec.flag}${spec.type === 'boolean' ? '' : ` ${spec.arg ?? (spec.type === 'choice' ? spec.choices!.join('|') : 'X')}`}`;
  const defaults = spec.defaults ? Object.entries(spec.defaults).map(([r, v]) => `${r} ${String(v)}`) : [];
  const plain = spec.default === undefined || spec.type === 'boolean' ? '' : Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
  const dflt = defaults.length ? `default ${defaults.join(', ')}${plain ? `, else ${plain}` : ''}` : plain ? `default ${plain}` : '';
  const scope = spec.recipes ? `only ${spec.recipes.join(', ')}` : '';
  const text = [spec.help, [dflt, scope].filter(Boolean).join('; ')].filter(Boolean).join(' (') + (dflt || scope ? ')' : '');
  const indent = 34;
  const words = text.split(' ');
  const lines: string[] = [];
  let line = head.length < indent - 1 ? head.padEnd(indent) : `${head}\n${' '.repeat(indent)}`;
  let col = line.length - line.lastIndexOf('\n') - 1;
  for (const w of words) {
    if (col + w.length > width && col > indent) {
      lines.push(line.trimEnd());
      line = ' '.repeat(indent);
      col = indent;
    }
    line += `${w} `;
    col += w.length + 1;
  }
  lines.push(line.trimEnd());
  return lines;
}
