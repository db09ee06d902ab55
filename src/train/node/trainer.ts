// The Node adapter of the training loop (../loop.ts): dataset files, the run folder, atomic
// checkpoints, log.jsonl, the diagnostics files and summary.json. Everything that trains is the
// platform-neutral library; this file only reads and writes files. The report is the CLI's business.
import { appendFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetSpec } from '../../data/datasets.js';
import { loadDataset } from '../../data/node/datasets.js';
import { pathExists } from '../../data/node/idx-files.js';
import { samplerBatchCount } from '../../data/samplers.js';
import { init } from '../../engine.js';
import { useDawn } from '../../gpu/node/dawn.js';
import { writeFileAtomic } from '../../io/node/atomic.js';
import { faultPoint } from '../../io/node/faults.js';
import { readBytes } from '../../io/node/files.js';
import { loadSafetensors, saveSafetensors } from '../../io/node/safetensors.js';
import { decodeSafetensors } from '../../io/safetensors.js';
import type { AccuracyReport } from '../../metrics/accuracy.js';
import { COMMON_OPTIONS, defaultConfig, resolveConfig, type ResolvedConfig, type TrainConfig } from '../config.js';
import { disposeData, selectData, uploadData } from '../data.js';
import { NonFiniteLossError, NonFiniteParameterError, Training, type StepProgress } from '../loop.js';
import { UsageError } from '../options.js';
import { allRecipeOptions } from '../recipes/index.js';
import { probeWritable, removeLeftovers, removeRun, runFilesIn, RunLock, truncateLog } from './run-folder.js';

export interface TrainResult {
  config: TrainConfig;
  adapter: string;
  epochs: number;
  steps: number;
  trainCounts: number[];
  classNames: string[];
  final: AccuracyReport & { auc?: number; loss: number };
  wallSeconds: number;
  imagesPerSecond: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /**
   * Continue the run in `config.out` from its checkpoint (an error when there is none). The
   * checkpoint's configuration is the run's: `config` may differ from it only in {@link RESUME_SAFE}.
   */
  resume?: boolean;
  /** Replace the run that `config.out` holds (without it, a folder holding a run is refused). */
  overwrite?: boolean;
  /** Receives the log lines (default console.log). */
  log?: (line: string) => void;
  /** Receives each progress record instead of a progress line in `log` (a terminal's progress bar). */
  progress?: (p: StepProgress) => void;
  /** Stops the run at the next step. */
  signal?: AbortSignal;
}

export const CHECKPOINT = 'checkpoint.safetensors';

/** The settings a resumed run may change: more epochs, the progress interval, where files are. */
export const RESUME_SAFE: readonly (keyof TrainConfig)[] = ['epochs', 'logEvery', 'out', 'dataDir'];

/** The configuration in a checkpoint's metadata (`path` names it in the error). */
function configOf(metadata: Record<string, string>, path: string): TrainConfig {
  try {
    return JSON.parse(metadata.config) as TrainConfig;
  } catch {
    throw new Error(`${path} holds no readable configuration in its metadata`);
  }
}

/** The configuration saved in the run folder's checkpoint, or null when it holds none. */
export async function savedConfig(out: string): Promise<TrainConfig | null> {
  const path = join(out, CHECKPOINT);
  return (await pathExists(path)) ? configOf((await loadSafetensors(path)).metadata, path) : null;
}

/** The flag of a config key or recipe option key, for messages. */
function flagOf(key: string): string {
  return `--${[...COMMON_OPTIONS, ...allRecipeOptions()].find((o) => o.key === key)?.flag ?? key}`;
}

/**
 * Refuses a resume whose settings contradict the checkpoint's (`saved`, from `path`), naming the flag,
 * both values and the file; only {@link RESUME_SAFE} may change, and epochs only upwards.
 */
function checkResumeConfig(config: TrainConfig, stored: TrainConfig, epochsDone: number, path: string): void {
  // A setting added since the checkpoint was written is read at its default, the value the run had.
  const saved: TrainConfig = { ...defaultConfig(), ...stored };
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  const differ = (a: unknown, b: unknown) => JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
  for (const key of Object.keys({ ...saved, ...config }) as (keyof TrainConfig)[]) {
    if (key === 'options' || RESUME_SAFE.includes(key) || !differ(config[key], saved[key])) continue;
    throw new UsageError(`${key === 'recipe' ? '--recipe' : flagOf(key)} ${show(config[key])} contradicts the run's ${show(saved[key])} in ${path}; a resumed run keeps its configuration (only ${RESUME_SAFE.map(flagOf).join(', ')} may change)`);
  }
  for (const key of Object.keys({ ...saved.options, ...config.options })) {
    if (differ(config.options[key], saved.options?.[key])) {
      throw new UsageError(`${flagOf(key)} ${show(config.options[key])} contradicts the run's ${show(saved.options?.[key])} in ${path}; a resumed run keeps its configuration`);
    }
  }
  if (config.epochs < epochsDone) throw new UsageError(`--epochs ${config.epochs}: the run in ${path} has already trained ${epochsDone} epochs`);
}
const encoder = new TextEncoder();
const json = (value: unknown) => encoder.encode(`${JSON.stringify(value)}\n`);

