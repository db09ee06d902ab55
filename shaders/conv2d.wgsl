// Conv2d family: 2-D convolution of NCHW images with OIHW weights (stride, zero padding; dilation 1,
// groups 1) as implicit GEMM, three of them: forward, gradient w.r.t. the input (dgrad) and gradient
// w.r.t. the weights (wgrad), each a register-tiled entry point, and all three in one workgroup-tiled
// entry point. No im2col matrix is materialised: each kernel computes the addresses of the GEMM
// operands on the fly.
//
// Math (x [N, C, H, W], w [K, C, R, S], y [N, K, P, Q], P = (H + 2 PH - R) / SH + 1, Q = (W + 2 PW - S) / SW + 1,
// x read as 0 outside the image):
//   forward: y[n, k, p, q] = bias[k] + sum_{c, r, s} w[k, c, r, s] * x[n, c, p SH - PH + r, q SW - PW + s]
//            GEMM rows k (K), columns output pixels (n, p, q) (N P Q), reduction (c, r, s) (C R S).
//   dgrad:   dx[n, c, h, v] = sum_{k, r, s} w[k, c, r, s] * dy[n, k, (h + PH - r) / SH, (v + PW - s) / SW]
//            over the taps where both divisions are exact and land inside dy.
//            GEMM rows c (C), columns input pixels (n, h, v) (N H W), reduction (k, r, s) (K R S).
//   wgrad:   dw[k, c, r, s] = sum_{n, p, q} dy[n, k, p, q] * x[n, c, p SH - PH + r, q SW - PW + s]
//            GEMM rows k (K), columns c (C) at one tap (r, s) per thread, reduction (n, p, q) (N P Q),
//            split into `parts` ranges of rows (n, p) whose partial sums the host adds up afterwards.
// Kernel size (R, S), stride (SH, SW) and padding (PH, PW) are pipeline constants (`override`), so tap
// loops have constant bounds and the index arithmetic folds; the sizes N, C, H, W, K, P, Q are uniforms.
//
// Bindings (group 0): 0 uniform Params; 1 out (read_write, f32): y, dx, or dw partials [parts, K, C, R, S];
// 2 x [N, C, H, W]; 3 w [K, C, R, S]; 4 dy [N, K, P, Q]; 5 bias [K] (f32). All contiguous. x, w and dy hold
// `In` values: f32, or f16 where mixed precision stores the operands in half precision (accumulation is
// always f32). Each register entry point binds only what it reads: forward 2, 3, 5; dgrad 3, 4; wgrad 2, 4;
// conv2d_tiled declares all five (the host binds an operand it reads in place of the others). Without
// HAS_BIAS, binding 5 is a placeholder that is never read.
//
// Two tilings of each GEMM: register tiling (conv2d_forward, conv2d_dgrad, conv2d_wgrad; no workgroup
// memory, best on CPU-backed adapters) and workgroup tiling (conv2d_tiled, the three GEMMs selected by
// the pipeline constant KIND; for GPUs). Generated constants (src/gpu/kernels.ts rewrites them per
// variant, src/ops/conv.ts chooses them): In, and conv2d_tiled's BM x BN block, BK step, TM x TN outputs
// per thread and NBUF buffers, as in shaders/matmul.wgsl.
//
// Register tiling (as matmul_register): each thread owns a ROWS x COLS block of the GEMM output (each
// 8 or 16), kept as up to four 8 x 8 Blocks of 16 vec4 fields (a row of 8 as two vec4) in a Tile. Per
// reduction step it loads ROWS values of the row operand and COLS of the column operand and does
// ROWS COLS fused multiply-adds (accumulate). Blocks beyond ROWS and COLS, with their loads and stores,
// are cut out when the pipeline is created. Structs with named fields rather than arrays: after
// inlining, SwiftShader treats the fields as plain local variables (measured as fast as spelling out
// 16 of them), whereas arrays indexed in loops are spilled to memory (measured 10x slower in matmul).
// Rows and columns past the edge are clamped when loading and skipped when storing, and taps that fall
// into the padding read offset 0 and are zeroed by select, so no load is ever out of bounds and the
// reduction loops have no branches.
//
// Dispatch: 1-D workgroups of WG threads; grids wider than 65535 workgroups fold into y, so the flat
// thread index is t = gid.x + gid.y * num_workgroups.x * WG.
//   forward: ceil(K / ROWS) * ceil(N P Q / COLS) threads; t covers rows ROWS (t % ceil(K / ROWS)) and
//            pixels COLS (t / ceil(K / ROWS)).
//   dgrad:   one dispatch per stride phase (a, b) = (h mod SH, v mod SW), SH * SW in all: its pixels
//            h = a + SH i, v = b + SW j (i < sub_h, j < sub_w) all take taps r = (a + PH) mod SH + SH m
//            (same for s), so the tap loop steps by the stride instead of masking the taps that do not
//            divide (3 of 4 at stride 2). ceil(C / ROWS) * ceil(N sub_h sub_w / COLS) threads, laid out
//            as forward.
//   wgrad:   ceil(K / ROWS) * ceil(C / COLS) * R S * parts threads;
//            t = ((part * R S + tap) * ceil(C / COLS) + column tile) * ceil(K / ROWS) + row tile.
//            Along a row of dy the valid q (those whose input column is inside the image) form one
//            range, computed once per thread, so the innermost loop has no masks at all.
//
// conv2d_tiled (workgroup tiling of the same three GEMMs, as matmul_tiled): a workgroup of
// WX x WY = (BN / TN) x (BM / TM) threads computes a BM x BN block of the GEMM output, staging per step a
// BM x BK slab of the row operand and a BK x BN slab of the column operand in workgroup memory (zero
// outside), NBUF = 2 staging the next while multiplying this one. Each thread stages one fixed column
// of the column slab (THREADS a multiple of BN), so the column's pixel or filter tap is decoded once;
// the reduction index is decoded with divisions by pipeline constants.
//   KIND 0, forward: rows k, columns pixels (n, p, q), reduction j = (c, r, s), C R S long.
//   KIND 1, dgrad: one dispatch per stride phase (PHASE_H, PHASE_W: pipeline constants here), rows c,
//            columns the phase's pixels (n, i, j), reduction over k and the phase's taps r = R0 + SH u,
//            s = S0 + SW v (u < TR, v < TS): j = (k, u, v), K TR TS long.
//   KIND 2, wgrad: rows k, columns (c, r, s), reduction over the part's rows (n, p) and, per row, steps
//            of BK output columns q (parts as for conv2d_wgrad).
//   Dispatch: (ceil(columns / BN), ceil(rows / BM), parts) with parts = 1 for forward and dgrad.

