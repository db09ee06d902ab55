// Matrix multiply (shaders/matmul.wgsl), batched, with transposed operands expressed as strides.
import { recordOp } from '../autograd.js';
import { engine, type Engine } from '../engine.js';
import type { ShaderFeature } from '../gpu/kernels.js';
import { formatShape, Tensor } from '../tensor.js';
import { halfCopy } from './half.js';
import { sumTo } from './reduce.js';
// For its side effect: registers the start-up step that picks this engine's kernels (any program that
// runs this op tunes its engine at init(), whatever else it imports).
import './tuning/table.js';
import {
  gemmClass, MATMUL_STYLE_DEFAULT, pick, picksOf, runsOn, styleOf, tuningOf, type MatmulVariant,
} from './tuning/variants.js';
import { Uniforms } from './uniforms.js';
import { assertDType, describe } from './validate.js';

export interface MatmulOptions {
  /** Use A^T: `a` holds [..., K, M]. */
  transA?: boolean;
  /** Use B^T: `b` holds [..., N, K]. */
  transB?: boolean;
}

/** Sizes of one product: op(A) [batch, m, k] times op(B) [batch, k, n]. */
interface Geometry {
  m: number;
  n: number;
  k: number;
  batchShape: number[];
  batch: number;
}

function geometry(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Geometry {
  const fail = (why: string) =>
    new Error(`matmul: cannot multiply ${describe(a)}${transA ? '^T' : ''} by ${describe(b)}${transB ? '^T' : ''}: ${why}`);
  if (a.rank < 2 || b.rank < 2) throw fail('both operands need at least 2 dimensions');
  const [am, ak] = transA ? [a.shape[a.rank - 1], a.shape[a.rank - 2]] : [a.shape[a.rank - 2], a.shape[a.rank - 1]];
  const [bk, bn] = transB ? [b.shape[b.rank - 1], b.shape[b.rank - 2]] : [b.shape[b.rank - 2], b.shape[b.rank - 1]];
  if (ak !== bk) throw fail(`inner dimensions differ (${ak} vs ${bk})`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  if (aBatch.length && bBatch.length && formatShape(aBatch) !== formatShape(bBatch)) {
    throw fail(`batch dimensions ${formatShape(aBatch)} and ${formatShape(bBatch)} differ (one side may have none)`);
  }
  const batchShape = aBatch.length ? aBatch : bBatch;
  return { m: am, n: bn, k: ak, batchShape, batch: batchShape.reduce((x, y) => x * y, 1) };
}

/** Whether `v` can run this product on `e` (its grid within the adapter's limits). */
function fits(e: Engine, v: MatmulVariant, g: Geometry): boolean {
  const [bm, bn] = v.kernel === 'register' ? [8 * v.wgY, 8 * v.wgX] : [v.bm, v.bn];
  return runsOn(e, v) && Math.max(Math.ceil(g.m / bm), Math.ceil(g.n / bn)) <= e.limits.maxComputeWorkgroupsPerDimension;
}

/**
 * The variant for this product: the engine's pick for its shape class. If `e.matmulVariant` was set to
 * the other style than start-up's (init({matmul}), tests, the kernel lab), a pick of that style or else
 * the style's default. The style's default too where the pick cannot run the product.
 */
function matmulVariantFor(e: Engine, g: Geometry): MatmulVariant {
  const style = e.matmulVariant;
  const v = pick(picksOf(e).matmul, gemmClass(g.batch * g.m, g.n, g.k));
  const allowed = style === tuningOf(e).style || styleOf(v) === style;
  return allowed && fits(e, v, g) ? v : MATMUL_STYLE_DEFAULT[style];
}

/** Records C = op(A) op(B) into `out` with variant `v` (f16 copies of the operands under f16 storage). */
function dispatchMatmul(e: Engine, out: Tensor, a: Tensor, b: Tensor, g: Geometry, transA: boolean, transB: boolean, v = matmulVariantFor(e, g)): void {
  if (out.size === 0) return;
  // Element strides of A[m, k] and B[k, n] as stored.
  const [aRs, aCs] = transA ? [1, g.m] : [g.k, 1];
  const [bRs, bCs] = transB ? [1, g.k] : [g.n, 1];
  const aBs = a.rank > 2 ? g.m * g.k : 0;
  const bBs = b.rank > 2 ? g.k * g.n : 0;
  const params = new Uniforms(48).u32(g.m, g.n, g.k, g.batch, aRs, aCs, bRs, bCs, aBs, bBs, 0, 0).buffer;
  const half = e.f16Storage;
  const [ab, bb] = half ? [halfCopy(e, a, 'matmul'), halfCopy(e, b, 'matmul')] : [a.bufferFor('matmul'), b.bufferFor('matmul')];
  // f32 operands compile the file as written; f16 ones rewrite the operand type `In`.
  const features: ShaderFeature[] = half ? ['shader-f16'] : [];
  const precision: Record<string, string> = half ? { In: 'f16' } : {};
  if (v.kernel === 'register') {
    e.dispatch({
      family: 'matmul', entry: 'matmul_register', constants: { WG_X: v.wgX, WG_Y: v.wgY },
      generated: half ? { consts: precision, features } : undefined,
      params, buffers: [out.bufferFor('matmul'), ab, bb],
      groups: [Math.ceil(g.n / (8 * v.wgX)), Math.ceil(g.m / (8 * v.wgY)), g.batch],
    });
  } else {
    // Quads along each operand's contiguous axis need that axis's length to be a multiple of 4.
    const aVec = v.vec4 && (transA ? g.m : g.k) % 4 === 0;
    const bVec = v.vec4 && (transB ? g.k : g.n) % 4 === 0;
    const tiled = v.kernel === 'tiled';
    e.dispatch({
      family: 'matmul', entry: tiled ? 'matmul_tiled' : 'matmul_subgroup',
      constants: { A_CONTIG_K: !transA, B_CONTIG_N: !transB, A_VEC: aVec, B_VEC: bVec },
      generated: {
        consts: { ...precision, BM: v.bm, BN: v.bn, TM: v.tm, TN: v.tn, ...(v.kernel === 'tiled' ? { BK: v.bk, NBUF: v.buffers } : {}) },
        features: tiled ? features : [...features, 'subgroups'],
      },
      // matmul_subgroup reads A one value at a time (binding 4 unused).
      params, buffers: [out.bufferFor('matmul'), ab, bb, tiled ? ab : null, bb],
      groups: [Math.ceil(g.n / v.bn), Math.ceil(g.m / v.bm), g.batch],
    });
  }
  if (half) for (const buf of [ab, bb]) e.freeBuffer(buf);
}

/**
 * C = op(A) · op(B) over the last two dimensions, batched over leading dimensions (which must match,
 * or be absent on one side: that matrix is shared by every batch).
 * Backward (C = A B): dA = dC B^T, dB = A^T dC, with the transposed cases spelled out below.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  assertDType('matmul', a, ['f32'], 'first input');
  assertDType('matmul', b, ['f32'], 'second input');
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const g = geometry(a, b, transA, transB);
  const e = engine();
  if (g.batch > e.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`matmul: batch ${g.batch} exceeds this adapter's ${e.limits.maxComputeWorkgroupsPerDimension} workgroups per dimension`);
  }
  const out = Tensor.empty([...g.batchShape, g.m, g.n]);
  dispatchMatmul(e, out, a, b, g, transA, transB);
  return recordOp(out, 'matmul', [a, b], (dc) => {
    let da: Tensor;
    let db: Tensor;
    if (!transA && !transB) {
      da = matmul(dc, b, { transB: true });
      db = matmul(a, dc, { transA: true });
    } else if (transA && !transB) {
      da = matmul(b, dc, { transB: true });
      db = matmul(a, dc);
    } else if (!transA && transB) {
      da = matmul(dc, b);
      db = matmul(dc, a, { transA: true });
    } else {
      da = matmul(b, dc, { transA: true, transB: true });
      db = matmul(dc, a, { transA: true, transB: true });
    }
    // A matrix shared across the batch receives the sum of its per-batch gradients.
    return [sumTo(da, a.shape), sumTo(db, b.shape)];
  });
}

/**
 * Times both styles' default variants on this adapter (a 256 x 256 x 256 product, after a warm-up that
 * also compiles) and returns the faster: workgroup memory pays on real GPUs and costs on CPU-backed
 * adapters such as SwiftShader. About a second on SwiftShader, milliseconds on a GPU. Start-up runs it
 * for adapters the winners table does not know (src/ops/tuning/table.ts).
 */
export async function autotuneMatmul(e: Engine): Promise<'register' | 'shared'> {
  const size = 256;
  const a = Tensor.empty([size, size]).keep();
  const b = Tensor.empty([size, size]).keep();
  const c = Tensor.empty([size, size]).keep();
  const g = geometry(a, b, false, false);
  const times: Record<'register' | 'shared', number> = { register: Infinity, shared: Infinity };
  try {
    for (const style of ['register', 'shared'] as const) {
      dispatchMatmul(e, c, a, b, g, false, false, MATMUL_STYLE_DEFAULT[style]);
      await e.sync();
      const t0 = performance.now();
      dispatchMatmul(e, c, a, b, g, false, false, MATMUL_STYLE_DEFAULT[style]);
      await e.sync();
      times[style] = performance.now() - t0;
    }
  } finally {
    for (const t of [a, b, c]) t.dispose();
  }
  return times.shared < times.register ? 'shared' : 'register';
}
