// The training loop, platform-neutral: the same code trains under Node (src/train/node/trainer.ts adds
// files) and in a web page. A Training holds the model, the recipe, the optimizer and the schedule for
// a resolved config and the run's data on the device; run() trains the remaining epochs, calling hooks
// for progress, evaluations and checkpoints. Checkpoints are bytes (safetensors): Node writes them
// atomically to a file, a page keeps them in memory, IndexedDB or a download.
import type { Normalization } from '../data/augment.js';
import { Rng, STREAM } from '../data/random.js';
import { sampleBatches, samplerBatchCount } from '../data/samplers.js';
import { crc32 } from '../data/crc32.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile } from '../io/safetensors.js';
import { readTensorEntries } from '../io/tensors.js';
import { ResNetCifar, SmallCNN, type Classifier } from '../nn/resnet.js';
import { manualSeed, tensor, zeros } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { SGD } from '../optim/sgd.js';
import { scope, type Tensor, type TypedArray } from '../tensor.js';
import type { ResolvedConfig, TrainConfig } from './config.js';
import type { TrainingData } from './data.js';
import { computeDiagnostics, type Diagnostics } from './diagnostics.js';
import type { Evaluation } from './evaluate.js';
import { recipeFamily, type Recipe } from './recipes/index.js';

/** The model of `cfg` for `classes` classes of `channels` × `size` × `size` images. */
export function buildModel(cfg: Pick<TrainConfig, 'model' | 'widths' | 'classifier'>, classes: number, channels: number, size: number): Classifier {
  const resnet = /^resnet(\d+)$/.exec(cfg.model);
  if (resnet) return new ResNetCifar(Number(resnet[1]), classes, { inChannels: channels, classifier: cfg.classifier });
  return new SmallCNN(classes, { inChannels: channels, inputSize: size, widths: cfg.widths, classifier: cfg.classifier });
}

/** One progress record: the mean loss of the steps since the previous one. */
export interface StepProgress {
  /** 1-based epoch. */
  epoch: number;
  /** Global steps done. */
  step: number;
  totalSteps: number;
  /** Mean training loss of the window's steps. */
  loss: number;
  lr: number;
  imagesPerSecond: number;
  /** Seconds of training left at this run's pace. */
  etaSeconds: number;
}

/** One epoch's end: its mean training loss and the evaluation. */
export interface EpochProgress {
  epoch: number;
  step: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  lr: number;
  evaluation: Evaluation;
}

/** Callbacks of {@link Training.run}; a returned promise is awaited (a page may pause there). */
export interface TrainingHooks {
  onStep?(p: StepProgress): void | Promise<void>;
  onEpoch?(p: EpochProgress): void | Promise<void>;
  /** The checkpoint after epoch `epoch` (only computed when this hook is given). */
  onCheckpoint?(bytes: Uint8Array, epoch: number): void | Promise<void>;
}

/** How a run ended. */
export interface TrainingResult {
  epochs: number;
  steps: number;
  /** The last evaluation (re-evaluated when a finished run is resumed) and the last epoch's mean loss. */
  evaluation: Evaluation;
  loss: number;
  /** Images per second over the steps this call trained (NaN when none). */
  imagesPerSecond: number;
}

/** A non-finite training loss; the run stops at the progress record that saw it. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(readonly value: number, readonly epoch: number, readonly step: number, readonly lastCheckpointEpoch: number | null) {
    super(`the loss became ${value} at epoch ${epoch}, step ${step}`);
  }
}

/** A NaN or infinity appeared in a parameter or its gradient (flagged on the device by the SGD update). */
export class NonFiniteParameterError extends Error {
  override name = 'NonFiniteParameterError';
  constructor(readonly parameter: string, readonly epoch: number, readonly fromStep: number, readonly toStep: number, readonly lastCheckpointEpoch: number | null) {
    super(`a NaN or infinite value appeared in parameter '${parameter}' or its gradient at epoch ${epoch}, steps ${fromStep + 1}-${toStep}`);
  }
}

/** The run was stopped through its AbortSignal (at a step boundary). */
export class TrainingAborted extends Error {
  override name = 'TrainingAborted';
}

/** Name prefix of the recipe's state tensors in the checkpoint. */
const STATE = 'state.';
const MOMENTUM = 'optimizer.momentum_buffer.';