/** "1h02m", "3m05s", "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (v: number) => String(v).padStart(2, '0');
  return h ? `${h}h${pad(m)}m` : m ? `${m}m${pad(r)}s` : `${r}s`;
}

/** The progress line of a record: step / total, epoch, loss, lr, images/s and the time left. */
export function progressLine(p: StepProgress, epochs: number): string {
  return `epoch ${p.epoch}/${epochs} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toPrecision(3)} ${p.imagesPerSecond.toFixed(1)} images/s ETA ${formatDuration(p.etaSeconds)}`;
}

/**
 * Trains per `cfg` into the run folder `cfg.out`: a record per progress window and per epoch in
 * `log.jsonl`, `checkpoint.safetensors` after every epoch (atomically), and at the end the diagnostics
 * `embeddings.safetensors` and `metrics.json` (src/train/diagnostics.ts) and `summary.json`. The config,
 * the dataset and the protocol are checked before any GPU work; a run that fails before its first
 * epoch ends removes the run folder it created. With `resume`, continues from the checkpoint there:
 * same seed and config give exactly the numbers of an uninterrupted run.
 */
export async function train(cfg: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const started = performance.now();
  const resolved = resolveConfig(cfg);
  const config = resolved.config;
  for (const note of resolved.notes) log(`[train] ${note}`);
  const ckptPath = join(config.out, CHECKPOINT);
  if (opts.resume && opts.overwrite) throw new UsageError('give --resume or --overwrite, not both');
  if (opts.resume && !(await pathExists(ckptPath))) throw new UsageError(`--resume: ${config.out} holds no ${CHECKPOINT} to resume from`);
  if (!opts.resume) {
    const files = await runFilesIn(config.out);
    if (files.length && !opts.overwrite) {
      throw new UsageError(`${config.out} holds a run (${files.join(', ')}): give --resume to continue it, --overwrite to replace it, or another --out`);
    }
  }
  await probeWritable(config.out);
  // A folder that exists is locked at once, so that a second run into it fails before loading anything.
  const held: Held = { lock: (await pathExists(config.out)) ? await RunLock.acquire(config.out) : null };
  try {
    // The checkpoint is read once, under the lock: checked against the config here, restored later.
    let checkpoint: Uint8Array | null = null;
    if (opts.resume) {
      checkpoint = await readBytes(ckptPath);
      const { metadata } = decodeSafetensors(checkpoint, ckptPath);
      checkResumeConfig(config, resolveConfig(configOf(metadata, ckptPath)).config, Number(metadata.epoch), ckptPath);
    }
    return await trainLocked(resolved, opts, log, started, held, checkpoint);
  } finally {
    await held.lock?.release();
  }
}

/** The run folder's lock, once taken. */
interface Held {
  lock: RunLock | null;
}

