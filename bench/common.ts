// Shared helpers for the benchmarks in bench/: timing, the output format, and TensorFlow.js's WebGPU
// backend running on our engine's own GPUDevice (same adapter, same process, same run).
//
// Output contract: every benchmark prints, as its LAST line, one JSON object
//   {"bench": name, "adapter": "...", "date": "...", "results": [{case, ours, peer, unit, ratio}, ...]}
// (see printReport). Anything before that line is for humans.
import * as T from '../src/node.js';
import type { Engine } from '../src/node.js';
import type { Classifier } from '../src/nn/resnet.js';
import { SGD } from '../src/optim/sgd.js';

// ---------------------------------------------------------------------------------------------------
// Timing

export interface TimeOptions {
  /** Keep repeating until this many milliseconds of measured reps have run (default 1000). */
  minMs?: number;
  /** Measure at least this many reps, whatever the budget (default 3). */
  minReps?: number;
  /** Never measure more than this many reps (default 50). */
  maxReps?: number;
  /** Warm-up reps before measuring (default 1: compiles pipelines, fills pools, uploads inputs). */
  warmup?: number;
}

export interface Timing {
  /** Fastest rep, ms. */
  bestMs: number;
  /** Median rep, ms. */
  medianMs: number;
  /** Measured reps (warm-up excluded). */
  reps: number;
  /** Duration of the (first) warm-up rep, ms: includes compilation. */
  warmupMs: number;
}

const now = () => performance.now();

/**
 * Times an async step. `step` must do one rep AND wait for its completion (for GPU work: until the
 * queue has finished it, not just until it is encoded). Runs `warmup` reps, then measures reps one by
 * one until `minMs` is used (at least `minReps`, at most `maxReps`).
 */
export async function timeIt(step: () => Promise<void>, opts: TimeOptions = {}): Promise<Timing> {
  const minMs = opts.minMs ?? 1000;
  const minReps = Math.max(1, opts.minReps ?? 3);
  const maxReps = Math.max(minReps, opts.maxReps ?? 50);
  const warmup = opts.warmup ?? 1;
  let warmupMs = 0;
  for (let i = 0; i < warmup; i++) {
    const t0 = now();
    await step();
    if (i === 0) warmupMs = now() - t0;
  }
  const times: number[] = [];
  let total = 0;
  while (times.length < maxReps && (times.length < minReps || total < minMs)) {
    const t0 = now();
    await step();
    const dt = now() - t0;
    times.push(dt);
    total += dt;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { bestMs: sorted[0], medianMs, reps: times.length, warmupMs };
}

/**
 * Images/s of one SGD training step (momentum 0.9: forward, cross-entropy, backward, update) of `model`
 * on a random batch [batch, ...imageShape] with labels i % 10; disposes the model afterwards.
 */
export async function trainStepRate(e: Engine, model: Classifier, batch: number, imageShape: number[], budget: TimeOptions): Promise<number> {
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = T.randn([batch, ...imageShape], 0, 1, { seed: 2 });
  const y = T.tensor(Array.from({ length: batch }, (_, i) => i % 10), [batch], 'i32');
  const t = await timeIt(async () => {
    T.scope(() => {
      T.crossEntropy(model.forward(x), y).backward();
      opt.step();
      opt.zeroGrad();
    });
    await e.sync();
  }, budget);
  opt.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  return (batch * 1000) / t.bestMs;
}

/** GFLOP/s of `flops` floating-point operations done in `ms` milliseconds. */
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}

/**
 * Lets the event loop run (Dawn's callbacks): do it inside long CPU loops. Blocking the JS thread for
 * 100 ms or more while Dawn has work or a buffer mapping outstanding can abort or hang the process.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---------------------------------------------------------------------------------------------------
// Output

export interface ResultRow {
  case: string;
  ours: number;
  peer: number;
  unit: string;
  /** ours / peer (higher is better for us when the unit is a rate). */
  ratio: number;
}

/** A row, with the ratio computed (null-safe: a missing peer gives ratio NaN, printed as null). */
export function row(name: string, ours: number, peer: number, unit = 'GFLOP/s'): ResultRow {
  return { case: name, ours, peer, unit, ratio: ours / peer };
}