/**
 * Lets the event loop run: the GPU's callbacks (a mapping that completes) need it, and a page's
 * frames too. setImmediate under Node; a message port in browsers (setTimeout is clamped to 4 ms).
 */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** A model, its recipe and optimizer, ready to train on a run's data. */
export class Training {
  readonly config: TrainConfig;
  readonly model: Classifier;
  readonly recipe: Recipe;
  readonly optimizer: SGD;
  readonly stepsPerEpoch: number;
  /** The optimizer's parameters by name, in its order (the order of its finiteness flags). */
  private readonly paramNames: string[];
  /** Epochs completed (restored from a checkpoint, or trained). */
  epoch = 0;
  /** Mean loss of the last completed epoch (NaN before any). */
  lastLoss = NaN;
  private lastCheckpoint: number | null = null;
  private readonly schedule: ResolvedConfig['schedule'];

  /**
   * Builds the model (initialised from the config's seed), the recipe and the optimizer. `resolved`
   * comes from resolveConfig(); `data` from uploadData(); `norm` is the dataset's normalisation.
   */
  constructor(resolved: ResolvedConfig, readonly data: TrainingData, readonly norm: Normalization) {
    const cfg = (this.config = resolved.config);
    this.schedule = resolved.schedule;
    manualSeed(cfg.seed);
    const make = () => buildModel(cfg, data.classes, data.channels, data.size);
    this.model = make();
    this.recipe = recipeFamily(cfg.recipe).build({
      ...data, model: this.model, norm, makeModel: make, recipe: cfg.recipe, options: cfg.options, seed: cfg.seed, batchSize: cfg.batchSize,
    });
    const { named } = this.recipe;
    const decayed = named.filter(([, p]) => !cfg.noDecayBnBias || p.rank > 1).map(([, p]) => p);
    const plain = named.filter(([, p]) => cfg.noDecayBnBias && p.rank <= 1).map(([, p]) => p);
    this.optimizer = new SGD([{ params: decayed }, { params: plain, weightDecay: 0 }], {
      lr: cfg.lr, momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay,
    });
    const nameOf = new Map(named.map(([n, p]) => [p, n]));
    this.paramNames = this.optimizer.params.map((p) => nameOf.get(p)!);
    this.stepsPerEpoch = samplerBatchCount(data.trainLabels.length, { batchSize: cfg.batchSize, dropLast: true });
  }

  /** Prepares a fresh run (the recipe's init, e.g. fitted prototypes). Not called on resume. */
  async start(): Promise<void> {
    await this.recipe.init?.();
  }

  /**
   * Weights, buffers and momentum buffers under PyTorch-style names, the recipe's state under `state.`,
   * and in the metadata the epochs done, the steps done (the position of every random stream: each is
   * drawn from the seed, the epoch and the step), the last epoch's mean loss and the config.
   */
  async checkpoint(adapter = ''): Promise<Uint8Array> {
    const tensors = new Map<string, Tensor>(this.recipe.parts.flatMap(([prefix, m]) => [...m.stateDict(prefix)]));
    for (const [name, p] of this.recipe.named) tensors.set(`${MOMENTUM}${name}`, this.optimizer.bufferOf(p));
    for (const [name, t] of this.recipe.state ?? []) tensors.set(`${STATE}${name}`, t);
    const entries = await readTensorEntries(tensors);
    const checksums = Object.fromEntries([...entries].map(([name, e]) => [name, checksum(e.data)]));
    return encodeSafetensors(entries, {
      epoch: String(this.epoch), step: String(this.epoch * this.stepsPerEpoch), loss: String(this.lastLoss),
      config: JSON.stringify(this.config), adapter, format: 'pt', checksums: JSON.stringify(checksums),
    });
  }