// Generated constants (see above): In as written is the f32 build; conv2d_tiled is always dispatched
// with its variant's block constants.
alias In = f32;
const BM: u32 = 32u;
const BN: u32 = 64u;
const BK: u32 = 16u;
const TM: u32 = 4u;
const TN: u32 = 4u;
const NBUF: u32 = 1u;

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  k: u32,
  p: u32,
  q: u32,
  // wgrad: number of partial sums over rows (n, p).
  parts: u32,
  // dgrad: the stride phase of this dispatch and the size of its sub-grid of input pixels.
  phase_h: u32,
  phase_w: u32,
  sub_h: u32,
  sub_w: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<In>;
@group(0) @binding(3) var<storage, read> w: array<In>;
@group(0) @binding(4) var<storage, read> dy: array<In>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;

override WG: u32 = 64;
override R: u32 = 3;
override S: u32 = 3;
override SH: u32 = 1;
override SW: u32 = 1;
override PH: u32 = 0;
override PW: u32 = 0;
override HAS_BIAS: bool = false;
// Rows and columns of the GEMM output per thread: 8 or 16 each.
override ROWS: u32 = 8;
override COLS: u32 = 8;

// Eight values of a GEMM operand (two quads), eight offsets into a buffer, eight flags.
struct Eight {
  l: vec4<f32>,
  h: vec4<f32>,
}

struct Offsets {
  l: vec4<u32>,
  h: vec4<u32>,
}

struct Masks {
  l: vec4<bool>,
  h: vec4<bool>,
}

// An 8 x 8 block of GEMM outputs: row i in r{i}l (columns 0-3) and r{i}h (columns 4-7).
struct Block {
  r0l: vec4<f32>, r0h: vec4<f32>,
  r1l: vec4<f32>, r1h: vec4<f32>,
  r2l: vec4<f32>, r2h: vec4<f32>,
  r3l: vec4<f32>, r3h: vec4<f32>,
  r4l: vec4<f32>, r4h: vec4<f32>,
  r5l: vec4<f32>, r5h: vec4<f32>,
  r6l: vec4<f32>, r6h: vec4<f32>,
  r7l: vec4<f32>, r7h: vec4<f32>,
}

// A thread's ROWS x COLS outputs as 8 x 8 blocks b{row half}{column half}. The blocks that ROWS and
// COLS do not reach are never used, and vanish (with the loads feeding them) when the pipeline is created.
struct Tile {
  b00: Block,
  b01: Block,
  b10: Block,
  b11: Block,
}

