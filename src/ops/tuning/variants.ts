// The kernel variants of matmul (shaders/matmul.wgsl) and conv2d (shaders/conv2d.wgsl): what each one
// is made of (its generated and pipeline constants), which ones exist (the candidates a sweep times and
// the tests check), their shape classes, and the picks in force on each engine. src/ops/tuning/table.ts
// fills the picks at start-up from the winners table or by measurement.
import type { Engine } from '../../engine.js';

/**
 * A matmul kernel and its constants. `register`: matmul_register, 8 x 8 outputs per thread, wgX x wgY
 * threads; `tiled`: matmul_tiled, a bm x bn block per workgroup through workgroup memory in steps of bk,
 * tm x tn outputs per thread, `buffers` 2 for double buffering, `vec4` loads where the layout allows;
 * `subgroup`: matmul_subgroup, tiled's threads and outputs with A shared by subgroup shuffles.
 */
export type MatmulVariant =
  | { kernel: 'register'; wgX: number; wgY: number }
  | { kernel: 'tiled'; bm: number; bn: number; bk: number; tm: number; tn: number; vec4: boolean; buffers: 1 | 2 }
  | { kernel: 'subgroup'; bm: number; bn: number; tm: number; tn: number; vec4: boolean };

/**
 * A conv2d kernel and its constants. `register`: conv2d_forward / dgrad / wgrad with `wg` threads per
 * workgroup and blocks of up to `block` x `block` outputs per thread; `tiled`: conv2d_tiled, as matmul's.
 * `split` (weight gradient only): the threads its split reduction over N P Q aims for.
 */
export type ConvVariant =
  | { kernel: 'register'; wg: number; block: 8 | 16; split?: number }
  | { kernel: 'tiled'; bm: number; bn: number; bk: number; tm: number; tn: number; buffers: 1 | 2; split?: number };

/** The three convolution GEMMs. */
export type ConvKind = 'forward' | 'dgrad' | 'wgrad';
export const CONV_KINDS: readonly ConvKind[] = ['forward', 'dgrad', 'wgrad'];

/** Variants by shape class (see {@link gemmClass}); `default` for the classes not listed. */
export interface Picks<V> {
  default: V;
  classes: Record<string, V>;
}

/** The variants of one precision. */
export interface PrecisionPicks {
  matmul: Picks<MatmulVariant>;
  conv: Record<ConvKind, Picks<ConvVariant>>;
}

/** The variants an engine runs, and where they come from. */
export interface Tuning extends PrecisionPicks {
  /** 'table <adapter key>', 'autotune' or 'option'. */
  source: string;
  /**
   * The matmul style start-up set `Engine.matmulVariant` to. While it stays so, every product runs its
   * class's pick; set to the other style, products run that style's picks and its default elsewhere.
   */
  style: 'register' | 'shared';
  /** Picks for f16 storage (EngineOptions.f16Storage); the f32 picks where absent. */
  f16?: PrecisionPicks;
}

/** The two matmul styles of `Engine.matmulVariant` and the variant each runs by default. */
export const MATMUL_STYLE_DEFAULT = {
  register: { kernel: 'register', wgX: 8, wgY: 8 },
  shared: { kernel: 'tiled', bm: 64, bn: 64, bk: 16, tm: 4, tn: 4, vec4: false, buffers: 1 },
} as const satisfies Record<string, MatmulVariant>;

export const styleOf = (v: MatmulVariant): 'register' | 'shared' => (v.kernel === 'register' ? 'register' : 'shared');

/**
 * Today's conv2d choice, which needs no measurement: 64 threads, 16 x 16 blocks (bench/RESULTS.md,
 * "conv2d tile choices"); the weight gradient aims for 1024 threads on SwiftShader (512 to 4096
 * measured alike) and 32768 on GPUs, which need tens of thousands (not measured).
 */
export function defaultConv(e: Engine, kind: ConvKind): ConvVariant {
  return { kernel: 'register', wg: 64, block: 16, ...(kind === 'wgrad' ? { split: e.adapter.isFallbackAdapter ? 1024 : 32768 } : {}) };
}

/** Picks that run the given matmul style's default and today's conv2d everywhere. */
export function defaultPicks(e: Engine, style: 'register' | 'shared'): PrecisionPicks {
  const conv = (kind: ConvKind) => ({ default: defaultConv(e, kind), classes: {} });
  return { matmul: { default: MATMUL_STYLE_DEFAULT[style], classes: {} }, conv: { forward: conv('forward'), dgrad: conv('dgrad'), wgrad: conv('wgrad') } };
}

