// Public API. Platform-neutral: the same module runs under Node (Dawn, via the `webgpu` package) and in
// browsers (navigator.gpu).
export { init, engine, Engine, type EngineOptions, type MemoryInfo } from './engine.js';
export { acquireDevice, type AdapterDescription, type DeviceOptions } from './gpu/device.js';
export { WebGPUUnavailableError, ShaderCompileError, DeviceError } from './gpu/errors.js';
export { Tensor, scope, type DType, type TypedArray } from './tensor.js';
export { noGrad, type BackwardOptions } from './autograd.js';
export * from './ops/creation.js';
export {
  neg, exp, log, sqrt, rsqrt, relu, abs, sigmoid, tanh, square, affine, scale, powScalar,
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, where, toFloat, toInt, broadcastShapes, assign,
} from './ops/elementwise.js';
export { sum, mean, max, min, logsumexp, argmax, sumTo } from './ops/reduce.js';
export { matmul, type MatmulOptions } from './ops/matmul.js';
export { reshape, permute, transpose, expand, slice, concat } from './ops/shape.js';
export { gather, indexSelect, scatterAdd, oneHot } from './ops/indexing.js';
export { softmax, logSoftmax, l2Normalize, crossEntropy, type Reduction } from './ops/rowwise.js';
export { conv2d, type Conv2dOptions } from './ops/conv.js';