// blk += a b^T: a holds 8 values down the rows, b 8 values across the columns.
fn rank1(blk: ptr<function, Block>, a: Eight, b: Eight) {
  (*blk).r0l = fma(vec4<f32>(a.l.x), b.l, (*blk).r0l);
  (*blk).r0h = fma(vec4<f32>(a.l.x), b.h, (*blk).r0h);
  (*blk).r1l = fma(vec4<f32>(a.l.y), b.l, (*blk).r1l);
  (*blk).r1h = fma(vec4<f32>(a.l.y), b.h, (*blk).r1h);
  (*blk).r2l = fma(vec4<f32>(a.l.z), b.l, (*blk).r2l);
  (*blk).r2h = fma(vec4<f32>(a.l.z), b.h, (*blk).r2h);
  (*blk).r3l = fma(vec4<f32>(a.l.w), b.l, (*blk).r3l);
  (*blk).r3h = fma(vec4<f32>(a.l.w), b.h, (*blk).r3h);
  (*blk).r4l = fma(vec4<f32>(a.h.x), b.l, (*blk).r4l);
  (*blk).r4h = fma(vec4<f32>(a.h.x), b.h, (*blk).r4h);
  (*blk).r5l = fma(vec4<f32>(a.h.y), b.l, (*blk).r5l);
  (*blk).r5h = fma(vec4<f32>(a.h.y), b.h, (*blk).r5h);
  (*blk).r6l = fma(vec4<f32>(a.h.z), b.l, (*blk).r6l);
  (*blk).r6h = fma(vec4<f32>(a.h.z), b.h, (*blk).r6h);
  (*blk).r7l = fma(vec4<f32>(a.h.w), b.l, (*blk).r7l);
  (*blk).r7h = fma(vec4<f32>(a.h.w), b.h, (*blk).r7h);
}

// tile += a b^T over the blocks this pipeline has: a0 / a1 the rows 0-7 / 8-15, b0 / b1 the columns.
fn accumulate(tile: ptr<function, Tile>, a0: Eight, a1: Eight, b0: Eight, b1: Eight) {
  rank1(&(*tile).b00, a0, b0);
  if (COLS > 8u) {
    rank1(&(*tile).b01, a0, b1);
  }
  if (ROWS > 8u) {
    rank1(&(*tile).b10, a1, b0);
  }
  if (ROWS > 8u && COLS > 8u) {
    rank1(&(*tile).b11, a1, b1);
  }
}

// Indices first + 0..7, clamped to `last`, times `stride`.
fn lanes8(first: u32, last: u32, stride: u32) -> Offsets {
  let l = min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
  let h = min(vec4<u32>(first) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(last));
  return Offsets(l * stride, h * stride);
}

// Whether first + 0..7 < end.
fn in_range8(first: u32, end: u32) -> Masks {
  return Masks(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(end),
               vec4<u32>(first) + vec4<u32>(4u, 5u, 6u, 7u) < vec4<u32>(end));
}

fn shifted(o: Offsets, by: u32) -> Offsets {
  return Offsets(o.l + by, o.h + by);
}

// Gathers 8 values at offsets `at` + `shift`.
fn x8(at: Offsets, shift: u32) -> Eight {
  let l = at.l + shift;
  let h = at.h + shift;
  return Eight(vec4<f32>(f32(x[l.x]), f32(x[l.y]), f32(x[l.z]), f32(x[l.w])),
               vec4<f32>(f32(x[h.x]), f32(x[h.y]), f32(x[h.z]), f32(x[h.w])));
}

fn w8(at: Offsets, shift: u32) -> Eight {
  let l = at.l + shift;
  let h = at.h + shift;
  return Eight(vec4<f32>(f32(w[l.x]), f32(w[l.y]), f32(w[l.z]), f32(w[l.w])),
               vec4<f32>(f32(w[h.x]), f32(w[h.y]), f32(w[h.z]), f32(w[h.w])));
}

fn dy8(at: Offsets, shift: u32) -> Eight {
  let l = at.l + shift;
  let h = at.h + shift;
  return Eight(vec4<f32>(f32(dy[l.x]), f32(dy[l.y]), f32(dy[l.z]), f32(dy[l.w])),
               vec4<f32>(f32(dy[h.x]), f32(dy[h.y]), f32(dy[h.z]), f32(dy[h.w])));
}

// v where ok, else 0.
fn masked(v: Eight, ok: Masks) -> Eight {
  return Eight(select(vec4<f32>(), v.l, ok.l), select(vec4<f32>(), v.h, ok.h));
}

// Eight pixels of a GEMM's columns: where their outputs go (`out`, written where `ok`), and where
// their windows start in the input they read: the image's offset `base` and the top-left corner
// (row, col) in its planes, negative inside the padding.
struct Windows {
  out: Offsets,
  ok: Masks,
  base: Offsets,
  row_l: vec4<i32>,
  row_h: vec4<i32>,
  col_l: vec4<i32>,
  col_h: vec4<i32>,
}

// Offsets of the windows shifted by (dr, dc) into a stack of rows x cols planes, and whether each
// lies inside its plane. Outside, the offset is 0 (a valid address whatever plane is added to it),
// and the value read there must be masked.
struct Taps {
  off: Offsets,
  ok: Masks,
}

