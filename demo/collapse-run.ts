// One training run of the collapse demo: the library's Training (encoder + 3-D projection head, recipe
// supcon / supmin / supproto on two Fashion-MNIST classes), plus what the page shows of it: the clean
// embeddings of the fixed test images on S², the class means and prototypes, the per-epoch probe
// accuracy, SAA and CAC (Two-Classes metrics on two SimAugment views) and the angle between the class
// means against the solver's optimum for the run's proportions.
import * as W from '../src/index.js';
import { learnedGram, runObjective } from '../src/geometry/learned.js';

/** What the page sets; the rest of the config is fixed by the demo. */
export interface CollapseSettings {
  /** Majority class a (label 0) and minority class b (label 1) of Fashion-MNIST. */
  classes: [number, number];
  minorityShare: number;
  recipe: 'supcon' | 'supmin' | 'supproto';
  temperature: number;
  batchSize: number;
  epochs: number;
  lr: number;
  widths: number[];
  /** Training images in all (the share is kept: ⌊total · share⌋ of them are the minority's). */
  total: number;
  /** Fixed test images per class: the points on the sphere and the probe's test set. */
  testPerClass: number;
  seed: number;
  /** Full-batch steps of the epoch-end linear probe. */
  probeSteps: number;
}

/** The library config of `s` (binary protocol, 3-D head, no warm-up, a progress record every step). */
export function collapseConfig(s: CollapseSettings, probeFraction: number): W.TrainConfig {
  return W.defaultConfig({
    dataset: 'fashion-mnist', binary: s.classes, minorityShare: s.minorityShare, imbalance: 1, limitPerClass: 0,
    testPerClass: s.testPerClass, model: 'small-cnn', widths: s.widths, recipe: s.recipe, epochs: s.epochs,
    batchSize: s.batchSize, lr: s.lr, warmupEpochs: 0, seed: s.seed, logEvery: 1,
    options: { featDim: 3, temperature: s.temperature, probeFraction, probeSteps: s.probeSteps },
  });
}

/**
 * The run's data selection: the binary protocol's test images (a balanced `testPerClass` per class) and a
 * training subset of `total` images at the config's minority share (binarySubset with that total, so the
 * share survives the cap: selectData's limitPerClass caps both labels at once, which would rebalance a
 * small subset).
 */
export function selectCollapseData(cfg: W.TrainConfig, fm: W.FashionMnist, total: number): W.DataSelection {
  const names = [...W.FASHION_MNIST_CLASSES];
  const base = W.selectData(cfg, fm.train, fm.test, 'Fashion-MNIST', names);
  const [a, b] = cfg.binary!;
  const sub = W.binarySubset(fm.train.labels, { numClasses: names.length, groups: [[a], [b]], minorityShare: cfg.minorityShare, seed: cfg.seed, total });
  const trainLabels = Int32Array.from(sub.labels);
  const trainCounts = W.classCounts(trainLabels, 2);
  return { ...base, trainIdx: Int32Array.from(sub.indices), trainLabels, trainCounts, what: `${base.what}, ${total} training images` };
}

/** probeFraction giving a balanced probe of min(minority count, 50) images per class (probePerClass's rounding). */
export function probeFractionFor(trainCounts: number[]): number {
  const n = trainCounts[0] + trainCounts[1];
  const k = Math.max(1, Math.min(50, ...trainCounts));
  return Math.min(1, (2 * k + 0.5) / n);
}

/** One epoch's figures. */
export interface EpochRow {
  epoch: number;
  loss: number;
  /** Linear-probe balanced accuracy (the evaluation's classAverage) and ROC AUC. */
  balancedAccuracy: number;
  auc: number;
  /** [majority, minority]: SAA (%), CAC (%) of the Two-Classes metrics in the 3-D projection space. */
  saa: [number, number];
  cac: [number, number];
  /** Angle between the class means of the clean test embeddings, degrees. */
  angle: number;
  /** Seconds since the run started (pauses excluded). */
  seconds: number;
  /** performance.now() when the epoch's figures were ready. */
  endedAt: number;
}

