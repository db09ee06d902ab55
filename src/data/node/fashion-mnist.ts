// Node-only: Fashion-MNIST from disk, by default where Debian's dataset-fashion-mnist installs it.
import { FASHION_MNIST_CLASSES, FASHION_MNIST_FILES, type FashionMnist } from '../fashion-mnist.js';
import { loadImageSplit } from './idx-files.js';

/** Where Debian's `dataset-fashion-mnist` package installs the four gzipped IDX files. */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

const HINT =
  "Install Debian's dataset-fashion-mnist with `apt-get install dataset-fashion-mnist`, or pass the directory " +
  'holding the four IDX files (loadFashionMnist(dir), or the FASHION_MNIST_DIR environment variable).';

/**
 * Loads both splits of Fashion-MNIST from `dir`, else from `$FASHION_MNIST_DIR`, else from
 * {@link FASHION_MNIST_DEFAULT_DIR}. Each file may be gzipped (`.gz`, preferred) or raw. Throws an error
 * naming the file and the problem when a file is missing, is not IDX, is truncated, or when the images
 * and labels disagree in count or a label is not 0..9.
 */
export async function loadFashionMnist(dir?: string): Promise<FashionMnist> {
  // An empty variable counts as unset, as shells make it easy to export one by accident.
  const root = dir ?? (process.env.FASHION_MNIST_DIR || FASHION_MNIST_DEFAULT_DIR);
  const classes = FASHION_MNIST_CLASSES.length;
  const train = await loadImageSplit(root, FASHION_MNIST_FILES.train, classes, HINT);
  const test = await loadImageSplit(root, FASHION_MNIST_FILES.test, classes, HINT);
  return { train, test };
}