/** {@link train} once the config is checked and the folder, when it existed, is locked. */
async function trainLocked(
  resolved: ResolvedConfig, opts: TrainOptions, log: (line: string) => void, started: number, held: Held, checkpoint: Uint8Array | null,
): Promise<TrainResult> {
  const config = resolved.config;
  const ckptPath = join(config.out, CHECKPOINT);
  const variant = { labels: config.labels, dataFile: config.dataFile };
  const dataset = await loadDataset(config.dataset, { ...variant, dataDir: config.dataDir, anyRecordCount: config.anyRecordCount });
  const selection = selectData(config, dataset.train, dataset.test, dataset.title, dataset.classNames);
  const { trainCounts } = selection;
  if (samplerBatchCount(selection.trainLabels.length, { batchSize: config.batchSize, dropLast: true }) < 1) {
    throw new UsageError(`--batch-size ${config.batchSize} is larger than the ${selection.trainLabels.length} training images: give --batch-size ${selection.trainLabels.length} or less`);
  }

  useDawn();
  const e = await init({ log: false });
  const adapter = e.describeAdapter();
  log(`[train] adapter: ${adapter}`);
  log(`[train] ${selection.what}: ${selection.trainLabels.length} training images, per class [${trainCounts.join(', ')}]; ${selection.testLabels.length} test images`);

  const created = !held.lock;
  if (created) {
    await mkdir(config.out, { recursive: true });
    held.lock = await RunLock.acquire(config.out);
  }
  const leftovers = await removeLeftovers(config.out);
  if (leftovers.length) log(`[train] removed ${leftovers.length} unfinished write(s) of an interrupted run: ${leftovers.join(', ')}`);
  if (opts.overwrite) await removeRun(config.out);
  const data = uploadData(selection, dataset.train, dataset.test);
  const norm = datasetSpec(config.dataset).norm(data.channels);
  const training = new Training(resolved, data, norm);
  try {
    if (checkpoint) {
      await training.restore(checkpoint, ckptPath);
      const cut = await truncateLog(config.out, training.epoch * training.stepsPerEpoch, training.epoch);
      log(`[train] resumed from ${ckptPath} after epoch ${training.epoch}${cut ? ` (${cut} log record(s) past it removed)` : ''}`);
    } else {
      await training.start();
    }
    const logPath = join(config.out, 'log.jsonl');
    // A group without classes (no class under 20 images, as at IF 100 on Fashion-MNIST) prints as '-'.
    const pct = (v: number) => (Number.isNaN(v) ? '-' : `${(100 * v).toFixed(1)} %`);
    const result = await training.run({
      onStep: async (p) => {
        if (opts.progress) opts.progress(p);
        else log(progressLine(p, config.epochs));
        await appendFile(logPath, json({ step: p.step, epoch: p.epoch, loss: p.loss, lr: p.lr, imagesPerSecond: p.imagesPerSecond }));
        faultPoint(`step:${p.step}`);
      },
      onEpoch: async ({ epoch, step, loss, lr, evaluation }) => {
        // Predictions and the probe go to the diagnostics, not into the log.
        const { predicted: _, probe: __, ...report } = evaluation;
        log(`epoch ${epoch}/${config.epochs} ${training.recipe.evalLabel} top1 ${pct(report.top1)} class-avg ${pct(report.classAverage)} many ${pct(report.many)} medium ${pct(report.medium)} few ${pct(report.few)}${report.auc === undefined ? '' : ` auc ${report.auc.toFixed(3)}`}`);
        await appendFile(logPath, json({ epoch, step, loss, lr, ...report }));
      },
      onCheckpoint: async (bytes) => {
        await writeFileAtomic(ckptPath, bytes);
      },
    }, opts.signal, adapter);

    const diagStart = performance.now();
    const diag = await training.diagnostics(result.evaluation);
    await saveSafetensors(join(config.out, 'embeddings.safetensors'), diag.tensors, { format: 'pt' });
    faultPoint('diagnostics');
    await writeFileAtomic(join(config.out, 'metrics.json'), json({ classNames: selection.classNames, ...diag.metrics }));
    log(`[train] diagnostics: embeddings.safetensors, metrics.json (${((performance.now() - diagStart) / 1000).toFixed(1)} s)`);
    const { predicted: _, probe: __, ...report } = result.evaluation;
    const summary: TrainResult = {
      config, adapter, epochs: result.epochs, steps: result.steps, trainCounts, classNames: selection.classNames,
      final: { ...report, loss: result.loss },
      wallSeconds: (performance.now() - started) / 1000,
      imagesPerSecond: result.imagesPerSecond,
    };
    await writeFileAtomic(join(config.out, 'summary.json'), json(summary));
    return summary;
  } catch (err) {
    if (err instanceof NonFiniteLossError || err instanceof NonFiniteParameterError) {
      const where = err.lastCheckpointEpoch === null
        ? 'No checkpoint was written (the run stopped before the end of its first epoch).'
        : `The last good checkpoint (end of epoch ${err.lastCheckpointEpoch}) is ${ckptPath}.`;
      throw new Error(`${err.message}; stopped. ${where} Try a smaller --lr.`, { cause: err });
    }
    throw err;
  } finally {
    training.dispose();
    disposeData(data);
    // A run that failed before writing anything leaves no run folder behind (its lock aside).
    if (created && (await readdir(config.out).catch(() => [null])).every((n) => n === '.lock')) {
      await held.lock?.release();
      held.lock = null;
      await rm(config.out, { recursive: true, force: true });
    }
  }
}