fn taps(win: Windows, dr: i32, dc: i32, rows: u32, cols: u32) -> Taps {
  let rl = win.row_l + dr;
  let rh = win.row_h + dr;
  let cl = win.col_l + dc;
  let ch = win.col_h + dc;
  let zero = vec4<i32>();
  let ok_l = (rl >= zero) & (rl < vec4<i32>(i32(rows))) & (cl >= zero) & (cl < vec4<i32>(i32(cols)));
  let ok_h = (rh >= zero) & (rh < vec4<i32>(i32(rows))) & (ch >= zero) & (ch < vec4<i32>(i32(cols)));
  let off_l = win.base.l + vec4<u32>(rl) * cols + vec4<u32>(cl);
  let off_h = win.base.h + vec4<u32>(rh) * cols + vec4<u32>(ch);
  return Taps(Offsets(select(vec4<u32>(), off_l, ok_l), select(vec4<u32>(), off_h, ok_h)), Masks(ok_l, ok_h));
}

// Writes row `row` of a block (value j to out[off[j] + row * stride] where ok[j]); rows >= `rows` are skipped.
fn store_row(row: u32, rows: u32, stride: u32, off: Offsets, ok: Masks, vl: vec4<f32>, vh: vec4<f32>) {
  if (row >= rows) {
    return;
  }
  let shift = row * stride;
  for (var j = 0u; j < 4u; j++) {
    if (ok.l[j]) {
      out[off.l[j] + shift] = vl[j];
    }
    if (ok.h[j]) {
      out[off.h[j] + shift] = vh[j];
    }
  }
}

// Writes a block whose rows start at row0, adding add[i] to row i.
fn store_block(blk: Block, row0: u32, rows: u32, stride: u32, off: Offsets, ok: Masks, add: Eight) {
  store_row(row0 + 0u, rows, stride, off, ok, blk.r0l + add.l.x, blk.r0h + add.l.x);
  store_row(row0 + 1u, rows, stride, off, ok, blk.r1l + add.l.y, blk.r1h + add.l.y);
  store_row(row0 + 2u, rows, stride, off, ok, blk.r2l + add.l.z, blk.r2h + add.l.z);
  store_row(row0 + 3u, rows, stride, off, ok, blk.r3l + add.l.w, blk.r3h + add.l.w);
  store_row(row0 + 4u, rows, stride, off, ok, blk.r4l + add.h.x, blk.r4h + add.h.x);
  store_row(row0 + 5u, rows, stride, off, ok, blk.r5l + add.h.y, blk.r5h + add.h.y);
  store_row(row0 + 6u, rows, stride, off, ok, blk.r6l + add.h.z, blk.r6h + add.h.z);
  store_row(row0 + 7u, rows, stride, off, ok, blk.r7l + add.h.w, blk.r7h + add.h.w);
}

// Writes the blocks this pipeline has; columns 0-7 go to off0 (where ok0), 8-15 to off1 (where ok1).
fn store_tile(tile: Tile, row0: u32, rows: u32, stride: u32, off0: Offsets, ok0: Masks, off1: Offsets,
              ok1: Masks, add0: Eight, add1: Eight) {
  store_block(tile.b00, row0, rows, stride, off0, ok0, add0);
  if (COLS > 8u) {
    store_block(tile.b01, row0, rows, stride, off1, ok1, add0);
  }
  if (ROWS > 8u) {
    store_block(tile.b10, row0 + 8u, rows, stride, off0, ok0, add1);
  }
  if (ROWS > 8u && COLS > 8u) {
    store_block(tile.b11, row0 + 8u, rows, stride, off1, ok1, add1);
  }
}

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// bias[k0 + 0..7] (clamped), or 0 without HAS_BIAS.
fn bias8(k0: u32) -> Eight {
  if (!HAS_BIAS) {
    return Eight();
  }
  let k = lanes8(k0, p.k - 1u, 1u);
  return Eight(vec4<f32>(bias[k.l.x], bias[k.l.y], bias[k.l.z], bias[k.l.w]),
               vec4<f32>(bias[k.h.x], bias[k.h.y], bias[k.h.z], bias[k.h.w]));
}

