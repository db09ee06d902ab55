// Kernel sweep: every matmul and conv2d variant the library can generate for this adapter
// (src/ops/tuning/variants.ts), checked against the float64 references on odd shapes and then timed on
// the products of a training step; the fastest per shape class becomes this adapter's winners-table
// entry (src/ops/tuning/winners.json, the format the engine reads at start-up).
//
//   npm run bench:sweep                      # full: ResNet-32 at batch 128, contrastive B = 256..4096
//   npm run bench:sweep -- --quick           # a few variants at batch 4 and B = 256 (minutes on SwiftShader)
//   npm run bench:sweep -- --out FILE        # the figures as JSON (default sweep.json)
//   npm run bench:sweep -- --update-table    # also write the entry into src/ops/tuning/winners.json
//   npm run bench:sweep -- --from FILE --update-table   # the entry of an earlier run, nothing measured
//   --budget-s N   stop timing new variants after N seconds (default 300; figures so far are kept)
//   --no-f16       skip the f16-storage pass (run by default where the adapter has shader-f16)
//   --only OPS     a comma-separated subset of matmul, forward, dgrad, wgrad (no entry is written then)
//
// Shapes. Matmul: the contrastive losses' similarity block S = Z Zᵀ (B x 128 times its transpose) and
// its two gradient products (G Z and Gᵀ Z, B x B times B x 128), B = 256..4096; the ResNet-32 classifier
// (128 x 64 features against 10 or 100 classes) forward and backward. Conv2d: the convolutions of our
// ResNet-32 (src/nn/resnet.ts: option-A shortcuts, no bias) on CIFAR 32 x 32 images, forward, input
// gradient (not for the first layer, whose input needs none) and weight gradient, each weighted by how
// often a training step runs it. Timing: per shape, the variants take turns over SAMPLES rounds: a
// warm-up run (compiles) and one timed run, then batches of `reps` runs recorded back to back and
// waited for once; a figure is the best time per run. The entry keeps today's choice as each op's
// default and lists, per shape class, a variant that beat it there by CLASS_MARGIN.
//
// A variant whose check fails, or whose kernel does not compile or validate (errors are caught in
// error scopes, so the engine stays usable), is reported and never timed or chosen.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/node.js';
import { findEntry, keyName, parseWinners, WINNERS_FORMAT, type WinnersEntry, type WinnersTable } from '../../src/ops/tuning/table.js';
import {
  CONV_KINDS, defaultConv, defaultPicks, gemmClass, pinVariant, tuningOf,
  type ConvKind, type ConvVariant, type MatmulVariant, type Picks, type PrecisionPicks,
} from '../../src/ops/tuning/variants.js';
import { conv2dRef } from '../../test/reference/conv.js';
import { arr, matmulRef, relError, roundToF16, size, type Arr } from '../../test/reference/ops.js';
import { describeHost, flag, formatTable, randomData } from '../common.js';

const TABLE_PATH = fileURLToPath(new URL('../../src/ops/tuning/winners.json', import.meta.url));
const quick = flag('quick');

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Relative error a variant may show against float64 (f32 sums of at most a few hundred terms). */
const CHECK_TOL = 1e-4;
const D = 128;
const CONTRASTIVE_B = quick ? [256] : [256, 512, 1024, 2048, 4096];
const CLASSES = quick ? [10] : [10, 100];
const BATCH = quick ? 4 : 128;
/** Rounds per shape (more in quick mode: it is meant for CPU adapters on shared machines, where load varies). */
const SAMPLES = quick ? 5 : 3;
/** Wall time a sample batch aims for (reps = this / one run, at least 1). */
const SAMPLE_MS = quick ? 100 : 25;
/**
 * A class lists its own winner only when it beats today's choice there by this much: smaller
 * differences are within the run-to-run noise of a shared machine, and every variant a class lists is
 * one more pipeline to compile at start-up (seconds on SwiftShader for a workgroup-tiled one).
 */
