// Matmul family: batched C[b] = A[b] · B[b] in three tilings of the same arithmetic.
//
// Math: C[b, m, n] = sum_k A[b, m, k] * B[b, k, n], for b < batch, m < M, n < N, k < K, accumulated in f32.
// Operands are addressed through strides (in elements), so transposed operands and broadcast batches
// cost nothing: A[b, m, k] = a[b * a_bs + m * a_rs + k * a_cs], B[b, k, n] = b[b * b_bs + k * b_rs + n * b_cs]
// (A^T is A with a_rs and a_cs swapped; a batch stride of 0 reuses one matrix for every b).
// C is contiguous: c[b * M * N + m * N + n].
//
// Bindings (group 0): 0 uniform Params; 1 c (read_write, f32); 2 a; 3 b; 4 a4 and 5 b4, the buffers of a
// and b read four elements at a time (matmul_tiled and matmul_subgroup with vec4 loads). a and b hold
// `In` values: f32, or f16 where mixed precision stores the operands in half precision.
//
// Generated constants (src/gpu/kernels.ts rewrites them per variant, src/ops/matmul.ts chooses them;
// the values below are the 'shared' tiling): In, and for matmul_tiled and matmul_subgroup the block
// BM x BN of C a workgroup computes, the reduction step BK, the TM x TN outputs of each thread and the
// NBUF workgroup buffers per operand. Pipeline constants, per dispatch: WG_X, WG_Y (matmul_register);
// A_CONTIG_K (A stored [M, K], else [K, M]), B_CONTIG_N (B stored [K, N], else [N, K]), and A_VEC,
// B_VEC: load four consecutive elements along the operand's contiguous axis at once, which the host
// sets only when that axis's length is a multiple of 4 (every such group is then wholly inside or
// wholly outside the matrix, and aligned).
//
// matmul_register (register tiling, no workgroup memory; best on CPU-backed adapters such as
//   SwiftShader, where workgroup barriers are expensive and an invocation's private values stay in
//   registers): each thread owns an 8 x 8 block of C, held as 16 vec4 accumulators (rows r = 0..7,
//   columns 0-3 in c{r}l and 4-7 in c{r}h). Per k it loads 8 values of A's column k and 8 of B's row k
//   and does 64 fused multiply-adds. The block is written out row by row with plain names rather
//   than arrays: SwiftShader spills arrays indexed in loops to memory (measured 10x slower).
//   Workgroup WG_X x WG_Y threads covers (8 WG_Y) x (8 WG_X) of C.
//   Dispatch: (ceil(N / (8 WG_X)), ceil(M / (8 WG_Y)), batch). Rows and columns past the edge are
//   clamped when loading and skipped when storing, so the k loop has no branches and any M, N, K works.
// matmul_tiled (workgroup tiling; best on real GPUs): a workgroup of WX x WY = (BN / TN) x (BM / TM)
//   threads computes a BM x BN block of C. Per step it stages a BM x BK slab of A and a BK x BN slab of
//   B in workgroup memory (zero outside the matrix, read in the operand's contiguous order so that
//   neighbouring threads load neighbouring addresses), then each thread accumulates its TM x TN outputs
//   from them: rows 4 (h WY + ty) + 0..3 for h < TM / 4 and columns 4 (g WX + tx) + 0..3 for g < TN / 4,
//   so the threads of a row read neighbouring quads of the B slab. With NBUF = 2 the next slab is
//   staged into the other buffer while this one is multiplied: one barrier per step instead of two.
//   Each of staging and multiplying has one call site (the code stays small for the shader compiler).
//   Dispatch: (ceil(N / BN), ceil(M / BM), batch).
// matmul_subgroup (adapters with the `subgroups` feature): the threads and outputs of matmul_tiled,
//   without workgroup memory. The lanes of a subgroup lie in one row of threads, so they share their
//   TM rows of A: for each run of `subgroup_size` values of k, lane j loads A[rows, k0 + j] and the
//   others get them by subgroupShuffle; each thread reads its own TN values of B's row k (a quad at
//   once with B_VEC where B is stored [K, N]). That needs WX to be a multiple of the adapter's largest
//   subgroup and subgroups made of consecutive invocations, which WebGPU does not promise:
//   src/ops/tuning/variants.ts checks the first, the sweep's float64 check each adapter's behaviour.
//   Dispatch as matmul_tiled.

