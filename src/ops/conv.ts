// 2-D convolution (shaders/conv2d.wgsl): NCHW input, OIHW weights (PyTorch's layout), stride and zero
// padding, as implicit GEMM. The backward rule (gradients of input, weights and bias) sits next to the
// forward; each gradient is its own kernel.
import { recordOp } from '../autograd.js';
import { engine, type Engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { sum } from './reduce.js';
import { Uniforms } from './uniforms.js';
import { assertDType, describe } from './validate.js';

/** Options of {@link conv2d}. A single number applies to both spatial dimensions, a pair is [height, width]. */
export interface Conv2dOptions {
  /** Step between output positions (default 1). */
  stride?: number | readonly [number, number];
  /** Zeros added on each side of the input (default 0). */
  padding?: number | readonly [number, number];
}

/** Sizes of one convolution: x [n, c, h, w], weight [k, c, r, s], y [n, k, p, q]. */
interface Geometry {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  r: number;
  s: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  p: number;
  q: number;
}

/** Threads per workgroup (32 to 256 measured alike on SwiftShader). */
const WG = 64;
/**
 * Rows or columns of the GEMM output per thread (the `ROWS` and `COLS` constants) for a GEMM dimension
 * of `n`: 16 once it exceeds 8 (rows: output channels for forward and wgrad, input channels for dgrad;
 * columns: pixels, or input channels for wgrad), else 8, where a second half would be only waste.
 * 16 x 16 measured fastest on SwiftShader (bench/RESULTS.md, "conv2d tile choices").
 */
function blockOf(n: number): number {
  return n > 8 ? 16 : 8;
}

function pair(op: string, what: string, v: number | readonly [number, number] | undefined, fallback: number, min: number): [number, number] {
  const hw: readonly number[] = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : v;
  if (hw.length !== 2 || !hw.every((d) => Number.isInteger(d) && d >= min)) {
    throw new Error(`${op}: ${what} must be an integer >= ${min} or a pair [height, width] of them, got ${JSON.stringify(v)}`);
  }
  return [hw[0], hw[1]];
}

function geometry(x: Tensor, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions): Geometry {
  const op = 'conv2d';
  assertDType(op, x, ['f32'], 'input');
  assertDType(op, weight, ['f32'], 'weight');
  if (bias) assertDType(op, bias, ['f32'], 'bias');
  if (x.rank !== 4) throw new Error(`${op}: input is ${describe(x)}, expected 4 dimensions [N, C, H, W]`);
  if (weight.rank !== 4) throw new Error(`${op}: weight is ${describe(weight)}, expected 4 dimensions [K, C, R, S] (out channels, in channels, kernel height, kernel width)`);
  const [n, c, h, w] = x.shape;
  const [k, wc, r, s] = weight.shape;
  if (wc !== c) {
    throw new Error(`${op}: input ${describe(x)} has ${c} channels but weight ${describe(weight)} expects ${wc} (weight is [K, C, R, S])`);
  }
  if ([c, h, w, k, r, s].some((d) => d === 0)) {
    throw new Error(`${op}: input ${describe(x)} and weight ${describe(weight)} must have non-zero channels, spatial sizes and kernel sizes (only the batch may be 0)`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== k)) {
    throw new Error(`${op}: bias is ${describe(bias)}, expected [${k}] (one value per output channel of weight ${describe(weight)})`);
  }
  const [sh, sw] = pair(op, 'stride', opts.stride, 1, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding, 0, 0);
  const p = Math.floor((h + 2 * ph - r) / sh) + 1;
  const q = Math.floor((w + 2 * pw - s) / sw) + 1;
  if (h + 2 * ph < r || w + 2 * pw < s) {
    throw new Error(`${op}: kernel ${r}x${s} of weight ${describe(weight)} is larger than the padded input ${h + 2 * ph}x${w + 2 * pw} (input ${describe(x)}, padding [${ph}, ${pw}])`);
  }
  return { n, c, h, w, k, r, s, sh, sw, ph, pw, p, q };
}

/** Pipeline constants of a kernel whose GEMM has `rows` rows and `cols` columns. */
function constants(g: Geometry, rows: number, cols: number) {
  return { WG, ROWS: blockOf(rows), COLS: blockOf(cols), R: g.r, S: g.s, SH: g.sh, SW: g.sw, PH: g.ph, PW: g.pw };
}

function params(g: Geometry, parts = 1, phaseH = 0, phaseW = 0, subH = 0, subW = 0): ArrayBuffer {
  return new Uniforms(48).u32(g.n, g.c, g.h, g.w, g.k, g.p, g.q, parts, phaseH, phaseW, subH, subW).buffer;
}

/** Threads covering a rows x cols GEMM output. */
const threadsFor = (rows: number, cols: number) => Math.ceil(rows / blockOf(rows)) * Math.ceil(cols / blockOf(cols));

/**
 * One kernel for every filter size. The alternative for 1x1 stride-1 unpadded convolutions, the
 * engine's matmul kernel as a batched product W [K, C] · x[n] [C, H W], measured level with it on
 * SwiftShader (bench/RESULTS.md, "conv2d tile choices") and would need a separate bias pass, while the
 * stride-2 1x1 shortcuts of ResNets still need this kernel.
 */
function dispatchForward(e: Engine, y: Tensor, x: Tensor, weight: Tensor, bias: Tensor | null, g: Geometry): void {
  const pixels = g.n * g.p * g.q;
  const wb = weight.bufferFor('conv2d');
  e.dispatch({
    family: 'conv2d', entry: 'conv2d_forward', constants: { ...constants(g, g.k, pixels), HAS_BIAS: !!bias }, params: params(g),
    // Without a bias the weight buffer fills binding 5: HAS_BIAS = false never reads it.
    buffers: [y.bufferFor('conv2d'), x.bufferFor('conv2d'), wb, null, bias ? bias.bufferFor('conv2d') : wb],
    groups: e.grid(Math.ceil(threadsFor(g.k, pixels) / WG)),
  });
}

/** dx, one dispatch per stride phase (see conv2d.wgsl): every input pixel belongs to exactly one. */
function inputGrad(e: Engine, dy: Tensor, weight: Tensor, g: Geometry): Tensor {
  const dx = Tensor.empty([g.n, g.c, g.h, g.w]);
  if (dx.size === 0) return dx;
  for (let a = 0; a < Math.min(g.sh, g.h); a++) {
    for (let b = 0; b < Math.min(g.sw, g.w); b++) {
      const subH = Math.ceil((g.h - a) / g.sh);
      const subW = Math.ceil((g.w - b) / g.sw);
      const pixels = g.n * subH * subW;
      e.dispatch({
        family: 'conv2d', entry: 'conv2d_dgrad', constants: constants(g, g.c, pixels), params: params(g, 1, a, b, subH, subW),
        buffers: [dx.bufferFor('conv2d backward'), null, weight.bufferFor('conv2d backward'), dy.bufferFor('conv2d backward')],
        groups: e.grid(Math.ceil(threadsFor(g.c, pixels) / WG)),
      });
    }
  }
  return dx;
}

/**
 * Threads wgrad aims for: the output dw is small (K C R S: 2304 values for a 16-channel 3x3 layer,
 * 9 threads' worth), so its long reduction over N P Q is split into parts, summed afterwards. 1024 on
 * SwiftShader, where 512 to 4096 measured alike (bench/RESULTS.md, "conv2d tile choices"); on GPUs,
 * which need tens of thousands of threads, 32768 (not measured here).
 */
function wgradThreads(e: Engine): number {
  return e.adapter.isFallbackAdapter ? 1024 : 32768;
}

/** dw: partial sums over ranges of rows (n, p), then one sum over the parts. */
function weightGrad(e: Engine, dy: Tensor, x: Tensor, g: Geometry): Tensor {
  const outTiles = threadsFor(g.k, g.c) * g.r * g.s;
  const parts = Math.max(1, Math.min(g.n * g.p, Math.ceil(wgradThreads(e) / outTiles)));
  const partial = Tensor.empty(parts > 1 ? [parts, g.k, g.c, g.r, g.s] : [g.k, g.c, g.r, g.s]);
  e.dispatch({
    family: 'conv2d', entry: 'conv2d_wgrad', constants: constants(g, g.k, g.c), params: params(g, parts),
    buffers: [partial.bufferFor('conv2d backward'), x.bufferFor('conv2d backward'), null, dy.bufferFor('conv2d backward')],
    groups: e.grid(Math.ceil((outTiles * parts) / WG)),
  });
  if (parts === 1) return partial;
  const dw = sum(partial, 0);
  partial.dispose();
  return dw;
}

/**
 * 2-D convolution (cross-correlation, as torch.nn.functional.conv2d with dilation 1 and groups 1):
 * y[n, k, p, q] = bias[k] + sum_{c, r, s} weight[k, c, r, s] * x[n, c, p·sh - ph + r, q·sw - pw + s],
 * with x zero outside the image.
 *
 * @param x input [N, C, H, W] (f32)
 * @param weight filters [K, C, R, S] (f32): K output channels, kernel R x S
 * @param bias optional [K] (f32), added to every output position of channel k
 * @param opts stride and padding (number or [height, width]; defaults 1 and 0)
 * @returns y [N, K, P, Q] with P = floor((H + 2 ph - R) / sh) + 1, Q = floor((W + 2 pw - S) / sw) + 1
 *
 * Backward: dx (a transposed convolution), dweight (a correlation of x with dy) and dbias (dy summed
 * over N, P, Q); only the gradients of inputs that require one are computed.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const b = bias ?? null;
  const g = geometry(x, weight, b, opts);
  const e = engine();
  const y = Tensor.empty([g.n, g.k, g.p, g.q]);
  if (y.size > 0) dispatchForward(e, y, x, weight, b, g);
  const inputs = b ? [x, weight, b] : [x, weight];
  return recordOp(y, 'conv2d', inputs, (dy) => [
    x.requiresGrad ? inputGrad(e, dy, weight, g) : null,
    weight.requiresGrad ? weightGrad(e, dy, x, g) : null,
    b?.requiresGrad ? sum(dy, [0, 2, 3]) : null,
  ]);
}