const CLASS_MARGIN = 0.1;
const BUDGET_MS = 1000 * Number(option('budget-s') ?? 300);

type Variant = MatmulVariant | ConvVariant;
type Op = 'matmul' | ConvKind;

interface Product {
  name: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  weight: number;
}

interface Layer {
  name: string;
  c: number;
  k: number;
  hw: number;
  stride: number;
  /** Times a ResNet-32 training step runs it. */
  weight: number;
  /** Whether the step computes its input gradient. */
  dgrad: boolean;
}

const PRODUCTS: Product[] = [
  ...CONTRASTIVE_B.flatMap((b) => [
    { name: `S = Z Zt B=${b}`, m: b, k: D, n: b, transA: false, transB: true, weight: 1 },
    { name: `dS Z B=${b}`, m: b, k: b, n: D, transA: false, transB: false, weight: 1 },
    { name: `dSt Z B=${b}`, m: b, k: b, n: D, transA: true, transB: false, weight: 1 },
  ]),
  ...CLASSES.flatMap((classes) => [
    { name: `fc 64->${classes}`, m: BATCH, k: 64, n: classes, transA: false, transB: true, weight: 1 },
    { name: `fc dx ${classes}`, m: BATCH, k: classes, n: 64, transA: false, transB: false, weight: 1 },
    { name: `fc dW ${classes}`, m: classes, k: BATCH, n: 64, transA: true, transB: false, weight: 1 },
  ]),
];

// src/nn/resnet.ts, ResNet-32 (n = 5 blocks of two 3x3 convs per stage): conv1, then 10 convs at 16
// channels, the stride-2 transition and 9 at 32, the transition and 9 at 64.
const LAYERS: Layer[] = [
  { name: 'conv1 3->16 32x32', c: 3, k: 16, hw: 32, stride: 1, weight: 1, dgrad: false },
  { name: 'stage1 16->16 32x32', c: 16, k: 16, hw: 32, stride: 1, weight: 10, dgrad: true },
  { name: 'down2 16->32 32x32 s2', c: 16, k: 32, hw: 32, stride: 2, weight: 1, dgrad: true },
  { name: 'stage2 32->32 16x16', c: 32, k: 32, hw: 16, stride: 1, weight: 9, dgrad: true },
  { name: 'down3 32->64 16x16 s2', c: 32, k: 64, hw: 16, stride: 2, weight: 1, dgrad: true },
  { name: 'stage3 64->64 8x8', c: 64, k: 64, hw: 8, stride: 1, weight: 9, dgrad: true },
];

/** The GEMM class of a layer's kind (as src/ops/conv.ts classes it). */
function layerClass(l: Layer, kind: ConvKind): string {
  const p = Math.floor((l.hw + 2 - 3) / l.stride) + 1;
  if (kind === 'forward') return gemmClass(l.k, BATCH * p * p, l.c * 9);
  if (kind === 'dgrad') return gemmClass(l.c, BATCH * l.hw * l.hw, l.k * 9);
  return gemmClass(l.k, l.c * 9, BATCH * p * p);
}

const productClass = (p: Product) => gemmClass(p.m, p.n, p.k);
const flopsOf = (p: Product) => 2 * p.m * p.n * p.k;
function layerFlops(l: Layer): number {
  const p = Math.floor((l.hw + 2 - 3) / l.stride) + 1;
  return 2 * BATCH * l.k * p * p * l.c * 9;
}

// Quick mode: the default of each kind and a few others (SwiftShader compiles a workgroup-tiled kernel in seconds).
const QUICK_MATMUL = ['register 8x8', 'register 16x4', 'tiled 32x32x16 t4x4', 'tiled 32x32x16 t4x4 vec4 x2', 'tiled 64x64x16 t4x4', 'subgroup 16x128 t4x4 vec4'];
function quickConv(e: T.Engine, kind: ConvKind, v: ConvVariant): boolean {
  if (v.kernel === 'register') return v.wg === 64 && (v.split ?? 0) === (defaultConv(e, kind).split ?? 0);
  return v.bm === 32 && v.bn === 64 && (v.split ?? 8192) === 8192;
}

