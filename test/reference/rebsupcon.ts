// Float64 references of the Reb-SupCon components, written from the formulas of docs/paper-vs-code.md
// (SwAV's Sinkhorn, SW-1; the rebalanced loss, REB-1; the prototype losses, REB-10): loops, no shifts.
import { arr, type Arr, type RefOp } from './ops.js';

/**
 * SwAV's `distributed_sinkhorn` literally: Q = exp(S/ε)ᵀ [K, B], Q /= ΣQ, n × {rows /K, columns /B}, Q·B,
 * transposed.
 */
export function sinkhornRef(scores: Arr, eps: number, iterations: number): Arr {
  const [b, k] = scores.shape;
  const q = Array.from({ length: k }, (_, r) => Array.from({ length: b }, (_, c) => Math.exp(scores.data[c * k + r] / eps)));
  const total = q.flat().reduce((s, v) => s + v, 0);
  for (const row of q) row.forEach((v, c) => (row[c] = v / total));
  for (let it = 0; it < iterations; it++) {
    for (const row of q) {
      const s = row.reduce((a, v) => a + v, 0);
      row.forEach((v, c) => (row[c] = v / s / k));
    }
    for (let c = 0; c < b; c++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += q[r][c];
      for (let r = 0; r < k; r++) q[r][c] = q[r][c] / s / b;
    }
  }
  const out = arr([b, k]);
  for (let c = 0; c < b; c++) for (let r = 0; r < k; r++) out.data[c * k + r] = q[r][c] * b;
  return out;
}

const rows = (a: Arr) => Array.from({ length: a.shape[0] }, (_, i) => a.data.subarray(i * a.shape[1], (i + 1) * a.shape[1]));
const dotv = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const dist2 = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0);
const scalar = (v: number) => arr([], [v]);

/**
 * Reb-SupCon's L1 (swapped prediction), inputs [za, zb, C, Qa, Qb]:
 *   −(1/2B) Σ_i [Σ_k Qb log softmax(za·C/τ) + Σ_k Qa log softmax(zb·C/τ)].
 * VJP: for one CE term with logits x = z·cᵀ/τ, d/dx_k = (Σ_k' Q_k') p_k − Q_k.
 */
export function swapRef(t: number): RefOp {
  const term = (z: Arr, c: Arr, q: Arr, coef: number, dz?: Arr, dc?: Arr) => {
    const [b, k] = q.shape;
    const cs = rows(c);
    let loss = 0;
    rows(z).forEach((zi, i) => {
      const x = cs.map((ck) => dotv(zi, ck) / t);
      const m = Math.max(...x);
      const lse = m + Math.log(x.reduce((s, v) => s + Math.exp(v - m), 0));
      const qi = q.data.subarray(i * k, (i + 1) * k);
      const qs = qi.reduce((s, v) => s + v, 0);
      x.forEach((v, kk) => {
        loss += qi[kk] * (v - lse);
        if (!dz || !dc) return;
        const dx = coef * (qs * Math.exp(v - lse) - qi[kk]) / t;
        for (let j = 0; j < zi.length; j++) {
          dz.data[i * zi.length + j] += dx * cs[kk][j];
          dc.data[kk * zi.length + j] += dx * zi[j];
        }
      });
    });
    void b;
    return loss;
  };
  return {
    forward: ([za, zb, c, qa, qb]) => scalar(-(term(za, c, qb, 0) + term(zb, c, qa, 0)) / (2 * za.shape[0])),
    vjp: ([za, zb, c, qa, qb], g) => {
      const coef = g.data[0] / (2 * za.shape[0]);
      const dza = arr(za.shape), dzb = arr(zb.shape), dc = arr(c.shape);
      term(za, c, qb, coef, dza, dc);
      term(zb, c, qa, coef, dzb, dc);
      return [dza, dzb, dc, null, null];
    },
  };
}

/** Reb-SupCon's L2 (aggregation), inputs [z, C, Q]: (1/B) Σ_i Σ_k Q[i,k] ‖z_i − c_k‖². */
export const aggregationRef: RefOp = {
  forward: ([z, c, q]) => {
    const k = c.shape[0];
    let s = 0;
    rows(z).forEach((zi, i) => rows(c).forEach((ck, kk) => (s += q.data[i * k + kk] * dist2(zi, ck))));
    return scalar(s / z.shape[0]);
  },
  vjp: ([z, c, q], g) => {
    const [k, d] = c.shape;
    const dz = arr(z.shape), dc = arr(c.shape);
    const w = (2 * g.data[0]) / z.shape[0];
    rows(z).forEach((zi, i) => rows(c).forEach((ck, kk) => {
      for (let j = 0; j < d; j++) {
        const v = w * q.data[i * k + kk] * (zi[j] - ck[j]);
        dz.data[i * d + j] += v;
        dc.data[kk * d + j] -= v;
      }
    }));
    return [dz, dc, null];
  },
};

/** Reb-SupCon's L3 (separation), input [C]: Σ_k Σ_{k'≠k} max(0, δ − ‖c_k − c_k'‖²) over ordered pairs. */
export function separationRef(delta: number): RefOp {
  return {
    forward: ([c]) => {
      const cs = rows(c);
      let s = 0;
      cs.forEach((a, i) => cs.forEach((b, j) => { if (i !== j) s += Math.max(0, delta - dist2(a, b)); }));
      return scalar(s);
    },
    vjp: ([c], g) => {
      const cs = rows(c);
      const d = c.shape[1];
      const dc = arr(c.shape);
      cs.forEach((a, i) => cs.forEach((b, j) => {
        if (i === j || delta - dist2(a, b) <= 0) return;
        for (let q = 0; q < d; q++) {
          dc.data[i * d + q] -= 2 * g.data[0] * (a[q] - b[q]);
          dc.data[j * d + q] += 2 * g.data[0] * (a[q] - b[q]);
        }
      }));
      return [dc];
    },
  };
}