/** What the page does with a run's news. */
export interface RunListener {
  progress(run: CollapseRun, p: W.StepProgress): void;
  epoch(run: CollapseRun, row: EpochRow): void;
  embeddings(run: CollapseRun): void;
  /** A new epoch-end checkpoint is ready (run.checkpoint). */
  checkpoint(run: CollapseRun): void;
}

const SIM: W.Policy = { kind: 'sim' };
const degrees = (c: number) => (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;

export class CollapseRun {
  readonly training: W.Training;
  readonly head: W.ProjectionHead;
  /** The solver's optimal angle between the two class means, and the objective it minimised. */
  readonly optimal: { angle: number; note: string; converged: boolean };
  readonly rows: EpochRow[] = [];
  readonly losses: { step: number; loss: number }[] = [];
  /** The latest consistent checkpoint: after the last finished epoch, or the one restored. */
  checkpoint: Uint8Array | null = null;
  checkpointEpoch = 0;
  /** Clean test embeddings [n × 3] (unit rows), their labels, the class means and SupProto's prototypes. */
  points: Float32Array<ArrayBufferLike> = new Float32Array(0);
  means: Float32Array[] = [];
  prototypes: Float32Array | null = null;
  /** Angle between the class means now, degrees. */
  angle = NaN;
  embedPasses = 0;
  private embedEvery: number;
  private trainSeconds = 0;

  constructor(
    readonly label: string,
    resolved: W.ResolvedConfig,
    readonly data: W.TrainingData,
    readonly norm: W.Normalization,
    private readonly listener: RunListener,
    readonly adapter: string,
  ) {
    this.training = new W.Training(resolved, data, norm);
    if (!this.training.recipe.head) throw new Error(`recipe ${resolved.config.recipe} has no projection head`);
    this.head = this.training.recipe.head;
    // About four sphere updates an epoch, besides the one at its end.
    this.embedEvery = Math.max(1, Math.round(this.training.stepsPerEpoch / 4));
    const objective = runObjective(resolved.config as unknown as Record<string, unknown>);
    const counts = data.trainCounts;
    const solution = W.solveGeometry(W.geometryObjective(objective.loss, { proportions: counts, tau: objective.tau, negatives: objective.negatives }));
    this.optimal = { angle: degrees(solution.gram[1]), note: objective.note, converged: solution.converged };
  }

  get config(): W.TrainConfig {
    return this.training.config;
  }

  /** A fresh run: the recipe's init, the prototypes, the first embeddings. */
  async start(): Promise<void> {
    await this.training.start();
    await this.afterLoad();
  }

  /** Continues from checkpoint bytes. */
  async restore(bytes: Uint8Array, source: string): Promise<void> {
    await this.training.restore(bytes, source);
    this.checkpoint = bytes;
    this.checkpointEpoch = this.training.epoch;
    await this.afterLoad();
  }

  private async afterLoad(): Promise<void> {
    const protos = this.training.recipe.state?.find(([name]) => name === 'prototypes')?.[1];
    this.prototypes = protos ? ((await protos.read()) as Float32Array) : null;
    await this.embed();
  }

  /** `fn` with the encoder and the head in evaluation mode, without gradients; the result kept. */
  private evalPass(fn: () => W.Tensor): W.Tensor {
    const { model } = this.training;
    model.eval();
    this.head.eval();
    try {
      return W.noGrad(() => W.scope(fn)).keep();
    } finally {
      model.train();
      this.head.train();
    }
  }

  /** Recomputes the clean test embeddings, the class means and their angle; tells the page. */
  async embed(): Promise<void> {
    const { model } = this.training;
    const { testImages } = this.data;
    this.head.eval();
    let z: W.Tensor;
    try {
      z = W.cleanBatches(model, testImages, null, this.config.batchSize, this.norm, (x) => this.head.forward(model.features(x)));
    } finally {
      this.head.train();
    }
    let points: Float32Array;
    try {
      points = (await z.read()) as Float32Array;
    } finally {
      z.dispose();
    }
    const labels = this.data.testLabels;
    const n = labels.length;
    this.points = points;
    const gram = learnedGram(points, n, 3, labels).gram;
    this.angle = degrees(gram[0][1]);
    this.means = [0, 1].map((c) => {
      const m = new Float32Array(3);
      for (let i = 0; i < n; i++) if (labels[i] === c) for (let k = 0; k < 3; k++) m[k] += points[3 * i + k];
      return m;
    });
    this.embedPasses++;
    this.listener.embeddings(this);
  }

  /**
   * SAA and CAC per class ([majority, minority]) of two SimAugment views of the fixed test images in the
   * 3-D projection space (view-major [2n, 3]); the same views every epoch (fixed seed and streams).
   */
  async viewMetrics(): Promise<{ saa: [number, number]; cac: [number, number] }> {
    const { model } = this.training;
    const images: W.DeviceImages = { data: this.data.testImages, format: 'f32', shape: this.data.testImages.shape as [number, number, number, number] };
    const n = this.data.testLabels.length;
    const chunk = this.config.batchSize;
    const parts: W.Tensor[] = [];
    try {
      for (const view of [0, 1]) {
        for (let start = 0, c = 0; start < n; start += chunk, c++) {
          const idx = Int32Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i);
          // Stream (seed, views, step = 2·chunk + view, 0): every image's two views are drawn independently.
          parts.push(this.evalPass(() => this.head.forward(model.features(
            W.augmentViews(images, idx, [SIM], { seed: this.config.seed, step: 2 * c + view, norm: this.norm }).batch))));
        }
      }
      const z = parts.length === 1 ? parts[0] : W.concat(parts).keep();
      try {
        const m = await W.twoClassesMetrics(z, this.data.testLabels);
        const byLabel = (l: number) => m.classes.find((c) => c.label === l)!;
        return {
          saa: [byLabel(0).saa, byLabel(1).saa],
          cac: [W.classMeans(byLabel(0)).cac, W.classMeans(byLabel(1)).cac],
        };
      } finally {
        if (z !== parts[0]) z.dispose();
      }
    } finally {
      for (const p of parts) p.dispose();
    }
  }

  /**
   * Trains to the config's last epoch. `gate` is awaited after every progress record and epoch (the
   * page's pause); `signal` stops the run at the next step (TrainingAborted).
   */
  async run(gate: () => Promise<void>, signal: AbortSignal): Promise<W.TrainingResult> {
    let since = performance.now();
    const clock = () => {
      const now = performance.now();
      this.trainSeconds += (now - since) / 1000;
      since = now;
    };
    const paused = async () => {
      clock();
      await gate();
      since = performance.now();
    };
    return this.training.run({
      onStep: async (p) => {
        this.losses.push({ step: p.step, loss: p.loss });
        this.listener.progress(this, p);
        const inEpoch = p.step - (p.epoch - 1) * this.training.stepsPerEpoch;
        if (inEpoch % this.embedEvery === 0 && inEpoch < this.training.stepsPerEpoch) await this.embed();
        await paused();
      },
      onEpoch: async (p) => {
        await this.embed();
        const { saa, cac } = await this.viewMetrics();
        clock();
        const row: EpochRow = {
          epoch: p.epoch, loss: p.loss, balancedAccuracy: p.evaluation.classAverage, auc: p.evaluation.auc ?? NaN,
          saa, cac, angle: this.angle, seconds: this.trainSeconds, endedAt: performance.now(),
        };
        this.rows.push(row);
        this.listener.epoch(this, row);
        await paused();
      },
      onCheckpoint: (bytes, epoch) => {
        this.checkpoint = bytes;
        this.checkpointEpoch = epoch;
        this.listener.checkpoint(this);
      },
    }, signal, this.adapter);
  }

  /** Frees the model, head, prototypes and optimizer (not the shared data). */
  dispose(): void {
    this.training.dispose();
  }
}