// Output pixels pix0 .. pix0 + 7 (flat over n, p, q; clamped to the last): y[n, :, p, q] is at
// n K P Q + p Q + q, the window starts at x[n, 0, p SH - PH, q SW - PW].
fn forward_windows(pix0: u32, pixels: u32) -> Windows {
  let pq = p.p * p.q;
  let pix = lanes8(pix0, pixels - 1u, 1u);
  let img_l = pix.l / pq;
  let img_h = pix.h / pq;
  let at_l = pix.l % pq;
  let at_h = pix.h % pq;
  return Windows(
    Offsets(img_l * (p.k * pq) + at_l, img_h * (p.k * pq) + at_h),
    in_range8(pix0, pixels),
    Offsets(img_l * (p.c * p.h * p.w), img_h * (p.c * p.h * p.w)),
    vec4<i32>(at_l / p.q * SH) - i32(PH),
    vec4<i32>(at_h / p.q * SH) - i32(PH),
    vec4<i32>(at_l % p.q * SW) - i32(PW),
    vec4<i32>(at_h % p.q * SW) - i32(PW));
}

@compute @workgroup_size(WG)
fn conv2d_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  let k_tiles = (p.k + ROWS - 1u) / ROWS;
  let k0 = (t % k_tiles) * ROWS;
  let pix0 = (t / k_tiles) * COLS;
  let pixels = p.n * p.p * p.q;
  if (pix0 >= pixels) {
    return;
  }
  let win0 = forward_windows(pix0, pixels);
  let win1 = forward_windows(pix0 + 8u, pixels);
  // Start of the thread's filters w[k, :, :, :].
  let filters0 = lanes8(k0, p.k - 1u, p.c * R * S);
  let filters1 = lanes8(k0 + 8u, p.k - 1u, p.c * R * S);
  // Without padding every tap of an output pixel is inside the image: the masks fold away.
  let unpadded = vec4<bool>(PH == 0u && PW == 0u);
  let plane = p.h * p.w;
  var tile = Tile();
  for (var r = 0u; r < R; r++) {
    for (var s = 0u; s < S; s++) {
      let t0 = taps(win0, i32(r), i32(s), p.h, p.w);
      let t1 = taps(win1, i32(r), i32(s), p.h, p.w);
      let ok0 = Masks(t0.ok.l | unpadded, t0.ok.h | unpadded);
      let ok1 = Masks(t1.ok.l | unpadded, t1.ok.h | unpadded);
      var xo = 0u;
      var wo = r * S + s;
      for (var c = 0u; c < p.c; c++) {
        accumulate(&tile, w8(filters0, wo), w8(filters1, wo), masked(x8(t0.off, xo), ok0), masked(x8(t1.off, xo), ok1));
        xo += plane;
        wo += R * S;
      }
    }
  }
  store_tile(tile, k0, p.k, p.p * p.q, win0.out, win0.ok, win1.out, win1.ok, bias8(k0), bias8(k0 + 8u));
}

// Input pixels pix0 .. pix0 + 7 of this dispatch's stride phase (flat over n, i, j; clamped to the
// last), i.e. x[n, :, h, v] with h = phase_h + SH i, v = phase_w + SW j: dx is at n C H W + h W + v,
// and the dy window of tap (r, s) starts at dy[n, 0, i + (phase_h + PH - r) / SH, j + ...].
fn dgrad_windows(pix0: u32, pixels: u32) -> Windows {
  let sub = p.sub_h * p.sub_w;
  let pix = lanes8(pix0, pixels - 1u, 1u);
  let img_l = pix.l / sub;
  let img_h = pix.h / sub;
  let i_l = pix.l % sub / p.sub_w;
  let i_h = pix.h % sub / p.sub_w;
  let j_l = pix.l % p.sub_w;
  let j_h = pix.h % p.sub_w;
  return Windows(
    Offsets(img_l * (p.c * p.h * p.w) + (i_l * SH + p.phase_h) * p.w + j_l * SW + p.phase_w,
            img_h * (p.c * p.h * p.w) + (i_h * SH + p.phase_h) * p.w + j_h * SW + p.phase_w),
    in_range8(pix0, pixels),
    Offsets(img_l * (p.k * p.p * p.q), img_h * (p.k * p.p * p.q)),
    vec4<i32>(i_l),
    vec4<i32>(i_h),
    vec4<i32>(j_l),
    vec4<i32>(j_h));
}