// Generated constants (see the header).
alias In = f32;
const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
const NBUF: u32 = 1u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  batch: u32,
  a_rs: u32,
  a_cs: u32,
  b_rs: u32,
  b_cs: u32,
  a_bs: u32,
  b_bs: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<In>;
@group(0) @binding(3) var<storage, read> b: array<In>;

@group(0) @binding(4) var<storage, read> a4: array<vec4<In>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<In>>;

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_register(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 8u;
  let col0 = gid.x * 8u;
  if (row0 >= p.m || col0 >= p.n) {
    return;
  }
  let batch = gid.z;
  // Start of each of the 8 rows of A and 8 columns of B this thread reads (clamped to the matrix).
  let a0 = batch * p.a_bs;
  let last_m = p.m - 1u;
  let ar0 = a0 + min(row0 + 0u, last_m) * p.a_rs;
  let ar1 = a0 + min(row0 + 1u, last_m) * p.a_rs;
  let ar2 = a0 + min(row0 + 2u, last_m) * p.a_rs;
  let ar3 = a0 + min(row0 + 3u, last_m) * p.a_rs;
  let ar4 = a0 + min(row0 + 4u, last_m) * p.a_rs;
  let ar5 = a0 + min(row0 + 5u, last_m) * p.a_rs;
  let ar6 = a0 + min(row0 + 6u, last_m) * p.a_rs;
  let ar7 = a0 + min(row0 + 7u, last_m) * p.a_rs;
  let b0 = batch * p.b_bs;
  let last_n = p.n - 1u;
  let bc0 = b0 + min(col0 + 0u, last_n) * p.b_cs;
  let bc1 = b0 + min(col0 + 1u, last_n) * p.b_cs;
  let bc2 = b0 + min(col0 + 2u, last_n) * p.b_cs;
  let bc3 = b0 + min(col0 + 3u, last_n) * p.b_cs;
  let bc4 = b0 + min(col0 + 4u, last_n) * p.b_cs;
  let bc5 = b0 + min(col0 + 5u, last_n) * p.b_cs;
  let bc6 = b0 + min(col0 + 6u, last_n) * p.b_cs;
  let bc7 = b0 + min(col0 + 7u, last_n) * p.b_cs;
  var c0l = vec4<f32>();
  var c0h = vec4<f32>();
  var c1l = vec4<f32>();
  var c1h = vec4<f32>();
  var c2l = vec4<f32>();
  var c2h = vec4<f32>();
  var c3l = vec4<f32>();
  var c3h = vec4<f32>();
  var c4l = vec4<f32>();
  var c4h = vec4<f32>();
  var c5l = vec4<f32>();
  var c5h = vec4<f32>();
  var c6l = vec4<f32>();
  var c6h = vec4<f32>();
  var c7l = vec4<f32>();
  var c7h = vec4<f32>();
  for (var k = 0u; k < p.k; k++) {
    let ak = k * p.a_cs;
    let bk = k * p.b_rs;
    // B[k, col0 .. col0 + 7]
    let bl = vec4<f32>(f32(b[bc0 + bk]), f32(b[bc1 + bk]), f32(b[bc2 + bk]), f32(b[bc3 + bk]));
    let bh = vec4<f32>(f32(b[bc4 + bk]), f32(b[bc5 + bk]), f32(b[bc6 + bk]), f32(b[bc7 + bk]));
    // C[row0 + r, :] += A[row0 + r, k] * B[k, :]
    let av0 = vec4<f32>(f32(a[ar0 + ak]));
    c0l = fma(av0, bl, c0l);
    c0h = fma(av0, bh, c0h);
    let av1 = vec4<f32>(f32(a[ar1 + ak]));
    c1l = fma(av1, bl, c1l);
    c1h = fma(av1, bh, c1h);
    let av2 = vec4<f32>(f32(a[ar2 + ak]));
    c2l = fma(av2, bl, c2l);
    c2h = fma(av2, bh, c2h);
    let av3 = vec4<f32>(f32(a[ar3 + ak]));
    c3l = fma(av3, bl, c3l);
    c3h = fma(av3, bh, c3h);
    let av4 = vec4<f32>(f32(a[ar4 + ak]));
    c4l = fma(av4, bl, c4l);
    c4h = fma(av4, bh, c4h);
    let av5 = vec4<f32>(f32(a[ar5 + ak]));
    c5l = fma(av5, bl, c5l);
    c5h = fma(av5, bh, c5h);
    let av6 = vec4<f32>(f32(a[ar6 + ak]));
    c6l = fma(av6, bl, c6l);
    c6h = fma(av6, bh, c6h);
    let av7 = vec4<f32>(f32(a[ar7 + ak]));
    c7l = fma(av7, bl, c7l);
    c7h = fma(av7, bh, c7h);
  }
  store_row(batch, row0 + 0u, col0, c0l, c0h);
  store_row(batch, row0 + 1u, col0, c1l, c1h);
  store_row(batch, row0 + 2u, col0, c2l, c2h);
  store_row(batch, row0 + 3u, col0, c3l, c3h);
  store_row(batch, row0 + 4u, col0, c4l, c4h);
  store_row(batch, row0 + 5u, col0, c5l, c5h);
  store_row(batch, row0 + 6u, col0, c6l, c6h);
  store_row(batch, row0 + 7u, col0, c7l, c7h);
}

