// The dataset registry: every image dataset the training stack knows, in one place, platform-neutral.
// Each entry says what a run needs to know before it reads a byte: image shape, class names,
// normalisation statistics, which files make it up, where to get them and which environment variable
// points at them. Node loads the files through ./node/datasets.ts; a browser fetches the same files and
// hands the bytes to the parsers (imageSplit, parseCifar, parseNpz + medmnistFromArrays).
import type { Normalization } from './augment.js';
import { CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, type Cifar100Labels } from './cifar.js';
import { FASHION_MNIST_CLASSES } from './fashion-mnist.js';
import { MEDMNIST_CLASSES, MEDMNIST_LABEL_NAMES, MEDMNIST_URL, medmnistBaseName } from './medmnist.js';

export type DatasetName = 'fashion-mnist' | 'mnist' | 'cifar10' | 'cifar100' | 'medmnist';
export const DATASET_NAMES: readonly DatasetName[] = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'medmnist'];

/** Which variant of a dataset: CIFAR-100's label set, MedMNIST's file. */
export interface DatasetVariant {
  /** CIFAR-100: 'fine' (100 classes, default) or 'coarse' (20 superclasses). */
  labels?: Cifar100Labels;
  /** MedMNIST: the .npz file (its base name says which dataset, e.g. breastmnist.npz). */
  dataFile?: string;
}

/** What the registry knows of one dataset. */
export interface DatasetSpec {
  name: DatasetName;
  /** How people write it, e.g. 'CIFAR-10'. */
  title: string;
  /** Image channels and side (MedMNIST: 28 for the standard files; the file itself decides). */
  channels: number;
  size: number;
  /** Class names, index = label. */
  classNames(variant?: DatasetVariant): string[];
  /** Per-channel mean and std of the training pixels in [0, 1], for `channels` channels. */
  norm(channels: number): Normalization;
  /** What the user must provide: a folder or a file. */
  source: 'folder' | 'file';
  /** The files that make it up, for messages. */
  files: string;
  /** Where to download them. */
  url: string;
  /** The environment variable that points at them when no --data-dir / --data-file is given. */
  env: string;
  /** Where a Debian package installs them, if one does. */
  defaultDir?: string;
}

const same = (channels: number, mean: number, std: number): Normalization => ({
  mean: new Array<number>(channels).fill(mean), std: new Array<number>(channels).fill(std),
});

const IDX_FILES = 'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz)';

/** The registry, by name. */
export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  'fashion-mnist': {
    name: 'fashion-mnist', title: 'Fashion-MNIST', channels: 1, size: 28,
    classNames: () => [...FASHION_MNIST_CLASSES],
    norm: (c) => same(c, 0.286, 0.353),
    source: 'folder', files: IDX_FILES,
    url: 'https://github.com/zalandoresearch/fashion-mnist', env: 'FASHION_MNIST_DIR',
    defaultDir: '/usr/share/datasets/fashion-mnist',
  },
  mnist: {
    name: 'mnist', title: 'MNIST', channels: 1, size: 28,
    classNames: () => Array.from({ length: 10 }, (_, i) => String(i)),
    norm: (c) => same(c, 0.1307, 0.3081),
    source: 'folder', files: IDX_FILES,
    url: 'https://yann.lecun.com/exdb/mnist/', env: 'MNIST_DIR',
  },
  cifar10: {
    name: 'cifar10', title: 'CIFAR-10', channels: 3, size: 32,
    classNames: () => [...CIFAR10_CLASSES],
    norm: () => ({ mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] }),
    source: 'folder', files: 'data_batch_1.bin … data_batch_5.bin, test_batch.bin (cifar-10-batches-bin)',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', env: 'CIFAR10_DIR',
  },
  cifar100: {
    name: 'cifar100', title: 'CIFAR-100', channels: 3, size: 32,
    classNames: (v) => [...(v?.labels === 'coarse' ? CIFAR100_COARSE_CLASSES : CIFAR100_FINE_CLASSES)],
    norm: () => ({ mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] }),
    source: 'folder', files: 'train.bin, test.bin (cifar-100-binary)',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', env: 'CIFAR100_DIR',
  },
  medmnist: {
    name: 'medmnist', title: 'MedMNIST', channels: 1, size: 28,
    classNames: (v) => {
      const base = medmnistBaseName(v?.dataFile ?? '');
      const names = MEDMNIST_LABEL_NAMES[base];
      return names ? [...names] : Array.from({ length: MEDMNIST_CLASSES[base] ?? 0 }, (_, i) => `class ${i}`);
    },
    // MedMNIST's own examples normalise every channel with mean 0.5 and std 0.5.
    norm: (c) => same(c, 0.5, 0.5),
    source: 'file', files: `one MedMNIST v2 .npz (${Object.keys(MEDMNIST_CLASSES).join(', ')})`,
    url: MEDMNIST_URL, env: 'MEDMNIST_FILE',
  },
};

/** The registry entry of `name`; throws, listing the known names, for any other. */
export function datasetSpec(name: string): DatasetSpec {
  const spec = (DATASETS as Record<string, DatasetSpec | undefined>)[name];
  if (!spec) throw new Error(`unknown dataset '${name}' (known: ${DATASET_NAMES.join(', ')})`);
  return spec;
}
