// Float64 references of 2-d max and average pooling on NCHW arrays (PyTorch semantics, floor mode),
// written as direct loops over windows; check.ts verifies their VJPs by finite differences.
import { arr, type Arr, type RefOp } from './ops.js';

export interface PoolRefOptions {
  kind: 'max' | 'avg';
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  /** avg only: divide by the whole window (true) or by the input positions in it. */
  countIncludePad?: boolean;
}

/** Visits every output (plane, oy, ox) with its flat index and the input positions of its window. */
function forEachWindow(x: Arr, o: PoolRefOptions, visit: (out: number, positions: number[], windowSize: number) => void): number[] {
  const [n, c, h, w] = x.shape;
  const [ky, kx] = o.kernel;
  const [sy, sx] = o.stride;
  const [py, px] = o.padding;
  const ho = Math.floor((h + 2 * py - ky) / sy) + 1;
  const wo = Math.floor((w + 2 * px - kx) / sx) + 1;
  for (let plane = 0; plane < n * c; plane++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const positions: number[] = [];
        for (let dy = 0; dy < ky; dy++) {
          for (let dx = 0; dx < kx; dx++) {
            const yy = oy * sy - py + dy;
            const xx = ox * sx - px + dx;
            if (yy >= 0 && yy < h && xx >= 0 && xx < w) positions.push((plane * h + yy) * w + xx);
          }
        }
        visit((plane * ho + oy) * wo + ox, positions, ky * kx);
      }
    }
  }
  return [n, c, ho, wo];
}

/** The first position holding the window's maximum, in row-major window order. */
function firstMax(x: Arr, positions: number[]): number {
  let best = positions[0];
  for (const i of positions) if (x.data[i] > x.data[best]) best = i;
  return best;
}

export function poolRef(o: PoolRefOptions): RefOp {
  const divisor = (positions: number[], windowSize: number) => (o.countIncludePad ?? true ? windowSize : positions.length);
  return {
    forward: ([x]) => {
      const values: [number, number][] = [];
      const shape = forEachWindow(x, o, (out, positions, windowSize) => {
        const v =
          o.kind === 'max' ? x.data[firstMax(x, positions)] : positions.reduce((s, i) => s + x.data[i], 0) / divisor(positions, windowSize);
        values.push([out, v]);
      });
      const y = arr(shape);
      for (const [out, v] of values) y.data[out] = v;
      return y;
    },
    vjp: ([x], g) => {
      const dx = arr(x.shape);
      forEachWindow(x, o, (out, positions, windowSize) => {
        if (o.kind === 'max') dx.data[firstMax(x, positions)] += g.data[out];
        else for (const i of positions) dx.data[i] += g.data[out] / divisor(positions, windowSize);
      });
      return [dx];
    },
  };
}
