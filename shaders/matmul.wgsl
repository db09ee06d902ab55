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
//   SwiftShader, where workgroup barriers are expensive and an invocation's private values stay in
//   registers): each thread owns an 8 x 8 block of C, held as 16 vec4 accumulators (rows r = 0..7,
//   columns 0-3 in c{r}l and 4-7 in c{r}h). Per k it loads 8 values of A's column k and 8 of B's row k
//   and does 64 fused multiply-adds. The block is written out row by row with plain names rather
//   than arrays: SwiftShader spills arrays indexed in loops to memory (measured 10x slower).
//   Workgroup WG_X x WG_Y threads covers (8 WG_Y) x (8 WG_X) of C.
//   Dispatch: (ceil(N / (8 WG_X)), ceil(M / (8 WG_Y)), batch). Rows and columns past the edge are
//   clamped when loading and skipped when storing, so the k loop has no branches and any M, N, K works.
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
    let bl = vec4<f32>(b[bc0 + bk], b[bc1 + bk], b[bc2 + bk], b[bc3 + bk]);
    let bh = vec4<f32>(b[bc4 + bk], b[bc5 + bk], b[bc6 + bk], b[bc7 + bk]);
    // C[row0 + r, :] += A[row0 + r, k] * B[k, :]
    let av0 = vec4<f32>(a[ar0 + ak]);
    c0l = fma(av0, bl, c0l);
    c0h = fma(av0, bh, c0h);
    let av1 = vec4<f32>(a[ar1 + ak]);
    c1l = fma(av1, bl, c1l);
    c1h = fma(av1, bh, c1h);
    let av2 = vec4<f32>(a[ar2 + ak]);
    c2l = fma(av2, bl, c2l);
    c2h = fma(av2, bh, c2h);
    let av3 = vec4<f32>(a[ar3 + ak]);
    c3l = fma(av3, bl, c3l);
    c3h = fma(av3, bh, c3h);
    let av4 = vec4<f32>(a[ar4 + ak]);
    c4l = fma(av4, bl, c4l);
    c4h = fma(av4, bh, c4h);
    let av5 = vec4<f32>(a[ar5 + ak]);
    c5l = fma(av5, bl, c5l);
    c5h = fma(av5, bh, c5h);
    let av6 = vec4<f32>(a[ar6 + ak]);
    c6l = fma(av6, bl, c6l);
    c6h = fma(av6, bh, c6h);
    let av7 = vec4<f32>(a[ar7 + ak]);
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
