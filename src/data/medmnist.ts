// MedMNIST v2 (Yang et al. 2023, https://medmnist.com): one .npz per dataset holding train/val/test
// images (uint8, N×H×W grey or N×H×W×C colour) and labels (N×1). Platform-neutral: Node reads the file
// with ./node/medmnist-files.ts; a browser fetches it and calls parseNpz() then medmnistFromArrays().
import type { ImageSplit, SplitSources } from './idx.js';
import { npyNumbers, type NpyArray } from './npy.js';
import { checkLabels } from './split.js';

/** Where the MedMNIST v2 .npz files are published. */
export const MEDMNIST_URL = 'https://zenodo.org/records/10519652';

/**
 * Classes of the single-label 2D MedMNIST v2 datasets, by file name (without `.npz` or a size suffix such
 * as `_64`). ChestMNIST (multi-label) and the 3D volumes do not fit an ImageSplit and are not listed.
 */
export const MEDMNIST_CLASSES: Readonly<Record<string, number>> = {
  pathmnist: 9, dermamnist: 7, octmnist: 4, pneumoniamnist: 2, retinamnist: 5, breastmnist: 2,
  bloodmnist: 8, tissuemnist: 8, organamnist: 11, organcmnist: 11, organsmnist: 11,
};

/** The splits of a MedMNIST dataset, in the order and under the names of its .npz arrays. */
export const MEDMNIST_SPLITS = ['train', 'val', 'test'] as const;

/** The three splits of a MedMNIST dataset. */
export interface MedMnist {
  train: ImageSplit;
  val: ImageSplit;
  test: ImageSplit;
}

/**
 * Label names of the MedMNIST v2 datasets (the `label` field of MedMNIST's INFO), index = label.
 * RetinaMNIST's labels are ordinal severity grades 0-4.
 */
export const MEDMNIST_LABEL_NAMES: Readonly<Record<string, readonly string[]>> = {
  pathmnist: ['adipose', 'background', 'debris', 'lymphocytes', 'mucus', 'smooth muscle', 'normal colon mucosa', 'cancer-associated stroma', 'colorectal adenocarcinoma epithelium'],
  dermamnist: ['actinic keratoses and intraepithelial carcinoma', 'basal cell carcinoma', 'benign keratosis-like lesions', 'dermatofibroma', 'melanoma', 'melanocytic nevi', 'vascular lesions'],
  octmnist: ['choroidal neovascularization', 'diabetic macular edema', 'drusen', 'normal'],
  pneumoniamnist: ['normal', 'pneumonia'],
  retinamnist: ['0', '1', '2', '3', '4'],
  breastmnist: ['malignant', 'normal, benign'],
  bloodmnist: ['basophil', 'eosinophil', 'erythroblast', 'immature granulocytes', 'lymphocyte', 'monocyte', 'neutrophil', 'platelet'],
  tissuemnist: ['collecting duct, connecting tubule', 'distal convoluted tubule', 'glomerular endothelial cells', 'interstitial endothelial cells', 'leukocytes', 'podocytes', 'proximal tubule segments', 'thick ascending limb'],
  organamnist: ['bladder', 'femur-left', 'femur-right', 'heart', 'kidney-left', 'kidney-right', 'liver', 'lung-left', 'lung-right', 'pancreas', 'spleen'],
  organcmnist: ['bladder', 'femur-left', 'femur-right', 'heart', 'kidney-left', 'kidney-right', 'liver', 'lung-left', 'lung-right', 'pancreas', 'spleen'],
  organsmnist: ['bladder', 'femur-left', 'femur-right', 'heart', 'kidney-left', 'kidney-right', 'liver', 'lung-left', 'lung-right', 'pancreas', 'spleen'],
};

/** The dataset a MedMNIST file holds, from its name: `bloodmnist_64.npz` → `bloodmnist`. */
export function medmnistBaseName(fileName: string): string {
  return fileName.split(/[\\/]/).pop()!.toLowerCase().replace(/\.npz$/, '').replace(/_\d+$/, '');
}

/** The classes of a MedMNIST file from its name (`breastmnist.npz`, `bloodmnist_64.npz`), if known. */
export function medmnistClassesFor(fileName: string): number | undefined {
  return MEDMNIST_CLASSES[medmnistBaseName(fileName)];
}

/**
 * One split from its images array (|u1, N×H×W or N×H×W×C with C ≤ 4, returned as NCHW) and labels array
 * (|u1, <i4 or <i8, N or N×1, each < numClasses). Throws, naming the sources, on anything else.
 */
export function medmnistSplit(images: NpyArray, labels: NpyArray, numClasses: number, sources: SplitSources): ImageSplit {
  // ImageSplit holds a label in a byte.
  if (!(Number.isInteger(numClasses) && numClasses >= 1 && numClasses <= 256)) throw new Error(`${sources.labels}: numClasses ${numClasses} is not 1..256`);
  const shape = `(${images.shape.join(', ')})`;
  if (images.dtype !== '|u1') throw new Error(`${sources.images}: images must be unsigned bytes (|u1), found ${images.dtype}`);
  if (images.shape.length !== 3 && images.shape.length !== 4) throw new Error(`${sources.images}: images of shape ${shape}: expected (N, H, W) or (N, H, W, C)`);
  const [count, height, width, channels = 1] = images.shape;
  if (channels < 1 || channels > 4) {
    throw new Error(`${sources.images}: images of shape ${shape}: the last dimension ${channels} is not a channel count (1 to 4); 3D volumes are not supported`);
  }
  const ls = labels.shape;
  if (!(ls.length === 1 || (ls.length === 2 && ls[1] === 1))) {
    throw new Error(`${sources.labels}: labels of shape (${ls.join(', ')}): expected (N) or (N, 1); multi-label datasets (ChestMNIST) are not supported`);
  }
  if (ls[0] !== count) throw new Error(`${sources.labels}: count mismatch: ${ls[0]} labels for ${count} images in ${sources.images}`);
  const values = npyNumbers(labels);
  checkLabels(values, numClasses, sources.labels);
  const plane = height * width;
  let pixels = images.data;
  if (channels > 1) {
    // NHWC, as numpy holds colour images, to the NCHW of ImageSplit.
    pixels = new Uint8Array(images.data.length);
    for (let n = 0; n < count; n++) {
      const base = n * plane * channels;
      for (let p = 0; p < plane; p++) {
        for (let c = 0; c < channels; c++) pixels[base + c * plane + p] = images.data[base + p * channels + c];
      }
    }
  }
  return { images: pixels, labels: Uint8Array.from(values), count, channels, height, width };
}

/**
 * The three splits from the arrays of a MedMNIST .npz (`train_images`, `train_labels`, `val_images`, ...).
 * `source` (the file) prefixes the messages.
 */
export function medmnistFromArrays(arrays: Map<string, NpyArray>, numClasses: number, source: string): MedMnist {
  const get = (name: string): NpyArray => {
    const a = arrays.get(name);
    if (!a) throw new Error(`MedMNIST ${source}: no array '${name}' (it holds ${[...arrays.keys()].join(', ') || 'none'})`);
    return a;
  };
  const split = (s: (typeof MEDMNIST_SPLITS)[number]) => medmnistSplit(get(`${s}_images`), get(`${s}_labels`), numClasses, {
    images: `MedMNIST ${source}: ${s}_images`,
    labels: `MedMNIST ${source}: ${s}_labels`,
  });
  return { train: split('train'), val: split('val'), test: split('test') };
}
