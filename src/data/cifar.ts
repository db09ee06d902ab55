// CIFAR-10 and CIFAR-100, binary version (https://www.cs.toronto.edu/~kriz/cifar.html): each file is a
// sequence of fixed-size records, the label byte(s) then 3072 pixel bytes (R, G, B planes of 32 × 32,
// row-major), which is already the NCHW layout of ImageSplit. Pure functions on bytes; Node reads the
// files with ./node/cifar-files.ts, a browser fetches them and calls parseCifar() and concatSplits().
import type { ImageSplit } from './idx.js';
import { checkLabels } from './split.js';

/** CIFAR-10 class names, indexed by label. */
export const CIFAR10_CLASSES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;

/** CIFAR-100 fine class names (100), indexed by fine label, as in the dataset's fine_label_names. */
export const CIFAR100_FINE_CLASSES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle', 'bowl',
  'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle', 'chair',
  'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur', 'dolphin',
  'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard', 'lamp',
  'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck',
  'pine_tree', 'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road',
  'rocket', 'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger',
  'tractor', 'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman',
  'worm',
] as const;

/** CIFAR-100 coarse class names (20 superclasses), indexed by coarse label. */
export const CIFAR100_COARSE_CLASSES = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables',
  'household_electrical_devices', 'household_furniture', 'insects', 'large_carnivores',
  'large_man-made_outdoor_things', 'large_natural_outdoor_scenes', 'large_omnivores_and_herbivores',
  'medium_mammals', 'non-insect_invertebrates', 'people', 'reptiles', 'small_mammals', 'trees', 'vehicles_1',
  'vehicles_2',
] as const;

/** File names of each split, as in cifar-10-binary.tar.gz (folder cifar-10-batches-bin). */
export const CIFAR10_FILES = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
} as const;

/** File names of each split, as in cifar-100-binary.tar.gz (folder cifar-100-binary). */
export const CIFAR100_FILES = { train: ['train.bin'], test: ['test.bin'] } as const;

/** Records each standard file holds; a file of another size is not the one its name says. */
export const CIFAR_STANDARD_RECORDS: Readonly<Record<string, number>> = {
  ...Object.fromEntries([...CIFAR10_FILES.train, ...CIFAR10_FILES.test].map((f) => [f, 10000])),
  'train.bin': 50000,
  'test.bin': 10000,
};

export type CifarVariant = 'cifar10' | 'cifar100';

/** Which CIFAR-100 label a split carries: one of 100 classes, or one of 20 superclasses. */
export type Cifar100Labels = 'fine' | 'coarse';

const SIDE = 32;
const PIXELS = 3 * SIDE * SIDE;

/** Bytes of one record: label byte(s) + 3072 pixel bytes. */
export function cifarRecordBytes(variant: CifarVariant): number {
  return (variant === 'cifar10' ? 1 : 2) + PIXELS;
}

export interface CifarParseOptions {
  /** CIFAR-100: the label to keep (default 'fine'). Both are checked either way. */
  labels?: Cifar100Labels;
  /** Records the file must hold (e.g. CIFAR_STANDARD_RECORDS[name]); any whole number when absent. */
  expectedRecords?: number;
}

/**
 * Parses one CIFAR binary file into a 3 × 32 × 32 split. Throws, naming `source`, when the size is not a
 * whole number of records (truncated), the record count differs from `expectedRecords`, or a label is out
 * of range (CIFAR-10 < 10; CIFAR-100 fine < 100 and coarse < 20).
 */
export function parseCifar(bytes: Uint8Array, variant: CifarVariant, source: string, opts: CifarParseOptions = {}): ImageSplit {
  const name = variant === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100';
  const record = cifarRecordBytes(variant);
  if (bytes.length % record !== 0) {
    throw new Error(`${name} ${source}: truncated: ${bytes.length} bytes is not a whole number of ${record}-byte records`);
  }
  const count = bytes.length / record;
  if (opts.expectedRecords !== undefined && count !== opts.expectedRecords) {
    throw new Error(`${name} ${source}: expected ${opts.expectedRecords} records (${opts.expectedRecords * record} bytes), found ${count} (${bytes.length} bytes)`);
  }
  const labelBytes = record - PIXELS;
  const images = new Uint8Array(count * PIXELS);
  // CIFAR-100 records hold the coarse label first, then the fine one.
  const first = new Uint8Array(count);
  const second = new Uint8Array(labelBytes === 2 ? count : 0);
  for (let i = 0; i < count; i++) {
    const at = i * record;
    first[i] = bytes[at];
    if (labelBytes === 2) second[i] = bytes[at + 1];
    images.set(bytes.subarray(at + labelBytes, at + record), i * PIXELS);
  }
  let labels: Uint8Array;
  if (variant === 'cifar10') {
    checkLabels(first, 10, `${name} ${source}`);
    labels = first;
  } else {
    checkLabels(first, 20, `${name} ${source}`, 'coarse label');
    checkLabels(second, 100, `${name} ${source}`, 'fine label');
    labels = (opts.labels ?? 'fine') === 'fine' ? second : first;
  }
  return { images, labels, count, channels: 3, height: SIDE, width: SIDE };
}

/** The two splits of CIFAR-10 (50 000 + 10 000) or CIFAR-100 (50 000 + 10 000) images of 3 × 32 × 32. */
export interface Cifar {
  train: ImageSplit;
  test: ImageSplit;
}