@compute @workgroup_size(WG)
fn conv2d_dgrad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  let c_tiles = (p.c + ROWS - 1u) / ROWS;
  let c0 = (t % c_tiles) * ROWS;
  let pix0 = (t / c_tiles) * COLS;
  let pixels = p.n * p.sub_h * p.sub_w;
  if (pix0 >= pixels) {
    return;
  }
  let win0 = dgrad_windows(pix0, pixels);
  let win1 = dgrad_windows(pix0 + 8u, pixels);
  // A[c, (k, r, s)] = w[k, c, r, s]: the offsets of the thread's channels at k = 0.
  let chans0 = lanes8(c0, p.c - 1u, R * S);
  let chans1 = lanes8(c0 + 8u, p.c - 1u, R * S);
  let dy_plane = p.p * p.q;
  var tile = Tile();
  for (var r = (p.phase_h + PH) % SH; r < R; r += SH) {
    // (h + PH - r) / SH = i + (phase_h + PH - r) / SH, exactly.
    let dr = (i32(p.phase_h + PH) - i32(r)) / i32(SH);
    for (var s = (p.phase_w + PW) % SW; s < S; s += SW) {
      let ds = (i32(p.phase_w + PW) - i32(s)) / i32(SW);
      let t0 = taps(win0, dr, ds, p.p, p.q);
      let t1 = taps(win1, dr, ds, p.p, p.q);
      var yo = 0u;
      var wo = r * S + s;
      for (var k = 0u; k < p.k; k++) {
        accumulate(&tile, w8(chans0, wo), w8(chans1, wo), masked(dy8(t0.off, yo), t0.ok), masked(dy8(t1.off, yo), t1.ok));
        yo += dy_plane;
        wo += p.c * R * S;
      }
    }
  }
  store_tile(tile, c0, p.c, p.h * p.w, win0.out, win0.ok, win1.out, win1.ok, Eight(), Eight());
}

@compute @workgroup_size(WG)
fn conv2d_wgrad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  let k_tiles = (p.k + ROWS - 1u) / ROWS;
  let c_tiles = (p.c + COLS - 1u) / COLS;
  let k0 = (t % k_tiles) * ROWS;
  let c0 = (t / k_tiles % c_tiles) * COLS;
  let tap = t / (k_tiles * c_tiles) % (R * S);
  let part = t / (k_tiles * c_tiles * R * S);
  if (part >= p.parts) {
    return;
  }
  let r = tap / S;
  let s = tap % S;
  // Rows (n, p) of this part.
  let rows = p.n * p.p;
  let per_part = (rows + p.parts - 1u) / p.parts;
  let row_end = min(rows, (part + 1u) * per_part);
  // Output columns q whose input column q SW - PW + s lies in [0, W): q_lo <= q < q_hi.
  let from_left = i32(PW) - i32(s);
  let q_lo = u32(select(0, (from_left + i32(SW) - 1) / i32(SW), from_left > 0));
  let last_col = i32(p.w) - 1 + i32(PW) - i32(s);
  let q_hi = u32(select(0, min(i32(p.q), last_col / i32(SW) + 1), last_col >= 0));
  // Offsets of the planes dy[0, k, :, :] of the thread's rows and x[0, c, :, :] of its columns.
  let plane_y = p.p * p.q;
  let plane_x = p.h * p.w;
  let y0 = lanes8(k0, p.k - 1u, plane_y);
  let y1 = lanes8(k0 + 8u, p.k - 1u, plane_y);
  let x0 = lanes8(c0, p.c - 1u, plane_x);
  let x1 = lanes8(c0 + 8u, p.c - 1u, plane_x);
  var tile = Tile();
  for (var row = part * per_part; row < row_end; row++) {
    let n = row / p.p;
    let pp = row % p.p;
    let ih = i32(pp * SH + r) - i32(PH);
    if (ih < 0 || ih >= i32(p.h)) {
      continue;
    }
    var yo = n * (p.k * plane_y) + pp * p.q + q_lo;
    var xo = n * (p.c * plane_x) + u32(ih) * p.w + q_lo * SW + s - PW;
    for (var q = q_lo; q < q_hi; q++) {
      accumulate(&tile, dy8(y0, yo), dy8(y1, yo), x8(x0, xo), x8(x1, xo));
      yo += 1u;
      xo += SW;
    }
  }
  // partial[part, k, c, r, s] = out[part K C R S + k C R S + c R S + tap]
  let crs = p.c * R * S;
  let first = part * (p.k * crs) + tap;
  store_tile(tile, k0, p.k, crs, shifted(lanes8(c0, p.c - 1u, R * S), first), in_range8(c0, p.c),
             shifted(lanes8(c0 + 8u, p.c - 1u, R * S), first), in_range8(c0 + 8u, p.c), Eight(), Eight());
}

const WX: u32 = BN / TN;
const WY: u32 = BM / TM;
const THREADS: u32 = WX * WY;
override KIND: u32 = 0u;
override PHASE_H: u32 = 0u;
override PHASE_W: u32 = 0u;

// Outputs are handled in quads (src/ops/conv.ts also checks that THREADS is a multiple of BN and BK).
const_assert BN % 4u == 0u && BM % 4u == 0u && TM % 4u == 0u && TN % 4u == 0u;

var<workgroup> slab_a: array<f32, NBUF * BK * BM>;
var<workgroup> slab_b: array<f32, NBUF * BK * BN>;

alias Acc = array<vec4<f32>, TM * TN / 4u>;

// Sizes of the GEMM of this KIND: rows, columns, and (forward, dgrad) the reduction length.
struct Gemm {
  rows: u32,
  cols: u32,
  red: u32,
}

