// Matrix multiply (shaders/matmul.wgsl), batched, with transposed operands expressed as strides.
import { recordOp } from '../autograd.js';
import { engine, onInit, type Engine } from '../engine.js';
import { formatShape, Tensor } from '../tensor.js';
import { sumTo } from './reduce.js';
import { Uniforms } from './uniforms.js';
import { assertDType, describe } from './validate.js';

export interface MatmulOptions {
  /** Use A^T: `a` holds [..., K, M]. */
  transA?: boolean;
  /** Use B^T: `b` holds [..., N, K]. */
  transB?: boolean;
}

/** Threads per workgroup (wgX x wgY) and the block of C each thread keeps in registers (tm x tn). */
const REGISTER_TILE = { wgX: 8, wgY: 8, tm: 8, tn: 8 };
const SHARED_TILE = 64;

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

/** Records C = op(A) op(B) into `out`, choosing the tiling picked for this adapter. */
function dispatchMatmul(e: Engine, out: Tensor, a: Tensor, b: Tensor, g: Geometry, transA: boolean, transB: boolean, variant = e.matmulVariant): void {
  if (out.size === 0) return;
  // Element strides of A[m, k] and B[k, n] as stored.
  const [aRs, aCs] = transA ? [1, g.m] : [g.k, 1];
  const [bRs, bCs] = transB ? [1, g.k] : [g.n, 1];
  const aBs = a.rank > 2 ? g.m * g.k : 0;
  const bBs = b.rank > 2 ? g.k * g.n : 0;
  const params = new Uniforms(48).u32(g.m, g.n, g.k, g.batch, aRs, aCs, bRs, bCs, aBs, bBs, 0, 0).buffer;
  const buffers = [out.bufferFor('matmul'), a.bufferFor('matmul'), b.bufferFor('matmul')];
  if (variant === 'shared') {
    e.dispatch({
      family: 'matmul', entry: 'matmul_shared', params, buffers,
      groups: [Math.ceil(g.n / SHARED_TILE), Math.ceil(g.m / SHARED_TILE), g.batch],
    });
  } else {
    const t = REGISTER_TILE;
    e.dispatch({
      family: 'matmul', entry: 'matmul_register', constants: { WG_X: t.wgX, WG_Y: t.wgY }, params, buffers,
      groups: [Math.ceil(g.n / (t.wgX * t.tn)), Math.ceil(g.m / (t.wgY * t.tm)), g.batch],
    });
  }
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
 * Times both tilings on this adapter (a 256 x 256 x 256 product, after a warm-up that also compiles)
 * and returns the faster: workgroup memory pays on real GPUs and costs on CPU-backed adapters such as
 * SwiftShader. About a second on SwiftShader, milliseconds on a GPU.
 */
async function chooseMatmulVariant(e: Engine): Promise<'register' | 'shared'> {
  const size = 256;
  const a = Tensor.empty([size, size]).keep();
  const b = Tensor.empty([size, size]).keep();
  const c = Tensor.empty([size, size]).keep();
  const g = geometry(a, b, false, false);
  const times: Record<'register' | 'shared', number> = { register: Infinity, shared: Infinity };
  try {
    for (const variant of ['register', 'shared'] as const) {
      dispatchMatmul(e, c, a, b, g, false, false, variant);
      await e.sync();
      const t0 = performance.now();
      dispatchMatmul(e, c, a, b, g, false, false, variant);
      await e.sync();
      times[variant] = performance.now() - t0;
    }
  } finally {
    for (const t of [a, b, c]) t.dispose();
  }
  return times.shared < times.register ? 'shared' : 'register';
}

// Chosen once per adapter at init(), where nothing else is running; init({matmul}) names one instead.
onInit(async (e, opts) => {
  e.matmulVariant = opts.matmul && opts.matmul !== 'auto' ? opts.matmul : await chooseMatmulVariant(e);
});