// ---------------------------------------------------------------------------------------------------
// Running one variant

interface Check {
  op: Op;
  variant: string;
  precision: 'f32' | 'f16';
  ok: boolean;
  error?: string;
  maxRelError?: number;
}

interface Timing {
  op: Op;
  shape: string;
  class: string;
  variant: string;
  precision: 'f32' | 'f16';
  ms: number;
  gflops: number;
  reps: number;
}

const log = (s: string) => console.log(s);
const now = () => performance.now();

/** Runs `work` inside validation and internal error scopes; the first error's message, or null. */
async function captured(e: T.Engine, work: () => Promise<void>): Promise<string | null> {
  e.device.pushErrorScope('validation');
  e.device.pushErrorScope('internal');
  let thrown: string | null = null;
  try {
    await work();
    await e.sync();
  } catch (err) {
    thrown = (err as Error).message;
  }
  const internal = await e.device.popErrorScope();
  const validation = await e.device.popErrorScope();
  return thrown ?? internal?.message ?? validation?.message ?? null;
}

const rounded = (a: Arr, half: boolean) => (half ? arr(a.shape, a.data.map(roundToF16)) : a);
const tensorOf = (a: Arr) => T.tensor(Float32Array.from(a.data), a.shape);

function randomArr(shape: number[], seed: number): Arr {
  return arr(shape, randomData(size(shape), seed));
}

/** The matmul check cases: odd (scalar loads) and multiple-of-4 (vec4 loads) shapes, every transpose. */
const MATMUL_CHECKS = [[33, 13, 70], [20, 12, 36]].flatMap(([m, k, n], i) =>
  [[false, false], [false, true], [true, false], [true, true]].map(([transA, transB], j) => {
    const seed = 100 + 8 * i + 2 * j;
    return { a: randomArr(transA ? [k, m] : [m, k], seed), b: randomArr(transB ? [n, k] : [k, n], seed + 1), transA, transB };
  }),
);

async function checkMatmul(half: boolean): Promise<number> {
  let worst = 0;
  for (const c of MATMUL_CHECKS) {
    const want = matmulRef(c.transA, c.transB).forward([rounded(c.a, half), rounded(c.b, half)]);
    const out = T.scope(() => T.matmul(tensorOf(c.a), tensorOf(c.b), { transA: c.transA, transB: c.transB }));
    worst = Math.max(worst, relError(await out.read(), want.data));
    out.dispose();
  }
  return worst;
}

/** Conv check cases with the geometries the sweep times (3x3, padding 1, stride 1 and 2) and odd sizes. */
const CONV_CHECKS = [
  { x: [3, 5, 9, 7], w: [11, 5, 3, 3], stride: 1 },
  { x: [2, 17, 9, 8], w: [20, 17, 3, 3], stride: 2 },
].map((c, i) => ({ ...c, xs: randomArr(c.x, 200 + 3 * i), ws: randomArr(c.w, 201 + 3 * i) }));

async function checkConv(kind: ConvKind, half: boolean): Promise<number> {
  let worst = 0;
  for (const c of CONV_CHECKS) {
    const params = { stride: [c.stride, c.stride] as [number, number], padding: [1, 1] as [number, number] };
    const ref = conv2dRef(params);
    const inputs = [rounded(c.xs, half), rounded(c.ws, half)];
    const y = ref.forward(inputs);
    const g = randomArr(y.shape, 300);
    const want = kind === 'forward' ? y.data : ref.vjp(inputs, rounded(g, half))[kind === 'dgrad' ? 0 : 1]!.data;
    const out = T.scope(() => {
      const x = tensorOf(c.xs).requireGrad(kind === 'dgrad');
      const w = tensorOf(c.ws).requireGrad(kind === 'wgrad');
      const y = T.conv2d(x, w, null, { stride: c.stride, padding: 1 });
      if (kind === 'forward') return y;
      y.backward(tensorOf(g));
      return kind === 'dgrad' ? x.grad! : w.grad!;
    });
    worst = Math.max(worst, relError(await out.read(), want));
    out.dispose();
  }
  return worst;
}