// dgrad's taps in this stride phase: r = r0() + SH u for u < taps_r(), s = s0() + SW v for v < taps_s().
fn r0() -> u32 {
  return (PHASE_H + PH) % SH;
}

fn s0() -> u32 {
  return (PHASE_W + PW) % SW;
}

fn taps_r() -> u32 {
  return select(0u, (R - r0() + SH - 1u) / SH, r0() < R);
}

fn taps_s() -> u32 {
  return select(0u, (S - s0() + SW - 1u) / SW, s0() < S);
}

fn gemm() -> Gemm {
  if (KIND == 0u) {
    return Gemm(p.k, p.n * p.p * p.q, p.c * R * S);
  }
  if (KIND == 1u) {
    return Gemm(p.c, p.n * p.sub_h * p.sub_w, p.k * taps_r() * taps_s());
  }
  return Gemm(p.k, p.c * R * S, 0u);
}

// The fixed column a thread stages: where its operand starts (`base`), the top-left corner of its
// window (forward: input row and column; dgrad: the pixel's position in the phase grid; wgrad: r - PH
// and s - PW, the offsets of its tap), and whether the column exists.
struct Column {
  base: u32,
  row: i32,
  col: i32,
  ok: bool,
}

fn column(col: u32, g: Gemm) -> Column {
  let c = min(col, g.cols - 1u);
  if (KIND == 0u) {
    let pq = p.p * p.q;
    let at = c % pq;
    return Column(c / pq * (p.c * p.h * p.w), i32(at / p.q * SH) - i32(PH), i32(at % p.q * SW) - i32(PW), col < g.cols);
  }
  if (KIND == 1u) {
    let sub = p.sub_h * p.sub_w;
    let at = c % sub;
    return Column(c / sub * (p.k * p.p * p.q), i32(at / p.sub_w), i32(at % p.sub_w), col < g.cols);
  }
  let tap = c % (R * S);
  return Column(c / (R * S) * (p.h * p.w), i32(tap / S) - i32(PH), i32(tap % S) - i32(PW), col < g.cols);
}

// The column operand at reduction index j of the step (forward, dgrad: absolute; wgrad: q, in row n, p).
fn load_b(at: Column, j: u32, red: u32, n: u32, pp: u32) -> f32 {
  var plane = 0u;
  var h = 0;
  var v = 0;
  var rows = 0u;
  var cols = 0u;
  var inside = at.ok;
  if (KIND == 0u) {
    plane = j / (R * S) * (p.h * p.w);
    h = at.row + i32(j % (R * S) / S);
    v = at.col + i32(j % S);
    rows = p.h;
    cols = p.w;
    inside = inside && j < red;
  } else if (KIND == 1u) {
    let count = max(taps_r() * taps_s(), 1u);
    let tap = j % count;
    let r = r0() + SH * (tap / taps_s());
    let s = s0() + SW * (tap % taps_s());
    plane = j / count * (p.p * p.q);
    h = at.row + (i32(PHASE_H + PH) - i32(r)) / i32(SH);
    v = at.col + (i32(PHASE_W + PW) - i32(s)) / i32(SW);
    rows = p.p;
    cols = p.q;
    inside = inside && j < red;
  } else {
    plane = n * (p.c * p.h * p.w);
    h = i32(pp * SH) + at.row;
    v = i32(j * SW) + at.col;
    rows = p.h;
    cols = p.w;
    inside = inside && j < p.q;
  }
  inside = inside && h >= 0 && h < i32(rows) && v >= 0 && v < i32(cols);
  if (!inside) {
    return 0.0;
  }
  let off = at.base + plane + u32(h) * cols + u32(v);
  if (KIND == 1u) {
    return f32(dy[off]);
  }
  return f32(x[off]);
}

// The row operand: row `row` (k, or c for dgrad) at reduction index j (wgrad: q, in row n, p).
fn load_a(row: u32, j: u32, g: Gemm, n: u32, pp: u32) -> f32 {
  if (row >= g.rows) {
    return 0.0;
  }
  if (KIND == 0u) {
    return select(0.0, f32(w[row * g.red + min(j, g.red - 1u)]), j < g.red);
  }
  if (KIND == 1u) {
    if (j >= g.red) {
      return 0.0;
    }
    let count = max(taps_r() * taps_s(), 1u);
    let tap = j % count;
    let r = r0() + SH * (tap / taps_s());
    let s = s0() + SW * (tap % taps_s());
    return f32(w[((j / count * p.c + row) * R + r) * S + s]);
  }
  return select(0.0, f32(dy[n * (p.k * p.p * p.q) + row * (p.p * p.q) + pp * p.q + min(j, p.q - 1u)]), j < p.q);
}

