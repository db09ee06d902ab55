// Float64 CPU reference of conv2d: the forward as the textbook 7-deep loop, and the VJP as its exact
// adjoint (each multiply-add of the forward scatters g back to both of its factors). Written without
// the GEMM views, stride phases or tiling of the GPU kernels; checked by finite differences in check.ts.
import { arr, type RefOp } from './ops.js';

export interface ConvParams {
  stride: [number, number];
  padding: [number, number];
}

/** Output shape [N, K, P, Q]. */
function outShape(xShape: number[], wShape: number[], { stride: [sh, sw], padding: [ph, pw] }: ConvParams): number[] {
  const [n, , h, w] = xShape;
  const [k, , r, s] = wShape;
  return [n, k, Math.floor((h + 2 * ph - r) / sh) + 1, Math.floor((w + 2 * pw - s) / sw) + 1];
}

/** Calls `visit(yi, xi, wi)` for every multiply-add y[yi] += x[xi] * w[wi] of the convolution. */
function eachTerm(xShape: number[], wShape: number[], params: ConvParams, visit: (yi: number, xi: number, wi: number) => void): void {
  const [, c, h, w] = xShape;
  const [, , r, s] = wShape;
  const [n, k, p, q] = outShape(xShape, wShape, params);
  const [sh, sw] = params.stride;
  const [ph, pw] = params.padding;
  for (let ni = 0; ni < n; ni++) {
    for (let ki = 0; ki < k; ki++) {
      for (let pi = 0; pi < p; pi++) {
        for (let qi = 0; qi < q; qi++) {
          const yi = ((ni * k + ki) * p + pi) * q + qi;
          for (let ci = 0; ci < c; ci++) {
            for (let ri = 0; ri < r; ri++) {
              const hi = pi * sh - ph + ri;
              if (hi < 0 || hi >= h) continue;
              for (let si = 0; si < s; si++) {
                const vi = qi * sw - pw + si;
                if (vi < 0 || vi >= w) continue;
                visit(yi, ((ni * c + ci) * h + hi) * w + vi, ((ki * c + ci) * r + ri) * s + si);
              }
            }
          }
        }
      }
    }
  }
}

/** conv2d(x, w[, bias]) with the given stride and padding; inputs [x, w] or [x, w, bias]. */
export function conv2dRef(params: ConvParams): RefOp {
  return {
    forward: ([x, wt, bias]) => {
      const y = arr(outShape(x.shape, wt.shape, params));
      eachTerm(x.shape, wt.shape, params, (yi, xi, wi) => (y.data[yi] += x.data[xi] * wt.data[wi]));
      if (bias) {
        const [, k, p, q] = y.shape;
        for (let i = 0; i < y.data.length; i++) y.data[i] += bias.data[Math.floor(i / (p * q)) % k];
      }
      return y;
    },
    vjp: ([x, wt, bias], g) => {
      const gx = arr(x.shape);
      const gw = arr(wt.shape);
      eachTerm(x.shape, wt.shape, params, (yi, xi, wi) => {
        gx.data[xi] += g.data[yi] * wt.data[wi];
        gw.data[wi] += g.data[yi] * x.data[xi];
      });
      if (!bias) return [gx, gw];
      const gb = arr(bias.shape);
      const [, k, p, q] = g.shape;
      for (let i = 0; i < g.data.length; i++) gb.data[Math.floor(i / (p * q)) % k] += g.data[i];
      return [gx, gw, gb];
    },
  };
}