/** Milliseconds per run of `reps` runs of `run` recorded back to back, the engine's queue waited for. */
async function sample(e: T.Engine, run: () => void, reps: number): Promise<number> {
  const t0 = now();
  for (let r = 0; r < reps; r++) run();
  await e.sync();
  return (now() - t0) / reps;
}

/** A closure running one product on the device (operands uploaded once). */
function productRun(p: Product): { run: () => void; dispose: () => void } {
  const a = T.tensor(randomData(p.m * p.k, 1), p.transA ? [p.k, p.m] : [p.m, p.k]).keep();
  const b = T.tensor(randomData(p.k * p.n, 2), p.transB ? [p.n, p.k] : [p.k, p.n]).keep();
  return { run: () => T.scope(() => void T.matmul(a, b, { transA: p.transA, transB: p.transB })), dispose: () => [a, b].forEach((t) => t.dispose()) };
}

/** A closure running one GEMM of a layer: the forward, or the backward with only x, or only w, needing a gradient. */
function layerRun(l: Layer, kind: ConvKind): { run: () => void; dispose: () => void } {
  const x = T.tensor(randomData(BATCH * l.c * l.hw * l.hw, 3), [BATCH, l.c, l.hw, l.hw]).keep().requireGrad(kind === 'dgrad');
  const w = T.tensor(randomData(l.k * l.c * 9, 4), [l.k, l.c, 3, 3]).keep().requireGrad(kind === 'wgrad');
  const opts = { stride: l.stride, padding: 1 };
  if (kind === 'forward') return { run: () => T.scope(() => void T.conv2d(x, w, null, opts)), dispose: () => [x, w].forEach((t) => t.dispose()) };
  const y = T.conv2d(x, w, null, opts).keep();
  const dy = T.tensor(randomData(size(y.shape), 5), y.shape).keep();
  const clear = () => {
    for (const t of [x, w]) {
      t.grad?.dispose();
      t.grad = null;
    }
  };
  return {
    run: () => {
      y.backward(dy, { retainGraph: true });
      clear();
    },
    dispose: () => [x, w, y, dy].forEach((t) => t.dispose()),
  };
}

// ---------------------------------------------------------------------------------------------------
// The sweep

interface Results {
  checks: Check[];
  timings: Timing[];
  skipped: { op: Op; variant: string; precision: string; why: string }[];
}

