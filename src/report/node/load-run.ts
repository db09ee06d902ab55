// Node-only: reads a run directory into RunData and writes the HTML report next to it.
//
// Run-directory format (everything but the log optional; unknown files are ignored):
//   log.jsonl               one JSON object a line, told apart by their fields:
//                             per-epoch evaluation  {epoch, step, loss, lr?, top1, perClass, classAverage, many, medium, few}
//                             per-step progress     {step, loss, lr?, epoch?}            (no top1)
//                             final summary         {config, adapter, trainCounts, final, ...} (the trainer's TrainResult)
//                           a line that is not JSON (a run killed mid-write) is skipped with a note.
//   summary.json            the final summary, for runs whose summary went to stdout only; merged over the log's.
//   checkpoint.safetensors  `fc.weight` gives the per-class classifier norms ([K, d] linear, [d, K] cosine).
//   embeddings.safetensors  `embeddings` [n, d] f32 (test features, as the classifier sees them), `labels` [n]
//                           (i32 or i64), optionally `weights` [K, d] classifier weights (overrides the checkpoint's;
//                           the trainer writes the evaluated classifier's: the probe's for probe recipes) and
//                           `projections` [n, p] f32 (the projection head's output, unit rows, for recipes with a head).
//   metrics.json            {classNames?: string[], balancedAccuracy?, rocAuc?, predictions?: {predicted, labels},
//                            twoClasses?: {sadMean, m?, space?, views?, classes: [{label, samples?, sad, saa, cad, cac, uniformity}]},
//                            geometry?: {embeddings?, projections?} (classGeometry without `means`),
//                            classifierNorms?: number[], gradientNorms?: {perClass, samples, classifier}}
//                           (src/train/diagnostics.ts writes it; twoClassesSummary() in src/metrics/summary.ts
//                           turns twoClassesMetrics' result into `twoClasses`; NaN is written as null).
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DATASETS, type DatasetName } from '../../data/datasets.js';
import { writeFileAtomic } from '../../io/node/atomic.js';
import { loadSafetensors } from '../../io/node/safetensors.js';
import type { SafetensorsFile, SafetensorsTensor } from '../../io/safetensors.js';
import { runObjective } from '../../geometry/learned.js';
import { optimalGeometry, thresholdCurves, type OptimalOptions } from '../analysis.js';
import { renderComparison, renderReport } from '../render.js';
import type { EpochRecord, ExtraMetrics, RunData, RunSummary, StepRecord } from '../types.js';

/** Options of {@link loadRun}. */
export interface LoadOptions {
  /** Solve for the optimal class-mean geometry at the run's proportions (default on); false skips it. */
  optimal?: OptimalOptions | false;
}