const tunings = new WeakMap<Engine, Tuning>();

/** The variants engine `e` runs (set at start-up by src/ops/tuning/table.ts). */
export function tuningOf(e: Engine): Tuning {
  const t = tunings.get(e);
  if (!t) throw new Error('no kernel tuning on this engine: engines are tuned by init()');
  return t;
}

/** Replaces the variants engine `e` runs (start-up, tests, the sweep). */
export function setTuning(e: Engine, t: Tuning): void {
  tunings.set(e, t);
}

/**
 * Makes `e` run variant `v` for `op` on every shape, and today's defaults for the other ops (the sweep
 * times each candidate this way, and the tests check it).
 */
export function pinVariant(e: Engine, op: 'matmul' | ConvKind, v: MatmulVariant | ConvVariant): void {
  const picks = defaultPicks(e, op === 'matmul' ? styleOf(v as MatmulVariant) : 'register');
  if (op === 'matmul') picks.matmul = { default: v as MatmulVariant, classes: {} };
  else picks.conv[op] = { default: v as ConvVariant, classes: {} };
  const style = styleOf(picks.matmul.default);
  setTuning(e, { source: `pinned ${variantName(v)}`, style, ...picks });
  e.matmulVariant = style;
}

/** The picks of the precision in force on `e`. */
export function picksOf(e: Engine): PrecisionPicks {
  const t = tuningOf(e);
  return (e.f16Storage && t.f16) || t;
}

/** Round up to a power of 4 between 4 and 4^9: the classes are coarse enough to be measured. */
function bucket(x: number): number {
  return 4 ** Math.min(9, Math.max(1, Math.ceil(Math.log(Math.max(x, 1)) / Math.log(4) - 1e-9)));
}

/** The class of a GEMM with `rows` x `cols` outputs summed over `red` terms, e.g. '64x16384x256'. */
export function gemmClass(rows: number, cols: number, red: number): string {
  return `${bucket(rows)}x${bucket(cols)}x${bucket(red)}`;
}

export function pick<V>(p: Picks<V>, cls: string): V {
  return p.classes[cls] ?? p.default;
}

// ---------------------------------------------------------------------------------------------------
// Validation (the winners table is data: each field is checked, with the path of the one that is wrong)

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
const isPow2 = (x: number) => x > 0 && (x & (x - 1)) === 0;

function fields(x: unknown, where: string, kernels: Record<string, readonly string[]>): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error(`${where}: expected a variant object, got ${JSON.stringify(x)}`);
  const o = x as Record<string, unknown>;
  const allowed = kernels[o.kernel as string];
  if (!allowed) throw new Error(`${where}.kernel: expected one of ${Object.keys(kernels).map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(o.kernel)}`);
  for (const k of Object.keys(o)) if (k !== 'kernel' && !allowed.includes(k)) throw new Error(`${where}: unknown field '${k}' for kernel '${o.kernel}' (fields: ${allowed.join(', ')})`);
  return o;
}