// Writes the 8 values of one register row of C, skipping those past the edge.
fn store_row(batch: u32, row: u32, col0: u32, lo: vec4<f32>, hi: vec4<f32>) {
  if (row >= p.m) {
    return;
  }
  let base = batch * p.m * p.n + row * p.n + col0;
  for (var j = 0u; j < 4u; j++) {
    if (col0 + j < p.n) {
      c[base + j] = lo[j];
    }
    if (col0 + 4u + j < p.n) {
      c[base + 4u + j] = hi[j];
    }
  }
}

const WX: u32 = BN / TN;
const WY: u32 = BM / TM;
const THREADS: u32 = WX * WY;

override A_CONTIG_K: bool = true;
override B_CONTIG_N: bool = true;
override A_VEC: bool = false;
override B_VEC: bool = false;

// Slabs k-major (slab k, then row or column), NBUF of them per operand.
var<workgroup> tile_a: array<f32, NBUF * BK * BM>;
var<workgroup> tile_b: array<f32, NBUF * BK * BN>;

// A thread's TM x TN outputs: row r = h * 4 + l, column quad g at acc[r * (TN / 4) + g].
alias Acc = array<vec4<f32>, TM * TN / 4u>;

// Stages A[rows row0.., k from k0..] into slab buffer `buf`.
fn stage_a(buf: u32, batch: u32, row0: u32, k0: u32, t: u32) {
  let base = batch * p.a_bs;
  let o = buf * BK * BM;
  if (A_VEC) {
    for (var e = t; e < BM * BK / 4u; e += THREADS) {
      // The quad runs along k (A [M, K]) or along m (A [K, M]).
      let mm = select(e % (BM / 4u) * 4u, e / (BK / 4u), A_CONTIG_K);
      let kk = select(e / (BM / 4u), e % (BK / 4u) * 4u, A_CONTIG_K);
      let gr = row0 + mm;
      let gk = k0 + kk;
      var v = vec4<f32>();
      if (gr < p.m && gk < p.k) {
        v = vec4<f32>(a4[(base + gr * p.a_rs + gk * p.a_cs) / 4u]);
      }
      for (var i = 0u; i < 4u; i++) {
        tile_a[o + select(kk * BM + mm + i, (kk + i) * BM + mm, A_CONTIG_K)] = v[i];
      }
    }
  } else {
    for (var e = t; e < BM * BK; e += THREADS) {
      let mm = select(e % BM, e / BK, A_CONTIG_K);
      let kk = select(e / BM, e % BK, A_CONTIG_K);
      let gr = row0 + mm;
      let gk = k0 + kk;
      var v = 0.0;
      if (gr < p.m && gk < p.k) {
        v = f32(a[base + gr * p.a_rs + gk * p.a_cs]);
      }
      tile_a[o + kk * BM + mm] = v;
    }
  }
}

