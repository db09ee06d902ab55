// Node-only: any dataset of the registry (../datasets.ts) from disk, by name: the folder or file comes
// from the caller, else the dataset's environment variable, else where its Debian package installs it.
import { FASHION_MNIST_FILES } from '../fashion-mnist.js';
import { datasetSpec, type DatasetName, type DatasetVariant } from '../datasets.js';
import type { ImageSplit } from '../idx.js';
import { loadCifar10, loadCifar100 } from './cifar-files.js';
import { loadImageSplit } from './idx-files.js';
import { loadMedMnist } from './medmnist-files.js';

/** Where to read a dataset from, and which variant. */
export interface DatasetSource extends DatasetVariant {
  /** Folder of the files (IDX, CIFAR); default: the dataset's environment variable, then its Debian folder. */
  dataDir?: string;
  /**
   * CIFAR: accept files holding any whole number of records (subsets, test files) instead of the
   * standard 10 000 / 50 000; default false.
   */
  anyRecordCount?: boolean;
}

/** A dataset's training and test splits with the registry's facts about them. */
export interface LoadedDataset {
  name: DatasetName;
  title: string;
  train: ImageSplit;
  test: ImageSplit;
  classNames: string[];
}

/**
 * Loads `name`'s training and test splits. Every failure is one line naming the path, the environment
 * variable and where to download the files (MedMNIST's val split is not used: runs hold out the test split).
 */
export async function loadDataset(name: DatasetName, source: DatasetSource = {}): Promise<LoadedDataset> {
  const spec = datasetSpec(name);
  // An empty variable counts as unset, as shells make it easy to export one by accident.
  const fromEnv = process.env[spec.env] || undefined;
  const hint = `Download ${spec.title} from ${spec.url}${spec.defaultDir ? ` (Debian: apt-get install dataset-${name})` : ''} and pass --data-dir DIR or set ${spec.env}.`;
  let splits: { train: ImageSplit; test: ImageSplit };
  switch (name) {
    case 'fashion-mnist':
    case 'mnist': {
      const dir = source.dataDir ?? fromEnv ?? spec.defaultDir ?? '.';
      const classes = spec.classNames().length;
      splits = {
        train: await loadImageSplit(dir, FASHION_MNIST_FILES.train, classes, hint),
        test: await loadImageSplit(dir, FASHION_MNIST_FILES.test, classes, hint),
      };
      break;
    }
    case 'cifar10':
    case 'cifar100': {
      const opts = { standardCounts: !source.anyRecordCount, labels: source.labels };
      splits = name === 'cifar10' ? await loadCifar10(source.dataDir, opts) : await loadCifar100(source.dataDir, opts);
      break;
    }
    case 'medmnist': {
      const file = source.dataFile ?? fromEnv;
      if (!file) throw new Error(`--dataset medmnist needs --data-file NAME.npz (or ${spec.env}): ${spec.files}, from ${spec.url}`);
      splits = await loadMedMnist(file);
      break;
    }
  }
  return { name, title: spec.title, ...splits, classNames: spec.classNames({ ...source, dataFile: source.dataFile ?? fromEnv }) };
}
