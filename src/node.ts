// The Node entry: everything of the browser entry (./index.ts), with Dawn (the `webgpu` package) as the
// WebGPU that init() finds, plus the file loaders, atomic files, safetensors on disk and the trainer's
// file side (run folders, checkpoints, log). Under Node, `import ... from 'webgpu-contrastive'` resolves
// here; browser bundles resolve to ./index.ts, which imports nothing of Node.
import { useDawn } from './gpu/node/dawn.js';

useDawn();

export * from './api.js';
export { useDawn, SWIFTSHADER_ICD } from './gpu/node/dawn.js';
export { readMaybeGzip, findDataFile, pathExists, loadImageSplit } from './data/node/idx-files.js';
export { loadCifar10, loadCifar100, type CifarLoadOptions, type Cifar100LoadOptions } from './data/node/cifar-files.js';
export { loadNpz, loadMedMnist, nodeInflateRaw } from './data/node/medmnist-files.js';
export { loadFashionMnist, FASHION_MNIST_DEFAULT_DIR } from './data/node/fashion-mnist.js';
export { loadDataset, type DatasetSource, type LoadedDataset } from './data/node/datasets.js';
export { writeFileAtomic } from './io/node/atomic.js';
export { readBytes } from './io/node/files.js';
export { saveSafetensors, loadSafetensors } from './io/node/safetensors.js';
export { train, savedConfig, RESUME_SAFE, CHECKPOINT, type TrainResult, type TrainOptions } from './train/node/trainer.js';