// Stages B[k from k0.., columns col0..] into slab buffer `buf`.
fn stage_b(buf: u32, batch: u32, col0: u32, k0: u32, t: u32) {
  let base = batch * p.b_bs;
  let o = buf * BK * BN;
  if (B_VEC) {
    for (var e = t; e < BN * BK / 4u; e += THREADS) {
      // The quad runs along n (B [K, N]) or along k (B [N, K]).
      let nn = select(e / (BK / 4u), e % (BN / 4u) * 4u, B_CONTIG_N);
      let kk = select(e % (BK / 4u) * 4u, e / (BN / 4u), B_CONTIG_N);
      let gc = col0 + nn;
      let gk = k0 + kk;
      var v = vec4<f32>();
      if (gc < p.n && gk < p.k) {
        v = vec4<f32>(b4[(base + gk * p.b_rs + gc * p.b_cs) / 4u]);
      }
      for (var i = 0u; i < 4u; i++) {
        tile_b[o + select((kk + i) * BN + nn, kk * BN + nn + i, B_CONTIG_N)] = v[i];
      }
    }
  } else {
    for (var e = t; e < BN * BK; e += THREADS) {
      let nn = select(e / BK, e % BN, B_CONTIG_N);
      let kk = select(e % BK, e / BN, B_CONTIG_N);
      let gc = col0 + nn;
      let gk = k0 + kk;
      var v = 0.0;
      if (gc < p.n && gk < p.k) {
        v = f32(b[base + gk * p.b_rs + gc * p.b_cs]);
      }
      tile_b[o + kk * BN + nn] = v;
    }
  }
}

// acc += the products of slab buffer `buf` for thread (tx, ty).
fn multiply(buf: u32, tx: u32, ty: u32, acc: ptr<function, Acc>) {
  for (var kk = 0u; kk < BK; kk++) {
    let oa = buf * BK * BM + kk * BM;
    let ob = buf * BK * BN + kk * BN;
    var bv: array<vec4<f32>, TN / 4u>;
    for (var g = 0u; g < TN / 4u; g++) {
      let j = ob + (g * WX + tx) * 4u;
      bv[g] = vec4<f32>(tile_b[j], tile_b[j + 1u], tile_b[j + 2u], tile_b[j + 3u]);
    }
    for (var h = 0u; h < TM / 4u; h++) {
      let i = oa + (h * WY + ty) * 4u;
      let av = vec4<f32>(tile_a[i], tile_a[i + 1u], tile_a[i + 2u], tile_a[i + 3u]);
      for (var l = 0u; l < 4u; l++) {
        for (var g = 0u; g < TN / 4u; g++) {
          let r = (h * 4u + l) * (TN / 4u) + g;
          (*acc)[r] = fma(vec4<f32>(av[l]), bv[g], (*acc)[r]);
        }
      }
    }
  }
}