function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  const p = 10 ** (digits - Math.max(0, Math.floor(Math.log10(Math.abs(x) || 1)) + 1));
  return Math.round(x * p) / p;
}

/** A plain-text table: the first row is the header; numbers right-aligned. */
export function formatTable(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? String(round(c)) : c)));
  const widths = cells[0].map((_, j) => Math.max(...cells.map((r) => (r[j] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, j) => (typeof rows[0][j] === 'string' && j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  const out = [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  return out.join('\n');
}

/** Prints the human-readable table of `results`, then the JSON line (which must be the last output). */
export function printReport(bench: string, adapter: string, results: ResultRow[]): void {
  const header = ['case', 'ours', 'peer', 'unit', 'ratio'];
  console.log(formatTable([header, ...results.map((r) => [r.case, r.ours, r.peer, r.unit, r.ratio])]));
  const json = {
    bench,
    adapter,
    date: new Date().toISOString(),
    // Fields beyond ResultRow's (a bench's own figures) come along, numbers rounded like the rest.
    results: results.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]))),
  };
  // JSON.stringify writes NaN/Infinity as null, which keeps the line parseable.
  console.log(JSON.stringify(json));
}

// ---------------------------------------------------------------------------------------------------
// Arguments and environment

/** True if `--name` is on the command line. */
export function flag(name: string): boolean {
  return process.argv.slice(2).includes(`--${name}`);
}

/** One line about the machine for the human-readable header. */
export async function describeHost(): Promise<string> {
  const os = await import('node:os');
  const cpus = os.cpus();
  return `node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} cores (${cpus[0]?.model ?? '?'})`;
}

