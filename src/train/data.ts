// A run's data on the device: the protocol applied to a dataset's splits (the long-tailed subset, or
// the binary subset of two classes; caps per class; a balanced test subset), uploaded once as f32
// images in [0, 1]. Platform-neutral: Node hands it the splits read from disk, a page the splits it
// fetched and parsed.
import { binarySubset } from '../data/binary.js';
import type { ImageSplit } from '../data/idx.js';
import { balancedSubset, classCounts, longTailSubset } from '../data/longtail.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import type { TrainConfig } from './config.js';
import { UsageError } from './options.js';

/** The host side of a run's data: which rows, which labels (the protocol applied). */
export interface DataSelection {
  /** Classes of the task (2 under the binary protocol). */
  classes: number;
  /** Their names, index = label. */
  classNames: string[];
  trainIdx: Int32Array;
  trainLabels: Int32Array;
  trainCounts: number[];
  testIdx: Int32Array;
  testLabels: Int32Array;
  /** One line for the log, e.g. "CIFAR-10-LT IF 100 (exp)". */
  what: string;
}

/** The run's data: the selection plus the images on the device (kept; {@link disposeData} frees them). */
export interface TrainingData extends DataSelection {
  /** f32 [n, C, H, W] in [0, 1]. */
  trainImages: Tensor;
  testImages: Tensor;
  channels: number;
  size: number;
}

/** Runs a subset draw sized by `--flag value`; a size the data cannot hold is the user's error, named by its flag. */
function sized<T>(flag: string, value: number, draw: () => T): T {
  try {
    return draw();
  } catch (e) {
    if (value > 0) throw new UsageError(`--${flag} ${value}: ${(e as Error).message}`);
    throw e;
  }
}

/**
 * The training and test rows and labels of `cfg`'s protocol: the long-tailed subset of all classes, or
 * with `cfg.binary` = [a, b] the binary subset (a → label 0, b → label 1, the minority) and the test
 * images of a and b; then at most `limitPerClass` training and `testPerClass` test images per label.
 * Host only: a protocol that does not fit the data (an unknown class, too few images) fails before any GPU work.
 */
export function selectData(cfg: TrainConfig, train: ImageSplit, test: ImageSplit, title: string, names: string[]): DataSelection {
  let classes = names.length;
  let classNames = names;
  let trainIdx: Int32Array;
  let relabel = (y: number) => y;
  let what = `${title}-LT IF ${cfg.imbalance} (${cfg.profile}${cfg.nMax ? `, n_max ${cfg.nMax}` : ''})`;
  if (cfg.binary) {
    const [a, b] = cfg.binary;
    for (const c of cfg.binary) if (c >= classes) throw new UsageError(`--binary ${a},${b}: ${title} has classes 0 to ${classes - 1}`);
    const subset = sized('binary-total', cfg.binaryTotal, () => binarySubset(train.labels, { numClasses: classes, groups: [[a], [b]], minorityShare: cfg.minorityShare, seed: cfg.seed, total: cfg.binaryTotal || undefined }));
    classes = 2;
    classNames = [names[a], names[b]];
    relabel = (y) => (y === a ? 0 : y === b ? 1 : -1);
    trainIdx = subset.indices;
    what = `${title} binary ${a} vs ${b} (minority share ${cfg.minorityShare})`;
  } else {
    trainIdx = sized('n-max', cfg.nMax, () => longTailSubset(train.labels, { numClasses: classes, imbalanceFactor: cfg.imbalance, seed: cfg.seed, profile: cfg.profile, nMax: cfg.nMax || undefined })).indices;
  }
  if (cfg.limitPerClass > 0) {
    const taken = new Array<number>(classes).fill(0);
    trainIdx = trainIdx.filter((i) => taken[relabel(train.labels[i])]++ < cfg.limitPerClass);
  }
  const trainLabels = Int32Array.from(trainIdx, (i) => relabel(train.labels[i]));
  let testIdx = Int32Array.from({ length: test.count }, (_, i) => i).filter((i) => relabel(test.labels[i]) >= 0);
  if (cfg.testPerClass > 0) {
    const picked = balancedSubset(Array.from(testIdx, (i) => relabel(test.labels[i])), cfg.testPerClass, { numClasses: classes, seed: cfg.seed }).indices;
    testIdx = Int32Array.from(picked, (k) => testIdx[k]);
  }
  const testLabels = Int32Array.from(testIdx, (i) => relabel(test.labels[i]));
  return { classes, classNames, trainIdx, trainLabels, trainCounts: classCounts(trainLabels, classes), testIdx, testLabels, what };
}

/** Rows `keep` of `split` as f32 [n, C, H, W] in [0, 1] on the device (kept). */
function upload(split: ImageSplit, keep: Int32Array): Tensor {
  const { images: pixels, channels, height, width } = split;
  const image = channels * height * width;
  const data = new Float32Array(keep.length * image);
  for (let i = 0; i < keep.length; i++) {
    const src = keep[i];
    for (let j = 0; j < image; j++) data[i * image + j] = pixels[src * image + j] / 255;
  }
  return tensor(data, [keep.length, channels, height, width]).keep();
}

/** Uploads the selected images of both splits. */
export function uploadData(selection: DataSelection, train: ImageSplit, test: ImageSplit): TrainingData {
  if (train.height !== train.width) throw new Error(`the training images are ${train.height}×${train.width}: only square images are supported`);
  return {
    ...selection,
    trainImages: upload(train, selection.trainIdx),
    testImages: upload(test, selection.testIdx),
    channels: train.channels,
    size: train.height,
  };
}

/** Frees the images of {@link uploadData}. */
export function disposeData(data: TrainingData): void {
  data.trainImages.dispose();
  data.testImages.dispose();
}