// Writes thread (tx, ty)'s outputs of the block at (row0, col0), skipping those past the edge.
fn store_block(acc: Acc, batch: u32, row0: u32, col0: u32, tx: u32, ty: u32) {
  let base = batch * p.m * p.n;
  for (var h = 0u; h < TM / 4u; h++) {
    for (var l = 0u; l < 4u; l++) {
      let row = row0 + (h * WY + ty) * 4u + l;
      if (row >= p.m) {
        continue;
      }
      for (var g = 0u; g < TN / 4u; g++) {
        let col = col0 + (g * WX + tx) * 4u;
        let v = acc[(h * 4u + l) * (TN / 4u) + g];
        for (var i = 0u; i < 4u; i++) {
          if (col + i < p.n) {
            c[base + row * p.n + col + i] = v[i];
          }
        }
      }
    }
  }
}

@compute @workgroup_size(WX, WY)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let t = lid.y * WX + lid.x;
  var acc: Acc;
  let steps = (p.k + BK - 1u) / BK;
  // Pass i stages slab i and multiplies slab i + 1 - NBUF: with one buffer, after a barrier; with two,
  // the previous slab, staged one pass earlier, while slab i goes into the other buffer.
  for (var i = 0u; i < steps + NBUF - 1u; i++) {
    if (i < steps) {
      stage_a(i % NBUF, batch, row0, i * BK, t);
      stage_b(i % NBUF, batch, col0, i * BK, t);
    }
    if (NBUF == 1u) {
      workgroupBarrier();
    }
    if (i + 1u >= NBUF) {
      multiply((i + 1u - NBUF) % NBUF, lid.x, lid.y, &acc);
    }
    workgroupBarrier();
  }
  store_block(acc, batch, row0, col0, lid.x, lid.y);
}

// #if subgroups
@compute @workgroup_size(WX, WY)
fn matmul_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                   @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) width: u32) {
  let batch = wid.z;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let a0 = batch * p.a_bs;
  let b0 = batch * p.b_bs;
  // Rows past the edge are clamped when loading (their outputs are never stored); so are columns.
  var rows: array<u32, TM>;
  for (var r = 0u; r < TM; r++) {
    rows[r] = a0 + min(row0 + (r / 4u * WY + lid.y) * 4u + r % 4u, p.m - 1u) * p.a_rs;
  }
  var acc: Acc;
  var mine: array<f32, TM>;
  for (var k0 = 0u; k0 < p.k; k0 += width) {
    // Lane j holds A[rows, k0 + j]; lanes past K are never read.
    let kl = min(k0 + lane, p.k - 1u) * p.a_cs;
    for (var r = 0u; r < TM; r++) {
      mine[r] = f32(a[rows[r] + kl]);
    }
    let run = min(width, p.k - k0);
    for (var j = 0u; j < run; j++) {
      let bk = b0 + (k0 + j) * p.b_rs;
      var bv: array<vec4<f32>, TN / 4u>;
      for (var g = 0u; g < TN / 4u; g++) {
        let col = col0 + (g * WX + lid.x) * 4u;
        if (B_VEC && B_CONTIG_N) {
          bv[g] = vec4<f32>(b4[(bk + min(col, p.n - 4u)) / 4u]);
        } else {
          let last = p.n - 1u;
          bv[g] = vec4<f32>(f32(b[bk + min(col, last) * p.b_cs]), f32(b[bk + min(col + 1u, last) * p.b_cs]),
                            f32(b[bk + min(col + 2u, last) * p.b_cs]), f32(b[bk + min(col + 3u, last) * p.b_cs]));
        }
      }
      for (var r = 0u; r < TM; r++) {
        let av = vec4<f32>(subgroupShuffle(mine[r], j));
        for (var g = 0u; g < TN / 4u; g++) {
          acc[r * (TN / 4u) + g] = fma(av, bv[g], acc[r * (TN / 4u) + g]);
        }
      }
    }
  }
  store_block(acc, batch, row0, col0, lid.x, lid.y);
}
// #endif
