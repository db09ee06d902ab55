// The Reb-SupCon components (SPEC 4.1, 5, 6): Sinkhorn kernel, prototype losses, rebalancing factor,
// rebalanced loss on the MoCo queue, key-encoder EMA and the key queue, against float64 references
// written from SPEC.md (test/reference/rebsupcon.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { expectClose, rng } from './reference/check.js';
import { sinkhornRef } from './reference/rebsupcon.js';
import { expectRejectedBeforeGpu, normalArr, useCooperativeThreads } from './helpers.js';
import type { Arr } from './reference/ops.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const next = rng(6006);

/** Unit rows [n, d] (float32-rounded). */
function unitRows(n: number, d: number): Arr {
  const p = normalArr([n, d], next);
  for (let c = 0; c < n; c++) {
    const row = p.data.subarray(c * d, (c + 1) * d);
    const s = Math.hypot(...row);
    row.set(Float32Array.from(row, (x) => x / s));
  }
  return p;
}

function matmulT(a: Arr, b: Arr): Arr {
  const [n, d] = a.shape;
  const m = b.shape[0];
  const out = { shape: [n, m], data: new Float64Array(n * m) };
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let q = 0; q < d; q++) s += a.data[i * d + q] * b.data[j * d + q];
    out.data[i * m + j] = Math.fround(s);
  }
  return out;
}

const up = (a: Arr) => T.tensor(Float32Array.from(a.data), a.shape);

for (const width of [4, 256]) describe(`sinkhorn (SPEC 4.1), ${width} cooperative threads`, () => {
  useCooperativeThreads(width);
  const cases: [number, number, number, number][] = [
    [24, 5, 3, 0.05], [6, 17, 3, 0.05], [24, 5, 1, 0.05], [6, 17, 10, 0.05], [40, 40, 3, 0.1], [130, 300, 3, 0.05],
  ];
  for (const [b, k, n, eps] of cases) {
    it(`B=${b} K=${k} iterations=${n} ε=${eps}: values, rows sum to 1, prototype mass ≈ B/K`, async () => {
      const s = matmulT(unitRows(b, 16), unitRows(k, 16));
      const want = sinkhornRef(s, eps, n);
      const got = await T.scope(() => T.sinkhorn(up(s), { epsilon: eps, iterations: n })).read();
      expectClose(got, want.data, 1e-4, 'Q');
      for (let i = 0; i < b; i++) {
        let r = 0;
        for (let c = 0; c < k; c++) r += got[i * k + c];
        expect(Math.abs(r - 1)).toBeLessThan(1e-5);
      }
      if (n >= 10) {
        for (let c = 0; c < k; c++) {
          let m = 0;
          for (let i = 0; i < b; i++) m += got[i * k + c];
          expect(Math.abs(m - b / k) / (b / k)).toBeLessThan(0.2);
        }
      }
    });
  }
  it('scores far from 0 (|S|/ε up to 400) stay finite and exact (log domain)', async () => {
    const s = matmulT(unitRows(12, 8), unitRows(7, 8));
    const big = { shape: s.shape, data: s.data.map((v) => Math.fround(20 * v)) };
    const got = await T.scope(() => T.sinkhorn(up(big))).read();
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose(got, sinkhornRef({ shape: s.shape, data: big.data.map((v) => v / 20) }, 0.05 / 20, 3).data, 1e-3, 'Q');
  });
  it('rejects bad input before GPU work', () => {
    const s = T.zeros([4, 3]);
    const flat = T.zeros([4]);
    const ints = T.zeros([4, 3], 'i32');
    expectRejectedBeforeGpu(() => T.sinkhorn(flat), /expected scores \[B, K\]/);
    expectRejectedBeforeGpu(() => T.sinkhorn(s, { iterations: 0 }), /iterations must be an integer ≥ 1/);
    expectRejectedBeforeGpu(() => T.sinkhorn(s, { epsilon: 0 }), /epsilon must be a positive/);
    expectRejectedBeforeGpu(() => T.sinkhorn(ints), /f32/);
  });
});
