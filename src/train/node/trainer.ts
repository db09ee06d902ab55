// The Node adapter of the training loop (../loop.ts): dataset files, the run folder, atomic
// checkpoints, log.jsonl, the diagnostics files and summary.json. Everything that trains is the
// platform-neutral library; this file only reads and writes files. The report is the CLI's business.
import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetSpec } from '../../data/datasets.js';
import { pathExists } from '../../data/node/idx-files.js';
import { samplerBatchCount } from '../../data/samplers.js';
import { loadDataset } from '../../data/node/datasets.js';
import { init } from '../../engine.js';
import { writeFileAtomic } from '../../io/node/atomic.js';
import { saveSafetensors } from '../../io/node/safetensors.js';
import type { AccuracyReport } from '../../metrics/accuracy.js';
import { resolveConfig, type TrainConfig } from '../config.js';
import { disposeData, selectData, uploadData } from '../data.js';
import { NonFiniteLossError, Training, type StepProgress } from '../loop.js';
import { UsageError } from '../options.js';

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
  /** Continue the run in `config.out` from its checkpoint (an error when there is none). */
  resume?: boolean;
  /** Receives the log lines (default console.log). */
  log?: (line: string) => void;
  /** Receives each progress record instead of a progress line in `log` (a terminal's progress bar). */
  progress?: (p: StepProgress) => void;
  /** Stops the run at the next step. */
  signal?: AbortSignal;
}

export const CHECKPOINT = 'checkpoint.safetensors';
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
  if (opts.resume && !(await pathExists(ckptPath))) throw new UsageError(`--resume: ${config.out} holds no ${CHECKPOINT} to resume from`);

  const variant = { labels: config.labels, dataFile: config.dataFile };
  const dataset = await loadDataset(config.dataset, { ...variant, dataDir: config.dataDir, anyRecordCount: config.anyRecordCount });
  const selection = selectData(config, dataset.train, dataset.test, dataset.title, dataset.classNames);
  const { trainCounts } = selection;
  if (samplerBatchCount(selection.trainLabels.length, { batchSize: config.batchSize, dropLast: true }) < 1) {
    throw new UsageError(`--batch-size ${config.batchSize} is larger than the ${selection.trainLabels.length} training images: give --batch-size ${selection.trainLabels.length} or less`);
  }

  const e = await init({ log: false });
  const adapter = e.describeAdapter();
  log(`[train] adapter: ${adapter}`);
  log(`[train] ${selection.what}: ${selection.trainLabels.length} training images, per class [${trainCounts.join(', ')}]; ${selection.testLabels.length} test images`);

  const created = !(await pathExists(config.out));
  await mkdir(config.out, { recursive: true });
  const data = uploadData(selection, dataset.train, dataset.test);
  const norm = datasetSpec(config.dataset).norm(data.channels);
  const training = new Training(resolved, data, norm);
  try {
    if (opts.resume) {
      await training.restore(new Uint8Array(await readFile(ckptPath)), ckptPath);
      log(`[train] resumed from ${ckptPath} after epoch ${training.epoch}`);
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
    if (err instanceof NonFiniteLossError) {
      const where = err.lastCheckpointEpoch === null
        ? 'No checkpoint was written (the run stopped before the end of its first epoch).'
        : `The last good checkpoint (end of epoch ${err.lastCheckpointEpoch}) is ${ckptPath}.`;
      throw new Error(`${err.message}; stopped. ${where} Try a smaller --lr.`, { cause: err });
    }
    throw err;
  } finally {
    training.dispose();
    disposeData(data);
    // A run that failed before writing anything leaves no empty run folder behind.
    if (created && (await readdir(config.out).catch(() => [null])).length === 0) await rm(config.out, { recursive: true, force: true });
  }
}