/** Class names from the dataset registry, for runs whose metrics.json does not list them. */
function registryClassNames(config: Record<string, unknown> | undefined): string[] | undefined {
  const spec = DATASETS[String(config?.dataset) as DatasetName];
  if (!spec) return undefined;
  const names = spec.classNames({ labels: config?.labels === 'coarse' ? 'coarse' : 'fine', dataFile: typeof config?.dataFile === 'string' ? config.dataFile : undefined });
  const binary = config?.binary;
  return Array.isArray(binary) && binary.length === 2 ? [names[binary[0]], names[binary[1]]] : names;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' || v === null;

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A safetensors file, or undefined when absent; an unreadable one becomes a note, not a failure. */
async function optionalTensors(path: string, notes: string[]): Promise<SafetensorsFile | undefined> {
  try {
    await stat(path);
  } catch {
    return undefined;
  }
  try {
    return await loadSafetensors(path);
  } catch (e) {
    notes.push(`${basename(path)} could not be read (${(e as Error).message}); ignored.`);
    return undefined;
  }
}

/** JSON stores NaN (an empty shot group) as null: back to NaN so that the figures skip it. */
const num = (v: unknown) => (typeof v === 'number' ? v : NaN);
const numbers = (t: SafetensorsTensor) => Array.from(t.data as ArrayLike<number | bigint>, Number);

/** Splits the lines of log.jsonl into epoch records, step records and the summary. */
function parseLog(text: string, notes: string[]): { epochs: EpochRecord[]; steps: StepRecord[]; summary?: RunSummary } {
  const epochs: EpochRecord[] = [];
  const steps: StepRecord[] = [];
  let summary: RunSummary | undefined;
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      notes.push(`log.jsonl line ${i + 1} is not JSON (a run stopped mid-write?); skipped.`);
      return;
    }
    if (!isObject(rec)) {
      notes.push(`log.jsonl line ${i + 1} is not an object; skipped.`);
    } else if ('config' in rec || 'final' in rec) {
      summary = rec as RunSummary;
    } else if (typeof rec.epoch === 'number' && isNum(rec.top1) && Array.isArray(rec.perClass)) {
      epochs.push({
        epoch: rec.epoch, step: num(rec.step), loss: num(rec.loss), lr: typeof rec.lr === 'number' ? rec.lr : undefined,
        top1: num(rec.top1), perClass: rec.perClass.map(num), classAverage: num(rec.classAverage), many: num(rec.many), medium: num(rec.medium), few: num(rec.few),
      });
    } else if (typeof rec.step === 'number' && isNum(rec.loss)) {
      steps.push({ step: rec.step, loss: num(rec.loss), lr: typeof rec.lr === 'number' ? rec.lr : undefined, epoch: typeof rec.epoch === 'number' ? rec.epoch : undefined });
    } else {
      notes.push(`log.jsonl line ${i + 1} is neither a step, an epoch nor a summary record; skipped.`);
    }
  });
  return { epochs, steps, summary };
}

/** Per-class norms of a classifier weight: rows of [K, d], or columns for the cosine head's [d, K]. */
function classNorms(t: SafetensorsTensor, transposed: boolean): number[] {
  const [r, c] = t.shape;
  const v = numbers(t);
  const [k, d] = transposed ? [c, r] : [r, c];
  return Array.from({ length: k }, (_, a) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (transposed ? v[j * c + a] : v[a * d + j]) ** 2;
    return Math.sqrt(s);
  });
}

/**
 * Reads the run directory `dir` (format in this file's header). Throws a clear error when `dir` is
 * missing, not a directory, or holds neither a log nor a summary; any other missing piece is left
 * undefined and the report omits its figure.
 */
