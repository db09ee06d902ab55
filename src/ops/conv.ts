// 2-D convolution (shaders/conv2d.wgsl): NCHW input, OIHW weights (PyTorch's layout), stride and zero
// padding, as implicit GEMM. The backward rule (gradients of input, weights and bias) sits next to the
// forward; each gradient is its own kernel.
import { recordOp } from '../autograd.js';
import { engine, type Engine } from '../engine.js';
import type { Generated } from '../gpu/kernels.js';
import { Tensor } from '../tensor.js';
import { halfCopy } from './half.js';
import { sum } from './reduce.js';
// For its side effect: registers the start-up step that picks this engine's kernels (any program that
// runs this op tunes its engine at init(), whatever else it imports).
import './tuning/table.js';
import {
  defaultConv, gemmClass, pick, picksOf, runsOn, type ConvKind, type ConvVariant,
} from './tuning/variants.js';
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

/**
 * Rows or columns of the GEMM output per thread (the `ROWS` and `COLS` constants of the register
 * kernels) for a GEMM dimension of `n`: the variant's block once n exceeds 8, else 8, where a second
 * half would be only waste (rows: output channels for forward and wgrad, input channels for dgrad;
 * columns: pixels, or input channels for wgrad).
 */
function blockOf(n: number, block: 8 | 16): number {
  return n > 8 ? block : 8;
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

/** Pipeline constants of a register kernel whose GEMM has `rows` rows and `cols` columns. */
function constants(g: Geometry, v: RegisterConv, rows: number, cols: number) {
  return { WG: v.wg, ROWS: blockOf(rows, v.block), COLS: blockOf(cols, v.block), ...geometryConstants(g) };
}

/** Kernel size, stride and padding: pipeline constants of every conv2d kernel. */
function geometryConstants(g: Geometry) {
  return { R: g.r, S: g.s, SH: g.sh, SW: g.sw, PH: g.ph, PW: g.pw };
}

function params(g: Geometry, parts = 1, phaseH = 0, phaseW = 0, subH = 0, subW = 0): ArrayBuffer {
  return new Uniforms(48).u32(g.n, g.c, g.h, g.w, g.k, g.p, g.q, parts, phaseH, phaseW, subH, subW).buffer;
}

/** Threads of a register kernel covering a rows x cols GEMM output. */
const threadsFor = (v: RegisterConv, rows: number, cols: number) => Math.ceil(rows / blockOf(rows, v.block)) * Math.ceil(cols / blockOf(cols, v.block));

type RegisterConv = Extract<ConvVariant, { kernel: 'register' }>;

/** The GEMM of a convolution kernel: output rows and columns, and its reduction length. */
function gemmOf(kind: ConvKind, g: Geometry): [number, number, number] {
  if (kind === 'forward') return [g.k, g.n * g.p * g.q, g.c * g.r * g.s];
  if (kind === 'dgrad') return [g.c, g.n * g.h * g.w, g.k * g.r * g.s];
  return [g.k, g.c * g.r * g.s, g.n * g.p * g.q];
}

/**
 * The variant for GEMM `kind` of this convolution: the engine's pick for its shape class, unless that
 * cannot run it on this adapter (grid too wide, or limits): then today's register kernel.
 */
function convVariantFor(e: Engine, kind: ConvKind, g: Geometry): ConvVariant {
  const [rows, cols, red] = gemmOf(kind, g);
  const v = pick(picksOf(e).conv[kind], gemmClass(rows, cols, red));
  const fits = v.kernel === 'register' || Math.max(Math.ceil(cols / v.bn), Math.ceil(rows / v.bm)) <= e.limits.maxComputeWorkgroupsPerDimension;
  return fits && runsOn(e, v) ? v : defaultConv(e, kind);
}

/** How a dispatch specialises the family: f16 operands under f16 storage, a tiled variant's constants. */
function generatedFor(e: Engine, v: ConvVariant): Generated | undefined {
  const precision = e.f16Storage ? { consts: { In: 'f16' }, features: ['shader-f16' as const] } : {};
  if (v.kernel === 'register') return e.f16Storage ? precision : undefined;
  return { ...precision, consts: { ...precision.consts, BM: v.bm, BN: v.bn, BK: v.bk, TM: v.tm, TN: v.tn, NBUF: v.buffers } };
}

/**
 * Bindings 1-5 of conv2d_tiled, which declares every operand (one entry point for the three GEMMs):
 * those a KIND does not read are filled with one it does.
 */
function tiledBindings(out: Tensor, op: string, [x, w, dy, bias]: (GPUBuffer | null)[]): GPUBuffer[] {
  const fill = (x ?? w ?? dy)!;
  return [out.bufferFor(op), x ?? fill, w ?? fill, dy ?? fill, bias ?? fill];
}

/** Operand buffers of a dispatch: f16 copies under f16 storage (given back by `done`). */
function operands(e: Engine, op: string, ...ts: Tensor[]): { buffers: GPUBuffer[]; done: () => void } {
  if (!e.f16Storage) return { buffers: ts.map((t) => t.bufferFor(op)), done: () => {} };
  const buffers = ts.map((t) => halfCopy(e, t, op));
  return { buffers, done: () => buffers.forEach((b) => e.freeBuffer(b)) };
}

/**
 * One kernel for every filter size. The alternative for 1x1 stride-1 unpadded convolutions, the
 * engine's matmul kernel as a batched product W [K, C] · x[n] [C, H W], measured level with it on
 * SwiftShader (bench/RESULTS.md, "conv2d tile choices") and would need a separate bias pass, while the
 * stride-2 1x1 shortcuts of ResNets still need this kernel.
 */
function dispatchForward(e: Engine, y: Tensor, x: Tensor, weight: Tensor, bias: Tensor | null, g: Geometry): void {
  const v = convVariantFor(e, 'forward', g);
  const pixels = g.n * g.p * g.q;
  const { buffers: [xb, wb], done } = operands(e, 'conv2d', x, weight);
  // Without a bias the weight buffer fills binding 5: HAS_BIAS = false never reads it.
  const bb = bias ? bias.bufferFor('conv2d') : wb;
  const generated = generatedFor(e, v);
  if (v.kernel === 'register') {
    e.dispatch({
      family: 'conv2d', entry: 'conv2d_forward', constants: { ...constants(g, v, g.k, pixels), HAS_BIAS: !!bias }, generated, params: params(g),
      buffers: [y.bufferFor('conv2d'), xb, wb, null, bb],
      groups: e.grid(Math.ceil(threadsFor(v, g.k, pixels) / v.wg)),
    });
  } else {
    e.dispatch({
      family: 'conv2d', entry: 'conv2d_tiled', constants: { ...geometryConstants(g), KIND: 0, HAS_BIAS: !!bias }, generated, params: params(g),
      buffers: tiledBindings(y, 'conv2d', [xb, wb, null, bb]),
      groups: [Math.ceil(pixels / v.bn), Math.ceil(g.k / v.bm), 1],
    });
  }
  done();
}

/** dx, one dispatch per stride phase (see conv2d.wgsl): every input pixel belongs to exactly one. */
function inputGrad(e: Engine, dy: Tensor, weight: Tensor, g: Geometry): Tensor {
  const v = convVariantFor(e, 'dgrad', g);
  const dx = Tensor.empty([g.n, g.c, g.h, g.w]);
  if (dx.size === 0) return dx;
  const op = 'conv2d backward';
  const { buffers: [wb, dyb], done } = operands(e, op, weight, dy);
  const generated = generatedFor(e, v);
  for (let a = 0; a < Math.min(g.sh, g.h); a++) {
    for (let b = 0; b < Math.min(g.sw, g.w); b++) {
      const subH = Math.ceil((g.h - a) / g.sh);
      const subW = Math.ceil((g.w - b) / g.sw);
      const pixels = g.n * subH * subW;
      const common = { generated, params: params(g, 1, a, b, subH, subW) };
      if (v.kernel === 'register') {
        e.dispatch({
          family: 'conv2d', entry: 'conv2d_dgrad', constants: constants(g, v, g.c, pixels), ...common, buffers: [dx.bufferFor(op), null, wb, dyb],
          groups: e.grid(Math.ceil(threadsFor(v, g.c, pixels) / v.wg)),
        });
      } else {
        // The tiled kernel takes the phase as pipeline constants: its tap loops then have constant bounds.
        e.dispatch({
          family: 'conv2d', entry: 'conv2d_tiled', constants: { ...geometryConstants(g), KIND: 1, PHASE_H: a, PHASE_W: b }, ...common,
          buffers: tiledBindings(dx, op, [null, wb, dyb, null]),
          groups: [Math.ceil(pixels / v.bn), Math.ceil(g.c / v.bm), 1],
        });
      }
    }
  }
  done();
  return dx;
}

/**
 * dw: partial sums over ranges of rows (n, p), then one sum over the parts. The output dw is small
 * (K C R S: 2304 values for a 16-channel 3x3 layer, 9 register threads' worth), so its long reduction
 * over N P Q is split into as many parts as bring the threads near the variant's `split`.
 */
function weightGrad(e: Engine, dy: Tensor, x: Tensor, g: Geometry): Tensor {
  const v = convVariantFor(e, 'wgrad', g);
  const split = v.split ?? (defaultConv(e, 'wgrad').split as number);
  const crs = g.c * g.r * g.s;
  const tiles = v.kernel === 'register' ? threadsFor(v, g.k, g.c) * g.r * g.s : Math.ceil(crs / v.bn) * Math.ceil(g.k / v.bm);
  const threadsPerTile = v.kernel === 'register' ? 1 : (v.bm / v.tm) * (v.bn / v.tn);
  const maxParts = v.kernel === 'register' ? g.n * g.p : Math.min(g.n * g.p, e.limits.maxComputeWorkgroupsPerDimension);
  const parts = Math.max(1, Math.min(maxParts, Math.ceil(split / (tiles * threadsPerTile))));
  const partial = Tensor.empty(parts > 1 ? [parts, g.k, g.c, g.r, g.s] : [g.k, g.c, g.r, g.s]);
  const op = 'conv2d backward';
  const { buffers: [xb, dyb], done } = operands(e, op, x, dy);
  const common = { generated: generatedFor(e, v), params: params(g, parts) };
  if (v.kernel === 'register') {
    e.dispatch({
      family: 'conv2d', entry: 'conv2d_wgrad', constants: constants(g, v, g.k, g.c), ...common, buffers: [partial.bufferFor(op), xb, null, dyb],
      groups: e.grid(Math.ceil((tiles * parts) / v.wg)),
    });
  } else {
    e.dispatch({
      family: 'conv2d', entry: 'conv2d_tiled', constants: { ...geometryConstants(g), KIND: 2 }, ...common, buffers: tiledBindings(partial, op, [xb, null, dyb, null]),
      groups: [Math.ceil(crs / v.bn), Math.ceil(g.k / v.bm), parts],
    });
  }
  done();
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
