// Node-only entry: file loaders and atomic checkpoint writing, which import `node:*` modules. Import the
// engine and the platform-neutral pieces from src/index.ts (browser-safe), and these from here.
export { readMaybeGzip, findDataFile, findIdxFile, pathExists, loadImageSplit } from './data/node/idx-files.js';
export { loadCifar10, loadCifar100, type CifarLoadOptions, type Cifar100LoadOptions } from './data/node/cifar-files.js';
export { loadNpz, loadMedMnist, nodeInflateRaw } from './data/node/medmnist-files.js';
export { loadFashionMnist, FASHION_MNIST_DEFAULT_DIR } from './data/node/fashion-mnist.js';
export { writeFileAtomic } from './io/node/atomic.js';
export { saveSafetensors, loadSafetensors } from './io/node/safetensors.js';
