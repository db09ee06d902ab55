// Fashion-MNIST (Xiao et al. 2017): what a loader needs to know, platform-neutral. Node reads the files
// with ./node/fashion-mnist.ts; a browser fetches them and passes the bytes to imageSplit().
import type { ImageSplit } from './idx.js';

/** Class names, indexed by label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** File base names of each split, as distributed (each may also be gzipped, with a `.gz` suffix). */
export const FASHION_MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

/** The two splits of Fashion-MNIST: 60 000 training and 10 000 test images of 28 × 28 pixels. */
export interface FashionMnist {
  train: ImageSplit;
  test: ImageSplit;
}
