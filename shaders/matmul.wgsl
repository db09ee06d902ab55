// Matmul family: batched C[b] = A[b] · B[b] in two tilings of the same arithmetic.
//
// Math: C[b, m, n] = sum_k A[b, m, k] * B[b, k, n], for b < batch, m < M, n < N, k < K.
// Operands are addressed through strides (in elements), so transposed operands and broadcast batches
// cost nothing: A[b, m, k] = a[b * a_bs + m * a_rs + k * a_cs], B[b, k, n] = b[b * b_bs + k * b_rs + n * b_cs]
// (A^T is A with a_rs and a_cs swapped; a batch stride of 0 reuses one matrix for every b).
// C is contiguous: c[b * M * N + m * N + n].
//
// Bindings (group 0): 0 uniform Params; 1 c (read_write); 2 a; 3 b.
//
// matmul_register (register tiling, no workgroup memory; best on CPU-backed adapters such as
// SwiftShader, where workgroup barriers are expensive):
//   each thread owns a TM x TN = 4 x 8 block of C and keeps it in registers; per k it loads TM values of A
//   and TN values of B and does TM * TN fused multiply-adds. Workgroup WG_X x WG_Y threads covers
//   (WG_Y * TM) x (WG_X * TN) of C. Dispatch: (ceil(N / (WG_X * TN)), ceil(M / (WG_Y * TM)), batch).
//   Rows and columns past the edge are clamped when loading and skipped when storing, so the k loop
//   has no branches and any M, N, K works.
// matmul_shared (workgroup tiling; best on real GPUs): a 16 x 16 workgroup computes a 64 x 64 block
//   of C; per step it stages a 64 x 16 slab of A and a 16 x 64 slab of B in workgroup memory (zero
//   outside the matrix), then each thread accumulates its 4 x 4 block from them.
//   Dispatch: (ceil(N / 64), ceil(M / 64), batch).

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
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

const TM = 4u;
const TN = 8u;

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_register(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TM;
  let col0 = gid.x * TN;
  if (row0 >= p.m || col0 >= p.n) {
    return;
  }
  let batch = gid.z;
  var a_row: array<u32, TM>;
  for (var r = 0u; r < TM; r++) {
    a_row[r] = batch * p.a_bs + min(row0 + r, p.m - 1u) * p.a_rs;
  }
  var b_col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) {
    b_col[j] = batch * p.b_bs + min(col0 + j, p.n - 1u) * p.b_cs;
  }
  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < p.k; k++) {
    var av: array<f32, TM>;
    for (var r = 0u; r < TM; r++) {
      av[r] = a[a_row[r] + k * p.a_cs];
    }
    for (var j = 0u; j < TN; j++) {
      let bv = b[b_col[j] + k * p.b_rs];
      for (var r = 0u; r < TM; r++) {
        acc[r][j] = fma(av[r], bv, acc[r][j]);
      }
    }
  }
  let c_base = batch * p.m * p.n;
  for (var r = 0u; r < TM; r++) {
    if (row0 + r < p.m) {
      for (var j = 0u; j < TN; j++) {
        if (col0 + j < p.n) {
          c[c_base + (row0 + r) * p.n + col0 + j] = acc[r][j];
        }
      }
    }
  }
}

const BM = 64u;
const BN = 64u;
const BK = 16u;
const ST = 4u;  // each of the 16 x 16 threads owns ST x ST outputs

var<workgroup> tile_a: array<f32, 1024>;  // BK x BM, k-major so a thread's ST rows are adjacent
var<workgroup> tile_b: array<f32, 1024>;  // BK x BN

@compute @workgroup_size(16, 16)
fn matmul_shared(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let t = lid.y * 16u + lid.x;
  var acc: array<array<f32, ST>, ST>;
  for (var k0 = 0u; k0 < p.k; k0 += BK) {
    // 256 threads stage 1024 values of each slab, 4 apiece.
    for (var q = 0u; q < 4u; q++) {
      let e = t + q * 256u;
      let kk = e / BM;
      let mm = e % BM;
      let gr = row0 + mm;
      let gk = k0 + kk;
      var va = 0.0;
      if (gr < p.m && gk < p.k) {
        va = a[batch * p.a_bs + gr * p.a_rs + gk * p.a_cs];
      }
      tile_a[kk * BM + mm] = va;
      let gc = col0 + mm;
      var vb = 0.0;
      if (gc < p.n && gk < p.k) {
        vb = b[batch * p.b_bs + gk * p.b_rs + gc * p.b_cs];
      }
      tile_b[kk * BN + mm] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, ST>;
      var bv: array<f32, ST>;
      for (var r = 0u; r < ST; r++) {
        av[r] = tile_a[kk * BM + lid.y * ST + r];
        bv[r] = tile_b[kk * BN + lid.x * ST + r];
      }
      for (var r = 0u; r < ST; r++) {
        for (var j = 0u; j < ST; j++) {
          acc[r][j] = fma(av[r], bv[j], acc[r][j]);
        }
      }
    }
    workgroupBarrier();
  }
  let c_base = batch * p.m * p.n;
  for (var r = 0u; r < ST; r++) {
    let gr = row0 + lid.y * ST + r;
    for (var j = 0u; j < ST; j++) {
      let gc = col0 + lid.x * ST + j;
      if (gr < p.m && gc < p.n) {
        c[c_base + gr * p.n + gc] = acc[r][j];
      }
    }
  }
}