  /**
   * Loads a checkpoint written by {@link checkpoint} (`source` names it in errors) and continues from
   * it: every part, momentum buffer and state tensor must be there with its shape.
   */
  async restore(bytes: Uint8Array, source = 'checkpoint'): Promise<void> {
    const file = decodeSafetensors(bytes, source);
    verifyChecksums(file, source);
    const state = new Map<string, { shape: readonly number[]; data: TypedArray }>();
    for (const [name, entry] of file.tensors) state.set(name, { shape: entry.shape, data: entry.data as TypedArray });
    // Each part takes the entries under its prefix; the model ('') takes the rest but the optimizer's and the state.
    const prefixes = this.recipe.parts.map(([p]) => p).filter((p) => p);
    for (const [prefix, m] of this.recipe.parts) {
      const mine = (k: string) => (prefix ? k.startsWith(prefix) : !k.startsWith(MOMENTUM) && !k.startsWith(STATE) && !prefixes.some((p) => k.startsWith(p)));
      try {
        m.loadStateDict(new Map([...state].filter(([k]) => mine(k)).map(([k, v]) => [k.slice(prefix.length), v])));
      } catch (e) {
        throw new Error(`${source}: ${(e as Error).message}`, { cause: e });
      }
    }
    for (const [name, p] of this.recipe.named) {
      const buf = state.get(`${MOMENTUM}${name}`);
      if (!buf || buf.data.length !== p.size) throw new Error(`${source} lacks the momentum buffer of '${name}'`);
      this.optimizer.bufferOf(p).write(buf.data);
    }
    for (const [name, t] of this.recipe.state ?? []) {
      const entry = state.get(`${STATE}${name}`);
      if (!entry || entry.data.length !== t.size) {
        throw new Error(`${source} lacks the recipe state '${name}'${entry ? ` of ${t.size} values (it has ${entry.data.length})` : ''}`);
      }
      t.write(entry.data);
    }
    const epoch = Number(file.metadata.epoch);
    if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`${source} has no valid epoch in its metadata`);
    this.epoch = epoch;
    this.lastLoss = Number(file.metadata.loss ?? NaN);
    this.lastCheckpoint = epoch;
    await this.recipe.resumed?.();
  }

  /**
   * Trains from the current epoch to the config's last, evaluating after each epoch. The loss of every
   * step is summed on the device and read back once per progress window, without waiting: the read of
   * one window completes while the next is recorded, so the GPU queue never drains for it. A NaN or
   * infinite loss throws a {@link NonFiniteLossError}; `signal` stops the run at the next step
   * ({@link TrainingAborted}).
   */
  async run(hooks: TrainingHooks = {}, signal?: AbortSignal, adapter = ''): Promise<TrainingResult> {
    const cfg = this.config;
    const { model, recipe, optimizer: opt, stepsPerEpoch } = this;
    const totalSteps = cfg.epochs * stepsPerEpoch;
    let step = this.epoch * stepsPerEpoch;
    let trainedImages = 0;
    let trainSeconds = 0;
    let evaluation: Evaluation | undefined;
    while (this.epoch < cfg.epochs) {
      const epoch = this.epoch;
      model.train();
      const aug = new Rng(cfg.seed, STREAM.augment, epoch);
      const random = () => aug.float();
      let epochSum = 0;
      let windowStart = performance.now();
      // The window being read: its loss sum and finiteness flags, its steps and the step it ends at.
      let pending: { sum: Promise<number>; flags: Promise<ArrayLike<number>>; steps: number; end: number } | null = null;
      const settle = async () => {
        if (!pending) return;
        const { sum, flags, steps, end } = pending;
        pending = null;
        const total = await sum;
        const flagged = Array.from(await flags).findIndex((f) => f !== 0);
        if (flagged >= 0) throw new NonFiniteParameterError(this.paramNames[flagged], epoch + 1, end - steps, end, this.lastCheckpoint);
        const now = performance.now();
        const seconds = (now - windowStart) / 1000;
        windowStart = now;
        trainSeconds += seconds;
        trainedImages += steps * cfg.batchSize;
        const mean = total / steps;
        if (!Number.isFinite(mean)) throw new NonFiniteLossError(mean, epoch + 1, end, this.lastCheckpoint);
        epochSum += total;
        const rate = (trainedImages / trainSeconds) || NaN;
        await hooks.onStep?.({
          epoch: epoch + 1, step: end, totalSteps, loss: mean, lr: opt.lr,
          imagesPerSecond: (steps * cfg.batchSize) / seconds, etaSeconds: ((totalSteps - end) * cfg.batchSize) / rate,
        });
      };
      let lossSum = zeros([]).keep();
      let since = 0;
      const sampler = { sampler: cfg.sampler, numClasses: this.data.classes, batchSize: cfg.batchSize, seed: cfg.seed, epoch, dropLast: true };
      try {
        for (const idx of sampleBatches(this.data.trainLabels, sampler)) {
          if (signal?.aborted) throw new TrainingAborted(`stopped at epoch ${epoch + 1}, step ${step}`);
          opt.lr = this.schedule(epoch, step - epoch * stepsPerEpoch, stepsPerEpoch);
          const labels = tensor(Array.from(idx, (i) => this.data.trainLabels[i]), [idx.length], 'i32');
          const next = scope(() => {
            const loss = recipe.loss({ indices: idx, labels, step, random });
            loss.backward();
            opt.step();
            opt.zeroGrad();
            recipe.afterStep?.({ indices: idx, labels, step, random });
            return add(lossSum, loss);
          });
          labels.dispose();
          lossSum.dispose();
          lossSum = next.keep();
          step++;
          since++;
          if (since === cfg.logEvery || step === (epoch + 1) * stepsPerEpoch) {
            // Submits the recorded steps and starts the read; the previous window's read has had a whole
            // window to complete, so waiting for it costs nothing.
            const sum = lossSum.item();
            const flags = opt.status.read();
            lossSum.dispose();
            lossSum = zeros([]).keep();
            await settle();
            pending = { sum, flags, steps: since, end: step };
            since = 0;
          }
          await yieldToEventLoop();
        }
        await settle();
      } finally {
        lossSum.dispose();
        // A stopped run leaves no read in flight.
        const left = pending as { sum: Promise<number>; flags: Promise<unknown> } | null;
        await Promise.allSettled([left?.sum, left?.flags]);
      }
      this.lastLoss = epochSum / stepsPerEpoch;
      this.epoch = epoch + 1;
      evaluation = await recipe.evaluate();
      await hooks.onEpoch?.({ epoch: epoch + 1, step, loss: this.lastLoss, lr: opt.lr, evaluation });
      if (hooks.onCheckpoint) {
        await hooks.onCheckpoint(await this.checkpoint(adapter), epoch + 1);
        this.lastCheckpoint = epoch + 1;
      }
    }
    return {
      epochs: this.epoch, steps: step,
      // A run resumed after its last epoch evaluates once here.
      evaluation: evaluation ?? (await recipe.evaluate()),
      loss: this.lastLoss,
      imagesPerSecond: trainSeconds ? trainedImages / trainSeconds : NaN,
    };
  }

  /** The end-of-run diagnostics of the current model (src/train/diagnostics.ts). */
  diagnostics(evaluation: Evaluation): Promise<Diagnostics> {
    const d = this.data;
    return computeDiagnostics({
      model: this.model, head: this.recipe.head, evaluation, trainImages: d.trainImages, trainLabels: d.trainLabels, trainCounts: d.trainCounts,
      testImages: d.testImages, testLabels: d.testLabels, norm: this.norm, batchSize: this.config.batchSize, seed: this.config.seed,
    });
  }

  /** Frees the model, the recipe's modules and state, and the optimizer (not the data). */
  dispose(): void {
    this.recipe.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** CRC-32 of a tensor's bytes, as 8 hex digits. */
function checksum(data: ArrayBufferView): string {
  return crc32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).toString(16).padStart(8, '0');
}

/**
 * Checks every tensor of a checkpoint against the CRC-32 in its metadata (written by
 * Training.checkpoint): one flipped bit in a weight is refused, naming the tensor and the file.
 */
function verifyChecksums(file: SafetensorsFile, source: string): void {
  const text = file.metadata.checksums;
  if (text === undefined) throw new Error(`${source} has no tensor checksums in its metadata: not a checkpoint of this trainer, or damaged`);
  let sums: Record<string, string>;
  try {
    sums = JSON.parse(text);
  } catch {
    throw new Error(`${source}: its metadata's checksums are not JSON (damaged)`);
  }
  for (const [name, entry] of file.tensors) {
    const got = checksum(entry.data);
    if (sums[name] !== got) {
      throw new Error(`${source}: tensor '${name}' fails its checksum (stored ${sums[name] ?? 'none'}, computed ${got}): the file is damaged`);
    }
  }
}