/** Deterministic uniform data in [-1, 1) (xorshift32), so that both libraries see identical inputs. */
export function randomData(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** `n` rows of width `d` from {@link randomData}(n·d, seed), each scaled to unit length. */
export function unitRows(n: number, d: number, seed: number): Float32Array {
  const x = randomData(n * d, seed);
  for (let i = 0; i < n; i++) {
    const r = x.subarray(i * d, (i + 1) * d);
    const s = Math.hypot(...r);
    r.forEach((v, k) => (r[k] = v / s));
  }
  return x;
}

/** `n` long-tailed labels in [0, classes): class c with probability ∝ decay^c (a deterministic draw). */
export function longTailLabels(n: number, classes: number, decay: number, seed: number): Int32Array {
  const w = Array.from({ length: classes }, (_, c) => decay ** c);
  const total = w.reduce((a, v) => a + v, 0);
  return Int32Array.from(randomData(n, seed), (v) => {
    let t = ((v + 1) / 2) * total;
    let c = 0;
    while (c < classes - 1 && (t -= w[c]) > 0) c++;
    return c;
  });
}

/** Waits for the queue, reads the scalar `out` and disposes it. */
export async function finish(out: T.Tensor): Promise<number> {
  await T.engine().sync();
  const v = await out.item();
  out.dispose();
  return v;
}

/** One forward + backward of the scalar `loss`, the gradients of `leaves` dropped, waited for; its value. */
export async function lossStep(leaves: T.Tensor[], loss: () => T.Tensor): Promise<number> {
  const l = T.scope(() => {
    const out = loss();
    out.backward();
    return out.keep();
  });
  for (const t of leaves) {
    t.grad?.dispose();
    t.grad = null;
  }
  return finish(l);
}

// ---------------------------------------------------------------------------------------------------
// TensorFlow.js WebGPU on our device

export type TF = typeof import('@tensorflow/tfjs-core');
export type TFWebGPUBackend = import('@tensorflow/tfjs-backend-webgpu').WebGPUBackend;

export interface PeerTF {
  tf: TF;
  backend: TFWebGPUBackend;
  /** Submits whatever TF.js has recorded and waits until the GPU queue has finished it. */
  sync(): Promise<void>;
}

export const TFJS_BACKEND_NAME = 'webgpu-ours';

/**
 * Creates TensorFlow.js's WebGPU backend on `e.device` (the GPUDevice our engine runs on) and makes it
 * TF.js's current backend, registered as 'webgpu-ours'.
 *
 * Under Node 20 there is no `navigator`. Importing @tensorflow/tfjs-backend-webgpu without one is fine
 * (its auto-registered 'webgpu' backend is then simply not registered), but its WebGPUBackend
 * constructor throws unless `navigator.gpu` is truthy, and it uses the WebGPU globals (GPUBufferUsage,
 * GPUMapMode, GPUBuffer, ...) that Node lacks. So, after our engine is up (acquireDevice looks at navigator.gpu
 * first), this defines a `navigator.gpu` placeholder if none exists, and the missing WebGPU globals from
 * the `webgpu` package. TF.js never uses `navigator.gpu` itself once it is handed a device.
 */
export async function createTfjsOnDevice(e: Engine): Promise<PeerTF> {
  const g = globalThis as Record<string, unknown>;
  const nav = g.navigator as { gpu?: unknown } | undefined;
  if (!nav?.gpu) {
    const placeholder = {
      requestAdapter: () => {
        throw new Error('bench: navigator.gpu is a placeholder; TF.js must use the device it was given');
      },
    };
    if (nav) Object.defineProperty(nav, 'gpu', { value: placeholder, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu: placeholder }, configurable: true, writable: true });
  }
  if (typeof process !== 'undefined' && process.versions?.node) {
    const { globals } = (await import('webgpu')) as unknown as { globals: Record<string, unknown> };
    // GPUBufferUsage, GPUMapMode, ... and the classes (TF.js tests `instanceof GPUBuffer`).
    for (const [name, value] of Object.entries(globals)) if (g[name] === undefined) g[name] = value;
  }
  const tf = await import('@tensorflow/tfjs-core');
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const backend = new WebGPUBackend(e.device, e.device.adapterInfo);
  if (tf.findBackend(TFJS_BACKEND_NAME)) tf.removeBackend(TFJS_BACKEND_NAME);
  // Kernels are registered per backend name: give ours the 'webgpu' ones.
  if (tf.getKernelsForBackend(TFJS_BACKEND_NAME).length === 0) tf.copyRegisteredKernels('webgpu', TFJS_BACKEND_NAME);
  tf.registerBackend(TFJS_BACKEND_NAME, () => backend, 0);
  if (!(await tf.setBackend(TFJS_BACKEND_NAME))) throw new Error(`bench: TF.js could not switch to backend ${TFJS_BACKEND_NAME}`);
  await tf.ready();
  const sync = async () => {
    // Close TF.js's open pass and submit its encoder (an empty one is harmless), then wait for the
    // shared queue: that covers all work TF.js (and we) submitted.
    backend.endComputePassEncoder();
    backend.ensureCommandEncoderReady();
    backend.submitQueue();
    await e.device.queue.onSubmittedWorkDone();
  };
  return { tf, backend, sync };
}

/**
 * Registers TF.js's gradient functions (needed by `optimizer.minimize`). tfjs-core's Node bundle ships
 * the kernels' forward only; the gradients are a side-effect module of extensionless ES imports that
 * Node's resolver refuses, so esbuild bundles it into a temporary file first. Its duplicated tfjs-core
 * internals register into the same global registry (tfjs keeps its engine and registries on globalThis).
 */
export async function registerTfjsGradients(): Promise<void> {
  const { build } = await import('esbuild');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const { createRequire } = await import('node:module');
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-grads-'));
  try {
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    const outfile = join(dir, 'grads.mjs');
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'error' });
    await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Prints a benchmark's header (title, adapter, host, then `notes`) and starts TF.js's WebGPU backend on
 * our device; null, with the reason printed, where it cannot start.
 */
export async function benchHeader(title: string, e: Engine, notes: string[] = []): Promise<PeerTF | null> {
  console.log(`# ${title}${flag('quick') ? ' (--quick)' : ''}`);
  console.log(`adapter: ${e.describeAdapter()}`);
  console.log(`host: ${await describeHost()}`);
  for (const line of notes) console.log(line);
  try {
    const peer = await createTfjsOnDevice(e);
    console.log(`peer: TensorFlow.js ${peer.tf.version_core} WebGPU backend on our GPUDevice (backend '${peer.tf.getBackend()}')`);
    return peer;
  } catch (err) {
    console.log(`peer: TensorFlow.js WebGPU backend unavailable: ${(err as Error).message}`);
    return null;
  }
}
