// The winners table: per adapter, the matmul and conv2d variants a sweep (bench/gpu/sweep.ts) measured
// fastest for each shape class. It is JSON in the repository (./winners.json), bundled with the
// library (no file access: it works in browsers too). At start-up the engine takes the entry of its
// adapter; for an adapter the table does not know, it measures the matmul styles as before.
import type { AdapterDescription } from '../../gpu/device.js';
import { onInit, type Engine, type EngineOptions } from '../../engine.js';
import { autotuneMatmul } from '../matmul.js';
import BUNDLED from './winners.json' with { type: 'json' };
import {
  CONV_KINDS, defaultPicks, parseConvVariant, parseMatmulVariant, setTuning, styleOf,
  type ConvKind, type ConvVariant, type Picks, type PrecisionPicks,
} from './variants.js';

/** The format tag of the tables this version reads. */
export const WINNERS_FORMAT = 'webgpu-contrastive winners 1';

/** Which adapter an entry is for (fields of GPUAdapterInfo). */
export interface AdapterKey {
  vendor: string;
  architecture: string;
  /** Matched exactly when present; an entry without it applies to the whole architecture. */
  device?: string;
  /** For people reading the table; not matched. */
  description?: string;
}

/** One adapter's winners: the f32 picks, and optionally those for f16 storage. */
export interface WinnersEntry extends PrecisionPicks {
  adapter: AdapterKey;
  /** How and when the entry was measured (free-form: date, command, mode, features, figures file). */
  measured: Record<string, unknown>;
  f16?: PrecisionPicks;
}

export interface WinnersTable {
  format: string;
  entries: WinnersEntry[];
}

function object(x: unknown, where: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error(`${where}: expected an object, got ${JSON.stringify(x)}`);
  return x as Record<string, unknown>;
}

function parsePicks<V>(x: unknown, where: string, variant: (v: unknown, where: string) => V): Picks<V> {
  const o = object(x, where);
  const classes = object(o.classes ?? {}, `${where}.classes`);
  for (const k of Object.keys(o)) if (k !== 'default' && k !== 'classes') throw new Error(`${where}: unknown field '${k}' (fields: default, classes)`);
  const out: Record<string, V> = {};
  for (const [cls, v] of Object.entries(classes)) {
    if (!/^\d+x\d+x\d+$/.test(cls)) throw new Error(`${where}.classes: '${cls}' is not a shape class (rows x columns x reduction, e.g. '64x16384x256')`);
    out[cls] = variant(v, `${where}.classes['${cls}']`);
  }
  return { default: variant(o.default, `${where}.default`), classes: out };
}

/** The matmul and conv picks of `o`; `path` prefixes the field paths in messages. */
function parsePrecision(o: Record<string, unknown>, path: string): PrecisionPicks {
  const conv = object(o.conv, `${path}conv`);
  return {
    matmul: parsePicks(o.matmul, `${path}matmul`, parseMatmulVariant),
    conv: Object.fromEntries(CONV_KINDS.map((kind) => [kind, parsePicks(conv[kind], `${path}conv.${kind}`, (v, w) => parseConvVariant(v, w, kind))])) as Record<ConvKind, Picks<ConvVariant>>,
  };
}

/**
 * Checks a winners table read from JSON: every entry, field and variant. Throws an Error naming the
 * entry (index and adapter) and the path of the first field at fault.
 */
export function parseWinners(x: unknown): WinnersTable {
  const o = object(x, 'winners table');
  if (o.format !== WINNERS_FORMAT) throw new Error(`winners table: format is ${JSON.stringify(o.format)}, expected '${WINNERS_FORMAT}'`);
  if (!Array.isArray(o.entries)) throw new Error('winners table: entries must be an array');
  const entries = o.entries.map((raw, i) => {
    const e = object(raw, `winners table: entries[${i}]`);
    const a = object(e.adapter, `winners table: entries[${i}].adapter`);
    const str = (k: string, optional: boolean) => {
      if (optional && a[k] === undefined) return undefined;
      if (typeof a[k] !== 'string') throw new Error(`winners table: entries[${i}].adapter.${k}: expected a string, got ${JSON.stringify(a[k])}`);
      return a[k] as string;
    };
    const adapter: AdapterKey = { vendor: str('vendor', false)!, architecture: str('architecture', false)!, device: str('device', true), description: str('description', true) };
    const where = `winners table: entries[${i}] (${keyName(adapter)})`;
    const allowed = ['adapter', 'measured', 'matmul', 'conv', 'f16'];
    for (const k of Object.keys(e)) if (!allowed.includes(k)) throw new Error(`${where}: unknown field '${k}' (fields: ${allowed.join(', ')})`);
    const entry: WinnersEntry = { adapter, measured: object(e.measured ?? {}, `${where}: measured`), ...parsePrecision(e, `${where}: `) };
    if (e.f16 !== undefined) entry.f16 = parsePrecision(object(e.f16, `${where}: f16`), `${where}: f16.`);
    return entry;
  });
  return { format: WINNERS_FORMAT, entries };
}

/** 'vendor / architecture / device' of a key, for messages. */
export function keyName(k: AdapterKey): string {
  return [k.vendor, k.architecture, k.device].filter((s) => s !== undefined).join(' / ');
}

/**
 * The entry for `adapter`: one whose vendor, architecture and device all match, else one for its whole
 * architecture (no device, and a non-empty architecture: an empty one says nothing about the chip).
 */
export function findEntry(table: WinnersTable, adapter: AdapterDescription): WinnersEntry | undefined {
  const same = (k: AdapterKey) => k.vendor === adapter.vendor && k.architecture === adapter.architecture;
  return (
    table.entries.find((x) => same(x.adapter) && x.adapter.device === adapter.device) ??
    table.entries.find((x) => same(x.adapter) && x.adapter.device === undefined && adapter.architecture !== '')
  );
}

/** The bundled table (src/ops/tuning/winners.json), checked once. */
let bundled: WinnersTable | null = null;

/** The table init() uses: `opts.winners` if given, else the bundled one. */
function tableFor(opts: EngineOptions): WinnersTable {
  if (opts.winners !== undefined) return parseWinners(opts.winners);
  bundled ??= parseWinners(BUNDLED);
  return bundled;
}

/**
 * Start-up: the adapter's winners-table entry if there is one (no measurement), else today's
 * measurement of the two matmul styles with today's conv2d kernels. init({matmul}) forces a style.
 */
export async function tuneEngine(e: Engine, opts: EngineOptions): Promise<string> {
  const forced = opts.matmul && opts.matmul !== 'auto' ? opts.matmul : null;
  const entry = findEntry(tableFor(opts), e.adapter);
  if (entry) {
    const style = styleOf(entry.matmul.default);
    setTuning(e, { source: `table ${keyName(entry.adapter)}`, style, matmul: entry.matmul, conv: entry.conv, f16: entry.f16 });
    e.matmulVariant = forced ?? style;
    return `kernels: winners table entry ${keyName(entry.adapter)}`;
  }
  const style = forced ?? (await autotuneMatmul(e));
  setTuning(e, { source: forced ? 'option' : 'autotune', style, ...defaultPicks(e, style) });
  e.matmulVariant = style;
  return forced ? `kernels: matmul ${style} (option); no winners-table entry for this adapter` : 'kernels: no winners-table entry for this adapter; matmul style measured at start-up';
}

onInit(tuneEngine);