export async function loadRun(dir: string, opts: LoadOptions = {}): Promise<RunData> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new Error(`report: run directory '${dir}' does not exist`);
  if (!info.isDirectory()) throw new Error(`report: '${dir}' is not a directory (give the run's output folder, --out of npm run train)`);
  const notes: string[] = [];
  const logText = await readOptional(join(dir, 'log.jsonl'));
  const summaryText = await readOptional(join(dir, 'summary.json'));
  if (logText === undefined && summaryText === undefined) {
    throw new Error(`report: '${dir}' holds no log.jsonl or summary.json: not a run directory, or the run has not finished an epoch yet`);
  }
  const { epochs, steps, summary: logSummary } = parseLog(logText ?? '', notes);
  let summary = logSummary;
  if (summaryText !== undefined) {
    try {
      summary = { ...summary, ...(JSON.parse(summaryText) as RunSummary) };
    } catch {
      notes.push('summary.json is not valid JSON; ignored.');
    }
  }
  if (!epochs.length && !steps.length && !summary) throw new Error(`report: '${dir}' has an empty log (no step, epoch or summary record)`);

  let metrics: (ExtraMetrics & { classNames?: string[] }) | undefined;
  const metricsText = await readOptional(join(dir, 'metrics.json'));
  if (metricsText !== undefined) {
    try {
      const parsed: unknown = JSON.parse(metricsText);
      if (isObject(parsed)) metrics = parsed as ExtraMetrics;
      else notes.push('metrics.json is not a JSON object; ignored.');
    } catch {
      notes.push('metrics.json is not valid JSON; ignored.');
    }
  }

  const ckpt = await optionalTensors(join(dir, 'checkpoint.safetensors'), notes);
  const embFile = await optionalTensors(join(dir, 'embeddings.safetensors'), notes);
  let config = summary?.config;
  if (!config && ckpt?.metadata.config) {
    try {
      config = JSON.parse(ckpt.metadata.config) as Record<string, unknown>;
    } catch {
      /* A checkpoint without a readable config only loses the header table. */
    }
  }
  let classifierNorms: number[] | undefined;
  const w = embFile?.tensors.get('weights') ?? ckpt?.tensors.get('fc.weight');
  if (w && w.shape.length === 2) classifierNorms = classNorms(w, !embFile?.tensors.has('weights') && config?.classifier === 'cosine');

  let embeddings: RunData['embeddings'];
  let projections: RunData['projections'];
  if (embFile) {
    const e = embFile.tensors.get('embeddings');
    const l = embFile.tensors.get('labels');
    if (e?.shape.length === 2 && l && l.data.length === e.shape[0]) {
      const labels = numbers(l);
      embeddings = { data: numbers(e), n: e.shape[0], d: e.shape[1], labels };
      const p = embFile.tensors.get('projections');
      if (p?.shape.length === 2 && p.shape[0] === e.shape[0]) projections = { data: numbers(p), n: p.shape[0], d: p.shape[1], labels };
      else if (p) notes.push(`embeddings.safetensors: \`projections\` [${p.shape.join(', ')}] does not have one row per embedding; ignored.`);
    } else notes.push('embeddings.safetensors lacks `embeddings` [n, d] with matching `labels` [n]; ignored.');
  }

  const trainCounts = summary?.trainCounts;
  const run: RunData = {
    name: basename(resolve(dir)),
    epochs,
    steps,
    summary: summary || config ? { ...summary, config } : undefined,
    trainCounts,
    classNames: metrics?.classNames ?? registryClassNames(config),
    embeddings,
    projections,
    classifierNorms,
    metrics,
    notes,
  };
  // Only worth solving when the trained geometry is there to be compared with; the objective is the run's
  // own (runObjective, shared with npm run geometry -- --run) unless the caller overrides a part of it.
  if (opts.optimal !== false && embeddings && trainCounts) {
    const auto = runObjective(config);
    const o = opts.optimal ?? {};
    const chosen = { loss: o.loss ?? auto.loss, tau: o.tau ?? auto.tau, negatives: o.negatives ?? auto.negatives, seed: o.seed };
    const overridden = o.loss !== undefined || o.tau !== undefined || o.negatives !== undefined;
    const optimal = optimalGeometry(trainCounts, chosen);
    if (optimal) run.optimal = { ...optimal, note: overridden ? `objective set by the caller (the run's own: ${auto.note})` : auto.note };
    run.thresholds = thresholdCurves({ loss: chosen.loss });
  }
  return run;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Loads `runDir` and writes `<runDir>/report.html` atomically; returns its path. */
export async function writeReport(runDir: string, opts: LoadOptions = {}): Promise<string> {
  const path = join(runDir, 'report.html');
  await writeFileAtomic(path, utf8(renderReport(await loadRun(runDir, opts))));
  return path;
}

/**
 * Loads every run of `runDirs` and writes their comparison atomically to `out` (default: compare.html
 * beside the first run directory, where runs of one study usually sit together); returns its path.
 */
export async function writeComparison(runDirs: string[], out?: string, opts: LoadOptions = {}): Promise<string> {
  if (!runDirs.length) throw new Error('compare: give at least one run directory');
  const runs = [];
  // The comparison draws neither the optimal geometry nor the threshold curves: not solved here.
  for (const d of runDirs) runs.push(await loadRun(d, { ...opts, optimal: false }));
  const path = out ?? join(dirname(resolve(runDirs[0])), 'compare.html');
  await writeFileAtomic(path, utf8(renderComparison(runs)));
  return path;
}