function int(o: Record<string, unknown>, k: string, where: string, ok: (v: number) => boolean, what: string): number {
  const v = o[k];
  if (!isInt(v) || !ok(v)) throw new Error(`${where}.${k}: expected ${what}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(o: Record<string, unknown>, k: string, where: string): boolean {
  if (typeof o[k] !== 'boolean') throw new Error(`${where}.${k}: expected true or false, got ${JSON.stringify(o[k])}`);
  return o[k] as boolean;
}

/** Checks a workgroup-tiled block: quads of outputs, whole threads, at most 1024 of them. */
function tileFields(o: Record<string, unknown>, where: string, withBk: boolean) {
  const tm = int(o, 'tm', where, (v) => v >= 4 && v <= 16 && v % 4 === 0, '4, 8, 12 or 16');
  const tn = int(o, 'tn', where, (v) => v >= 4 && v <= 16 && v % 4 === 0, '4, 8, 12 or 16');
  const bm = int(o, 'bm', where, (v) => v >= tm && v % tm === 0 && v <= 512, `a multiple of tm (${tm}) up to 512`);
  const bn = int(o, 'bn', where, (v) => v >= tn && v % tn === 0 && v <= 512, `a multiple of tn (${tn}) up to 512`);
  const bk = withBk ? int(o, 'bk', where, (v) => v >= 4 && v <= 64 && v % 4 === 0, 'a multiple of 4 from 4 to 64') : 0;
  const threads = (bm / tm) * (bn / tn);
  if (threads > 1024) throw new Error(`${where}: ${threads} threads per workgroup ((bm / tm) x (bn / tn)); at most 1024`);
  return { bm, bn, bk, tm, tn, threads };
}

function buffers(o: Record<string, unknown>, where: string): 1 | 2 {
  return int(o, 'buffers', where, (v) => v === 1 || v === 2, '1 or 2') as 1 | 2;
}

/** A matmul variant read from data, or an Error naming `where` and the field at fault. */
export function parseMatmulVariant(x: unknown, where: string): MatmulVariant {
  const o = fields(x, where, {
    register: ['wgX', 'wgY'],
    tiled: ['bm', 'bn', 'bk', 'tm', 'tn', 'vec4', 'buffers'],
    subgroup: ['bm', 'bn', 'tm', 'tn', 'vec4'],
  });
  if (o.kernel === 'register') {
    const wgX = int(o, 'wgX', where, (v) => v >= 1 && v <= 256, 'an integer from 1 to 256');
    const wgY = int(o, 'wgY', where, (v) => v >= 1 && v <= 256, 'an integer from 1 to 256');
    if (wgX * wgY > 1024) throw new Error(`${where}: ${wgX * wgY} threads per workgroup (wgX x wgY); at most 1024`);
    return { kernel: 'register', wgX, wgY };
  }
  if (o.kernel === 'tiled') {
    const { bm, bn, bk, tm, tn } = tileFields(o, where, true);
    return { kernel: 'tiled', bm, bn, bk, tm, tn, vec4: bool(o, 'vec4', where), buffers: buffers(o, where) };
  }
  const { bm, bn, tm, tn } = tileFields(o, where, false);
  if (!isPow2(bn / tn)) throw new Error(`${where}: bn / tn (${bn / tn} threads in a row) must be a power of 2, so that subgroups lie within rows`);
  return { kernel: 'subgroup', bm, bn, tm, tn, vec4: bool(o, 'vec4', where) };
}

/** A conv2d variant of GEMM `kind` read from data, or an Error naming `where` and the field at fault. */
export function parseConvVariant(x: unknown, where: string, kind: ConvKind): ConvVariant {
  const split = kind === 'wgrad' ? ['split'] : [];
  const o = fields(x, where, { register: ['wg', 'block', ...split], tiled: ['bm', 'bn', 'bk', 'tm', 'tn', 'buffers', ...split] });
  const splitOf = () => (kind === 'wgrad' ? { split: int(o, 'split', where, (v) => v >= 1, 'a positive integer (threads of the split reduction)') } : {});
  if (o.kernel === 'register') {
    const wg = int(o, 'wg', where, (v) => v >= 1 && v <= 1024, 'an integer from 1 to 1024');
    const block = int(o, 'block', where, (v) => v === 8 || v === 16, '8 or 16') as 8 | 16;
    return { kernel: 'register', wg, block, ...splitOf() };
  }
  const { bm, bn, bk, tm, tn, threads } = tileFields(o, where, true);
  if (threads % bn || threads % bk) throw new Error(`${where}: ${threads} threads must be a multiple of bn (${bn}) and of bk (${bk}): each thread stages one column`);
  return { kernel: 'tiled', bm, bn, bk, tm, tn, buffers: buffers(o, where), ...splitOf() };
}

/** A short name for tables and logs, e.g. 'tiled 64x64x16 t4x4 vec4 x2'. */
export function variantName(v: MatmulVariant | ConvVariant): string {
  const split = 'split' in v && v.split ? ` split ${v.split}` : '';
  switch (v.kernel) {
    case 'register':
      return 'wgX' in v ? `register ${v.wgX}x${v.wgY}` : `register wg ${v.wg} block ${v.block}${split}`;
    case 'tiled':
      return `tiled ${v.bm}x${v.bn}x${v.bk} t${v.tm}x${v.tn}${'vec4' in v && v.vec4 ? ' vec4' : ''}${v.buffers === 2 ? ' x2' : ''}${split}`;
    case 'subgroup':
      return `subgroup ${v.bm}x${v.bn} t${v.tm}x${v.tn}${v.vec4 ? ' vec4' : ''}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Candidates: the variants a sweep times and the tests check, bounded (about 30 per GEMM)

const MATMUL_TILES = [
  [32, 32, 16, 4, 4],
  [64, 64, 16, 4, 4],
  [64, 64, 16, 8, 8],
  [64, 64, 32, 8, 4],
  [128, 64, 16, 8, 4],
  [128, 128, 16, 8, 8],
] as const;

const CONV_TILES = [
  [16, 64, 16, 4, 4],
  [32, 64, 16, 4, 4],
  [64, 64, 16, 4, 4],
  [32, 128, 16, 4, 8],
  [64, 128, 16, 8, 8],
] as const;

/** Whether `v` can run on engine `e` at all: threads, workgroup memory and features within the adapter's limits. */
export function runsOn(e: Engine, v: MatmulVariant | ConvVariant): boolean {
  const l = e.limits;
  if (v.kernel === 'register') {
    if ('wgX' in v) return v.wgX <= l.maxComputeWorkgroupSizeX && v.wgY <= l.maxComputeWorkgroupSizeY && v.wgX * v.wgY <= l.maxComputeInvocationsPerWorkgroup;
    return v.wg <= l.maxComputeWorkgroupSizeX && v.wg <= l.maxComputeInvocationsPerWorkgroup;
  }
  const wx = v.bn / v.tn;
  const wy = v.bm / v.tm;
  if (wx > l.maxComputeWorkgroupSizeX || wy > l.maxComputeWorkgroupSizeY || wx * wy > l.maxComputeInvocationsPerWorkgroup) return false;
  if (v.kernel === 'subgroup') {
    // Lanes of a subgroup must share a row of threads: rows a multiple of the largest subgroup.
    const info = e.device.adapterInfo as GPUAdapterInfo & { subgroupMaxSize?: number };
    return e.features.has('subgroups') && wx % (info.subgroupMaxSize || 128) === 0;
  }
  return v.buffers * v.bk * (v.bm + v.bn) * 4 <= l.maxComputeWorkgroupStorageSize;
}

/** Every matmul variant of the sweep that runs on `e` (subgroup variants only with `subgroups`). */
export function matmulCandidates(e: Engine): MatmulVariant[] {
  const out: MatmulVariant[] = [MATMUL_STYLE_DEFAULT.register, { kernel: 'register', wgX: 16, wgY: 4 }];
  for (const [bm, bn, bk, tm, tn] of MATMUL_TILES) {
    for (const vec4 of [false, true]) for (const buffers of [1, 2] as const) out.push({ kernel: 'tiled', bm, bn, bk, tm, tn, vec4, buffers });
  }
  // Rows of 32 threads (NVIDIA's subgroups; SwiftShader's are 4 wide), and of 128 (up to AMD's 64 and the widest Dawn reports).
  for (const [bm, bn, tm, tn] of [[16, 128, 4, 4], [16, 256, 8, 8], [32, 128, 8, 4], [8, 512, 4, 4]] as const) {
    for (const vec4 of [false, true]) out.push({ kernel: 'subgroup', bm, bn, tm, tn, vec4 });
  }
  return out.filter((v) => runsOn(e, v));
}

/** Every conv2d variant of the sweep for GEMM `kind` that runs on `e`. */
export function convCandidates(e: Engine, kind: ConvKind): ConvVariant[] {
  const splits = kind === 'wgrad' ? [1024, 8192, 32768] : [undefined];
  const withSplit = <V extends ConvVariant>(v: V, s: number | undefined): V => (s === undefined ? v : { ...v, split: s });
  const out: ConvVariant[] = [];
  // Register kernels: 32 to 256 threads measured alike on SwiftShader, so only the block varies.
  for (const s of splits) for (const block of [16, 8] as const) out.push(withSplit({ kernel: 'register', wg: 64, block }, s));
  for (const s of kind === 'wgrad' ? [8192, 65536] : [undefined]) {
    for (const [bm, bn, bk, tm, tn] of CONV_TILES) for (const buffers of [1, 2] as const) out.push(withSplit({ kernel: 'tiled', bm, bn, bk, tm, tn, buffers }, s));
  }
  return out.filter((v) => runsOn(e, v));
}