async function sweepOp(e: T.Engine, op: Op, half: boolean, variants: Variant[], started: number, out: Results): Promise<void> {
  const precision = half ? 'f16' : 'f32';
  const cases = op === 'matmul'
    ? PRODUCTS.map((p) => ({ shape: p.name, cls: productClass(p), flops: flopsOf(p), make: () => productRun(p) }))
    : LAYERS.filter((l) => op !== 'dgrad' || l.dgrad).map((l) => ({ shape: l.name, cls: layerClass(l, op), flops: layerFlops(l), make: () => layerRun(l, op) }));
  const passed: Variant[] = [];
  for (const v of variants) {
    const name = T.variantName(v);
    pinVariant(e, op, v);
    let worst = NaN;
    const error = await captured(e, async () => {
      worst = op === 'matmul' ? await checkMatmul(half) : await checkConv(op, half);
    });
    const ok = !error && worst <= CHECK_TOL;
    out.checks.push({ op, variant: name, precision, ok, ...(error ? { error } : { maxRelError: worst }) });
    if (ok) passed.push(v);
    else log(`  ${op} ${precision} ${name}: REJECTED (${error ?? `relative error ${worst.toExponential(2)} > ${CHECK_TOL}`})`);
  }
  log(`  ${op} ${precision}: ${passed.length} of ${variants.length} variants pass the check`);
  // Shape by shape, the variants take turns in each of SAMPLES rounds (the first: a warm-up run, which
  // compiles, then one timed run that sets the reps), so that a change in the machine's load between
  // rounds falls on all of them alike.
  for (const c of cases) {
    const t0 = now();
    const { run, dispose } = c.make();
    const best = new Map<Variant, { ms: number; reps: number }>();
    const failed = new Set<Variant>();
    for (let round = 0; round < SAMPLES; round++) {
      for (const v of passed) {
        if (failed.has(v)) continue;
        if (now() - started > BUDGET_MS) {
          if (round === 0) out.skipped.push({ op, variant: T.variantName(v), precision, why: `${c.shape}: time budget spent` });
          continue;
        }
        pinVariant(e, op, v);
        const error = await captured(e, async () => {
          if (round === 0) {
            run();
            await e.sync();
            const ms = await sample(e, run, 1);
            best.set(v, { ms, reps: Math.max(1, Math.min(200, Math.floor(SAMPLE_MS / Math.max(ms, 1e-3)))) });
          } else {
            const b = best.get(v)!;
            b.ms = Math.min(b.ms, await sample(e, run, b.reps));
          }
        });
        if (error) {
          failed.add(v);
          best.delete(v);
          out.skipped.push({ op, variant: T.variantName(v), precision, why: `${c.shape}: ${error}` });
        }
      }
    }
    dispose();
    for (const [v, { ms, reps }] of best) {
      out.timings.push({ op, shape: c.shape, class: c.cls, variant: T.variantName(v), precision, ms, gflops: c.flops / (ms * 1e6), reps });
    }
    log(`  ${op} ${precision} ${c.shape}: ${best.size} variants timed in ${((now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** Weight of a timing's shape in a training step (ResNet-32's layer counts; 1 for the products). */
function weightOf(t: Timing): number {
  return LAYERS.find((l) => l.name === t.shape)?.weight ?? PRODUCTS.find((p) => p.name === t.shape)?.weight ?? 1;
}

interface ClassWinner {
  class: string;
  shapes: string[];
  winner: string;
  ms: number;
  /** Today's choice (the engine's default for this adapter without a table entry) on the same shapes. */
  defaultMs: number;
}

/**
 * `default`: today's choice (what the engine runs on this adapter without an entry), so the entry
 * changes nothing it did not measure; per class, the variant with the least weighted time over the
 * class's shapes (timed on all of them) where it beats today's choice there by CLASS_MARGIN.
 */
function winnersOf(timings: Timing[], variants: Variant[], today: Variant): { picks: Picks<Variant>; table: ClassWinner[] } | null {
  if (!timings.length) return null;
  const byName = new Map(variants.map((v) => [T.variantName(v), v]));
  const todayName = T.variantName(today);
  const classes: Record<string, Variant> = {};
  const table: ClassWinner[] = [];
  for (const cls of [...new Set(timings.map((t) => t.class))]) {
    const ts = timings.filter((t) => t.class === cls);
    const shapes = new Set(ts.map((t) => t.shape));
    const totals = new Map<string, { ms: number; n: number }>();
    for (const t of ts) {
      const x = totals.get(t.variant) ?? { ms: 0, n: 0 };
      totals.set(t.variant, { ms: x.ms + weightOf(t) * t.ms, n: x.n + 1 });
    }
    const complete = [...totals].filter(([, x]) => x.n === shapes.size).sort((a, b) => a[1].ms - b[1].ms);
    const todayMs = totals.get(todayName)?.n === shapes.size ? totals.get(todayName)!.ms : NaN;
    if (!complete.length || !(todayMs > 0)) continue;
    const [name, { ms }] = complete[0];
    const own = name !== todayName && ms < (1 - CLASS_MARGIN) * todayMs;
    table.push({ class: cls, shapes: [...shapes], winner: own ? name : todayName, ms: own ? ms : todayMs, defaultMs: todayMs });
    if (own) classes[cls] = byName.get(name)!;
  }
  return { picks: { default: today, classes }, table };
}

/** The table with `entry` in place of any entry for the same adapter key. */
function merged(table: WinnersTable, entry: WinnersEntry): WinnersTable {
  const same = (x: WinnersEntry) => keyName(x.adapter) === keyName(entry.adapter);
  return { format: WINNERS_FORMAT, entries: [...table.entries.filter((x) => !same(x)), entry] };
}

/** JSON with each object or array of scalars (a variant, a feature list) on one line, so the table reads as a table. */
function formatJson(x: unknown): string {
  const flat = (open: string, close: string) => (_: string, body: string) => `${open} ${body.split(/,\n\s+/).join(', ')} ${close}`;
  return `${JSON.stringify(x, null, 2).replace(/\{\n\s+([^{}[\]]*?)\n\s*\}/g, flat('{', '}')).replace(/\[\n\s+([^{}[\]]*?)\n\s*\]/g, flat('[', ']'))}\n`;
}

function updateTable(entry: WinnersEntry): void {
  const table = parseWinners(JSON.parse(readFileSync(TABLE_PATH, 'utf8')));
  writeFileSync(TABLE_PATH, formatJson(merged(table, entry)));
  log(`wrote the entry for ${keyName(entry.adapter)} into ${TABLE_PATH}`);
}

async function main(): Promise<void> {
  const from = option('from');
  if (from) {
    const { entry } = JSON.parse(readFileSync(from, 'utf8')) as { entry?: WinnersEntry };
    if (!entry) throw new Error(`${from}: no 'entry' (not a sweep's JSON?)`);
    parseWinners({ format: WINNERS_FORMAT, entries: [entry] });
    if (flag('update-table')) updateTable(entry);
    else log(`${from}: the entry for ${keyName(entry.adapter)} is valid; add --update-table to write it`);
    return;
  }
  const started = now();
  // An empty table: start-up measures the matmul styles, i.e. does what it does for an adapter without an entry.
  const e = await T.init({ winners: { format: WINNERS_FORMAT, entries: [] } });
  const info = e.device.adapterInfo as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const features = ['subgroups', 'shader-f16'].filter((f) => e.features.has(f));
  const withF16 = e.features.has('shader-f16') && !flag('no-f16');
  log(`# kernel sweep${quick ? ' (--quick)' : ''}`);
  log(`adapter: ${e.describeAdapter()}; features: ${features.join(', ') || 'neither subgroups nor shader-f16'}; subgroup sizes ${info.subgroupMinSize ?? '?'}-${info.subgroupMaxSize ?? '?'}`);
  log(`host: ${await describeHost()}`);
  log(`start-up choice without a table entry would be: matmul ${e.matmulVariant} (${tuningOf(e).source}); budget ${BUDGET_MS / 1000} s`);
  // What the engine runs without an entry: the style the start-up measurement picked, today's conv2d.
  const today = defaultPicks(e, e.matmulVariant);

  const results: Results = { checks: [], timings: [], skipped: [] };
  const precisions = withF16 ? [false, true] : [false];
  const candidates: Record<Op, Variant[]> = {
    matmul: T.matmulCandidates(e).filter((v) => !quick || QUICK_MATMUL.includes(T.variantName(v))),
    forward: [], dgrad: [], wgrad: [],
  };
  for (const kind of CONV_KINDS) candidates[kind] = T.convCandidates(e, kind).filter((v) => !quick || quickConv(e, kind, v));
  const only = option('only')?.split(',');
  const ops = (['matmul', ...CONV_KINDS] as Op[]).filter((op) => !only || only.includes(op));
  for (const half of precisions) {
    e.f16Storage = half;
    for (const op of ops) {
      log(`${op}${half ? ' (f16 storage)' : ''}: ${candidates[op].length} variants`);
      await sweepOp(e, op, half, candidates[op], started, results);
    }
  }
  e.f16Storage = false;

  // Winners of each op timed; picks (an entry) only when all four ops have one.
  const winnersFor = (precision: 'f32' | 'f16') => {
    const of = (op: Op) => results.timings.filter((t) => t.op === op && t.precision === precision);
    const todayOf = (op: Op): Variant => (op === 'matmul' ? today.matmul.default : today.conv[op].default);
    const won = Object.fromEntries(ops.map((op) => [op, winnersOf(of(op), candidates[op], todayOf(op))]));
    const tables = Object.fromEntries(Object.entries(won).filter(([, w]) => w).map(([op, w]) => [op, w!.table])) as Partial<Record<Op, ClassWinner[]>>;
    const all = (['matmul', ...CONV_KINDS] as Op[]).every((op) => won[op]);
    const picks: PrecisionPicks | null = all
      ? { matmul: won.matmul!.picks as Picks<MatmulVariant>, conv: Object.fromEntries(CONV_KINDS.map((k) => [k, won[k]!.picks])) as PrecisionPicks['conv'] }
      : null;
    return { picks, tables };
  };
  const f32 = winnersFor('f32');
  const f16 = withF16 ? winnersFor('f16') : null;

  for (const [label, w] of [['f32', f32], ['f16 storage', f16]] as const) {
    if (!w || !Object.keys(w.tables).length) continue;
    log('');
    log(`winners per shape class (${label}); ms = weighted time per training step over the class's shapes`);
    log(formatTable([
      ['op', 'class', 'winner', 'ms', "today's ms", 'speed-up', 'shapes'],
      ...(Object.entries(w.tables) as [Op, ClassWinner[]][]).flatMap(([op, rows]) =>
        rows.map((r) => [op, r.class, r.winner, r.ms, r.defaultMs, r.defaultMs / r.ms, r.shapes.join('; ')])),
    ]));
  }
  const rejected = results.checks.filter((c) => !c.ok);
  if (rejected.length) log(`\nREJECTED (never chosen): ${rejected.map((c) => `${c.op} ${c.precision} ${c.variant}`).join(', ')}`);
  if (results.skipped.length) log(`skipped: ${results.skipped.length} (see JSON)`);

  const a = e.adapter;
  const entry: WinnersEntry | null = f32.picks && {
    // An architecture names the chip family; without one, the device string has to.
    adapter: { vendor: a.vendor, architecture: a.architecture, ...(a.architecture ? {} : { device: a.device }), description: a.description },
    measured: {
      date: new Date().toISOString().slice(0, 10),
      by: `npm run bench:sweep${quick ? ' -- --quick' : ''}`,
      device: a.device,
      features,
      shapes: quick ? 'ResNet-32 convs at batch 4, contrastive B = 256' : 'ResNet-32 convs at batch 128, contrastive B = 256..4096',
    },
    ...f32.picks,
    ...(f16?.picks ? { f16: f16.picks } : {}),
  };
  const json = {
    bench: 'sweep',
    mode: quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    adapter: { ...a, isFallbackAdapter: a.isFallbackAdapter, features, subgroupMinSize: info.subgroupMinSize, subgroupMaxSize: info.subgroupMaxSize },
    host: await describeHost(),
    seconds: (now() - started) / 1000,
    checks: results.checks,
    timings: results.timings,
    skipped: results.skipped,
    winners: { f32: f32.tables, f16: f16?.tables ?? null },
    entry,
  };
  const outFile = option('out') ?? 'sweep.json';
  writeFileSync(outFile, `${JSON.stringify(json, null, 1)}\n`);
  log(`\nfigures: ${outFile}; sweep took ${json.seconds.toFixed(0)} s`);
  if (!entry) {
    log(`no entry: ${only ? '--only' : 'some op has no variant timed on all its shapes'}`);
    if (!only) process.exitCode = 1;
    return;
  }
  const known = existsSync(TABLE_PATH) ? findEntry(parseWinners(JSON.parse(readFileSync(TABLE_PATH, 'utf8'))), a) : undefined;
  if (flag('update-table')) updateTable(entry);
  else log(`entry for ${keyName(entry.adapter)} in the JSON ('entry')${known ? '; the table already has one for this adapter' : ''}; --update-table writes it into ${TABLE_PATH}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

