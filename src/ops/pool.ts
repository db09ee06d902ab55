// 2-d pooling over the spatial axes of NCHW tensors (shaders/pool.wgsl): max pooling with the argmax
// saved for backward, average pooling with PyTorch's padding semantics, and global average pooling.
import { recordOp } from '../autograd.js';
import { engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { mean } from './reduce.js';
import { Uniforms } from './uniforms.js';
import { assertDType, describe } from './validate.js';

/** A size for both spatial axes, or [height, width]. */
export type Size2 = number | readonly [number, number];

const WG = 256;

interface Geometry {
  planes: number;
  h: number;
  w: number;
  ho: number;
  wo: number;
  k: [number, number];
  s: [number, number];
  p: [number, number];
}

function pair(op: string, what: string, v: Size2, min: number): [number, number] {
  const [a, b] = typeof v === 'number' ? [v, v] : v;
  if (![a, b].every((d) => Number.isInteger(d) && d >= min)) {
    throw new Error(`${op}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [a, b];
}

/** Checks the input and the window parameters and derives the output size, as PyTorch (floor mode). */
function geometry(op: string, x: Tensor, kernel: Size2, stride: Size2, padding: Size2): Geometry {
  assertDType(op, x, ['f32']);
  if (x.rank !== 4) throw new Error(`${op}: expected input [N, C, H, W], got ${describe(x)}`);
  const k = pair(op, 'kernel', kernel, 1);
  const s = pair(op, 'stride', stride, 1);
  const p = pair(op, 'padding', padding, 0);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) {
    throw new Error(`${op}: padding ${JSON.stringify(padding)} must be at most half the kernel ${JSON.stringify(kernel)}`);
  }
  const [n, c, h, w] = x.shape;
  const ho = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const wo = Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1;
  if (ho < 1 || wo < 1) {
    throw new Error(`${op}: kernel ${JSON.stringify(kernel)} with padding ${JSON.stringify(padding)} does not fit input ${describe(x)}`);
  }
  return { planes: n * c, h, w, ho, wo, k, s, p };
}

/** Whether the windows cover every input position exactly once (the common 2x2, stride 2 on even sizes). */
function tiles(geo: Geometry): boolean {
  return geo.s[0] === geo.k[0] && geo.s[1] === geo.k[1] && geo.p[0] === 0 && geo.p[1] === 0 && geo.h === geo.ho * geo.k[0] && geo.w === geo.wo * geo.k[1];
}

/** One dispatch of `entry`, a thread per element of `threads` (default: of `out`). */
function record(entry: string, geo: Geometry, out: Tensor, src: Tensor, argmax: Tensor | null, countPad = true, threads = out.size): void {
  const e = engine();
  const params = new Uniforms(48).u32(geo.planes).u32(geo.h, geo.w, geo.ho, geo.wo, ...geo.k, ...geo.s, ...geo.p).u32(0);
  e.dispatch({
    family: 'pool',
    entry,
    constants: entry.startsWith('avg') ? { WG, COUNT_PAD: countPad } : { WG },
    params: params.buffer,
    buffers: [out.bufferFor(entry), src.bufferFor(entry), argmax?.bufferFor(entry) ?? null],
    groups: e.grid(Math.ceil(threads / WG)),
  });
}

/**
 * 2-d max pooling of x [N, C, H, W], as torch.nn.functional.max_pool2d (dilation 1, floor mode):
 * padding counts as -inf, and the gradient of each output goes to the first maximum of its window.
 *
 * @param kernel - window size, one number or [height, width].
 * @param stride - step between windows; defaults to the kernel.
 * @param padding - implicit padding on each side, at most half the kernel.
 */
export function maxPool2d(x: Tensor, kernel: Size2, stride: Size2 = kernel, padding: Size2 = 0): Tensor {
  const geo = geometry('maxPool2d', x, kernel, stride, padding);
  const [n, c] = x.shape;
  const y = Tensor.empty([n, c, geo.ho, geo.wo]);
  const argmax = Tensor.empty(y.shape, 'i32');
  record('max_forward', geo, y, x, argmax);
  const out = recordOp(y, 'maxPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (tiles(geo)) record('max_backward_tiled', geo, dx, g, argmax, true, g.size);
    else record('max_backward', geo, dx, g, argmax);
    return [dx];
  });
  // Without a graph nothing will read the argmax again.
  if (!out.requiresGrad) argmax.dispose();
  return out;
}

/**
 * 2-d average pooling of x [N, C, H, W], as torch.nn.functional.avg_pool2d (floor mode): with
 * `countIncludePad` (the default) every window divides by its full size, padding included; otherwise by
 * the number of input positions it covers.
 *
 * @param kernel - window size, one number or [height, width].
 * @param stride - step between windows; defaults to the kernel.
 * @param padding - implicit zero padding on each side, at most half the kernel.
 */
export function avgPool2d(x: Tensor, kernel: Size2, stride: Size2 = kernel, padding: Size2 = 0, countIncludePad = true): Tensor {
  const geo = geometry('avgPool2d', x, kernel, stride, padding);
  const [n, c] = x.shape;
  const y = Tensor.empty([n, c, geo.ho, geo.wo]);
  record('avg_forward', geo, y, x, null, countIncludePad);
  return recordOp(y, 'avgPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    record('avg_backward', geo, dx, g, null, countIncludePad);
    return [dx];
  });
}

/** Mean over the spatial axes of x [N, C, H, W], giving [N, C] (the head of most CNNs). */
export function globalAvgPool2d(x: Tensor): Tensor {
  assertDType('globalAvgPool2d', x, ['f32']);
  if (x.rank !== 4) throw new Error(`globalAvgPool2d: expected input [N, C, H, W], got ${describe(x)}`);
  return mean(x, [2, 3]);
}
