// What a training recipe is to the loop (src/train/loop.ts) and to the registry (./index.ts): a family
// of recipes declares its names, its option schema and a builder; the builder returns a Recipe, which
// computes one step's loss, evaluates the model and names what the checkpoint holds.
import type { Normalization } from '../../data/augment.js';
import type { Evaluation } from '../evaluate.js';
import type { ProjectionHead } from '../../nn/heads.js';
import type { Module } from '../../nn/module.js';
import type { Classifier } from '../../nn/resnet.js';
import type { Tensor } from '../../tensor.js';
import type { OptionSpec, OptionValue } from '../options.js';

/** A recipe's own settings by option key (defaults filled in by the registry). */
export type RecipeOptions = Readonly<Record<string, OptionValue>>;

/** What a recipe trains on, all on the device. */
export interface RecipeData {
  model: Classifier;
  /** f32 [images, C, H, W] in [0, 1]. */
  trainImages: Tensor;
  trainLabels: Int32Array;
  trainCounts: number[];
  testImages: Tensor;
  testLabels: Int32Array;
  norm: Normalization;
  /** A fresh model of `model`'s architecture (recipe rebsupcon's key encoder). */
  makeModel: () => Classifier;
}

/** What a builder receives: the data, the recipe's name and options, and the common settings it needs. */
export interface RecipeContext extends RecipeData {
  recipe: string;
  options: RecipeOptions;
  seed: number;
  batchSize: number;
}

/** One training step's batch. */
export interface StepInput {
  /** Rows of the training images. */
  indices: Int32Array;
  /** Their labels, i32 [B] on the device. */
  labels: Tensor;
  /** Global step (0-based): multi-view plans are drawn from it, so a resumed run draws the same views. */
  step: number;
  /** The epoch's crop-and-flip draws (baselines). */
  random: () => number;
}

export interface Recipe {
  /** Modules saved in the checkpoint, by name prefix ('' = the model: its PyTorch names unchanged). */
  parts: [string, Module][];
  /** The trained parameters, named as in the checkpoint. */
  named: [string, Tensor][];
  /** How the evaluation line is labelled: 'eval' (own classifier) or 'probe' (linear probe). */
  evalLabel: string;
  /**
   * Tensors that are not trained by the optimizer but belong to the run's state (fixed prototypes, a key
   * queue, running statistics of a loss), saved in the checkpoint as `state.<name>` and written back on
   * resume. The recipe owns them.
   */
  state?: [string, Tensor][];
  /**
   * Prepares a fresh run before its first step (not called on resume: the state comes from the
   * checkpoint), e.g. fits prototypes to the initial encoder's embeddings.
   */
  init?(): Promise<void>;
  /**
   * Called on resume instead of init, once the checkpoint's tensors (the state included) are back, for
   * host-side values kept in state tensors (a queue's write pointer).
   */
  resumed?(): Promise<void>;
  /** The step's scalar loss (called inside a scope; the loop runs backward). */
  loss(input: StepInput): Tensor;
  /**
   * Called in the step's scope after the optimizer step, for updates that must follow the backward
   * (a queue enqueue, an EMA of the weights); no read-back.
   */
  afterStep?(input: StepInput): void;
  /** Test-set accuracies and predictions; `auc` (ROC AUC) too on a binary task. */
  evaluate(): Promise<Evaluation>;
  /** The projection head whose output the contrastive loss sees, if any (the diagnostics save that space too). */
  head?: ProjectionHead;
  dispose(): void;
}

/** The common settings a family's checks may look at. */
export interface RecipeCheckContext {
  batchSize: number;
  /** Whether the run is a two-class task (the binary protocol). */
  binary: boolean;
}

/** A family of recipes: one file under src/train/recipes/, one line in the registry. */
export interface RecipeFamily {
  /** The recipes it builds, each with a one-line description for --help. */
  recipes: Readonly<Record<string, string>>;
  /** Its options; an option applies to every recipe of the family unless its `recipes` says otherwise. */
  options: readonly OptionSpec[];
  /** Checks across options and against the common settings, on the host before any GPU work (throws UsageError). */
  check?(recipe: string, options: RecipeOptions, common: RecipeCheckContext): void;
  build(ctx: RecipeContext): Recipe;
}