// Stages step `j0` (forward, dgrad: reduction indices j0..; wgrad: q = j0.. of row n, p) into buffer `buf`.
fn stage(buf: u32, row0: u32, j0: u32, t: u32, at: Column, g: Gemm, n: u32, pp: u32) {
  for (var e = t; e < BM * BK; e += THREADS) {
    slab_a[buf * BK * BM + e % BK * BM + e / BK] = load_a(row0 + e / BK, j0 + e % BK, g, n, pp);
  }
  // THREADS is a multiple of BN: this thread's column is always t % BN.
  for (var e = t; e < BN * BK; e += THREADS) {
    slab_b[buf * BK * BN + e / BN * BN + e % BN] = load_b(at, j0 + e / BN, g.red, n, pp);
  }
}

// acc += the products of buffer `buf` for thread (tx, ty) (as matmul_tiled's multiply).
fn multiply_slab(buf: u32, tx: u32, ty: u32, acc: ptr<function, Acc>) {
  for (var kk = 0u; kk < BK; kk++) {
    let oa = buf * BK * BM + kk * BM;
    let ob = buf * BK * BN + kk * BN;
    var bv: array<vec4<f32>, TN / 4u>;
    for (var g = 0u; g < TN / 4u; g++) {
      let j = ob + (g * WX + tx) * 4u;
      bv[g] = vec4<f32>(slab_b[j], slab_b[j + 1u], slab_b[j + 2u], slab_b[j + 3u]);
    }
    for (var h = 0u; h < TM / 4u; h++) {
      let i = oa + (h * WY + ty) * 4u;
      let av = vec4<f32>(slab_a[i], slab_a[i + 1u], slab_a[i + 2u], slab_a[i + 3u]);
      for (var l = 0u; l < 4u; l++) {
        for (var g = 0u; g < TN / 4u; g++) {
          let r = (h * 4u + l) * (TN / 4u) + g;
          (*acc)[r] = fma(vec4<f32>(av[l]), bv[g], (*acc)[r]);
        }
      }
    }
  }
}

// Where GEMM output (row, col) goes in `out`, for a column that exists.
fn out_index(row: u32, col: u32, part: u32) -> u32 {
  if (KIND == 0u) {
    let pq = p.p * p.q;
    return col / pq * (p.k * pq) + row * pq + col % pq;
  }
  if (KIND == 1u) {
    let sub = p.sub_h * p.sub_w;
    let at = col % sub;
    return col / sub * (p.c * p.h * p.w) + row * (p.h * p.w) + (PHASE_H + SH * (at / p.sub_w)) * p.w + PHASE_W + SW * (at % p.sub_w);
  }
  return (part * p.k + row) * (p.c * R * S) + col;
}

@compute @workgroup_size(WX, WY)
fn conv2d_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = gemm();
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let part = wid.z;
  let t = lid.y * WX + lid.x;
  let at = column(col0 + t % BN, g);
  // Steps: forward and dgrad over the reduction; wgrad over the part's rows (n, p), qs steps each.
  var first = 0u;
  var steps = (g.red + BK - 1u) / BK;
  let qs = (p.q + BK - 1u) / BK;
  if (KIND == 2u) {
    let rows = p.n * p.p;
    let per_part = (rows + p.parts - 1u) / p.parts;
    first = min(rows, part * per_part) * qs;
    steps = min(rows, (part + 1u) * per_part) * qs - first;
  }
  var acc: Acc;
  // Pass i stages step i and multiplies step i + 1 - NBUF (as matmul_tiled).
  for (var i = 0u; i < steps + NBUF - 1u; i++) {
    if (i < steps) {
      // Step i: reduction from j0 (wgrad: q from j0, in the part's row `row` = (n, p)).
      let at_step = first + i;
      let row = at_step / qs;
      let j0 = select(at_step * BK, at_step % qs * BK, KIND == 2u);
      stage(i % NBUF, row0, j0, t, at, g, row / p.p, row % p.p);
    }
    if (NBUF == 1u) {
      workgroupBarrier();
    }
    if (i + 1u >= NBUF) {
      multiply_slab((i + 1u - NBUF) % NBUF, lid.x, lid.y, &acc);
    }
    workgroupBarrier();
  }
  for (var h = 0u; h < TM / 4u; h++) {
    for (var l = 0u; l < 4u; l++) {
      let row = row0 + (h * WY + lid.y) * 4u + l;
      if (row >= g.rows) {
        continue;
      }
      var add = 0.0;
      if (KIND == 0u && HAS_BIAS) {
        add = bias[row];
      }
      for (var q = 0u; q < TN / 4u; q++) {
        let col = col0 + (q * WX + lid.x) * 4u;
        let v = acc[(h * 4u + l) * (TN / 4u) + q] + add;
        for (var i = 0u; i < 4u; i++) {
          if (col + i < g.cols) {
            out[out_index(row, col + i, part)] = v[i];
          }
        }
      }
    }
  }
}
