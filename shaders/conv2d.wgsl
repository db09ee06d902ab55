// Conv2d family: 2-D convolution of NCHW images with OIHW weights (stride, zero padding; dilation 1,
// groups 1) as implicit GEMM, in three entry points: forward, gradient w.r.t. the input (dgrad) and
// gradient w.r.t. the weights (wgrad). No im2col matrix is materialised: each kernel computes the
// addresses of the GEMM operands on the fly.
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
// Bindings (group 0): 0 uniform Params; 1 out (read_write): y, dx, or dw partials [parts, K, C, R, S];
// 2 x [N, C, H, W]; 3 w [K, C, R, S]; 4 dy [N, K, P, Q]; 5 bias [K]. All contiguous. Each entry point binds
// only what it reads: forward 2, 3, 5; dgrad 3, 4; wgrad 2, 4. Without HAS_BIAS, binding 5 is a
// placeholder that is never read.
//
// Register tiling (as matmul_register): each thread owns a ROWS x 8 block of the GEMM output (ROWS = 8
// or 16), kept in one or two Blocks of 16 vec4 fields (a row of 8 as two vec4). Per reduction step it
// loads ROWS values of the row operand and 8 of the column operand and does 8 ROWS fused multiply-adds
// (rank1). With ROWS = 8 the second Block, its loads and its stores are cut out when the pipeline is
// created. Structs with named fields rather than arrays: after inlining, SwiftShader treats the fields
// as plain local variables (measured as fast as spelling out 16 of them), whereas arrays indexed in
// loops are spilled to memory (measured 10x slower in matmul). Rows and
// columns past the edge are clamped when loading and skipped when storing, and taps that fall into the
// padding read offset 0 and are zeroed by select, so no load is ever out of bounds and the reduction
// loops have no branches.
//
// Dispatch: 1-D workgroups of WG threads; grids wider than 65535 workgroups fold into y, so the flat
// thread index is t = gid.x + gid.y * num_workgroups.x * WG.
//   forward: ceil(K / ROWS) * ceil(N P Q / 8) threads; t covers rows ROWS (t % ceil(K / ROWS)) and
//            pixels 8 (t / ceil(K / ROWS)).
//   dgrad:   one dispatch per stride phase (a, b) = (h mod SH, v mod SW), SH * SW in all: its pixels
//            h = a + SH i, v = b + SW j (i < sub_h, j < sub_w) all take taps r = (a + PH) mod SH + SH m
//            (same for s), so the tap loop steps by the stride instead of masking the taps that do not
//            divide (3 of 4 at stride 2). ceil(C / ROWS) * ceil(N sub_h sub_w / 8) threads, laid out as forward.
//   wgrad:   ceil(K / ROWS) * ceil(C / 8) * R S * parts threads;
//            t = ((part * R S + tap) * ceil(C / 8) + column tile) * ceil(K / ROWS) + row tile.
//            Along a row of dy the valid q (those whose input column is inside the image) form one
//            range, computed once per thread, so the innermost loop has no masks at all.

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
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;

override WG: u32 = 64;
override R: u32 = 3;
override S: u32 = 3;
override SH: u32 = 1;
override SW: u32 = 1;
override PH: u32 = 0;
override PW: u32 = 0;
override HAS_BIAS: bool = false;
// Rows of the GEMM output per thread: 8 or 16.
override ROWS: u32 = 8;

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

// blk += a b^T: a is 8 values down the rows (al, ah), b 8 values across the columns (bl, bh).
fn rank1(blk: ptr<function, Block>, al: vec4<f32>, ah: vec4<f32>, bl: vec4<f32>, bh: vec4<f32>) {
  (*blk).r0l = fma(vec4<f32>(al.x), bl, (*blk).r0l);
  (*blk).r0h = fma(vec4<f32>(al.x), bh, (*blk).r0h);
  (*blk).r1l = fma(vec4<f32>(al.y), bl, (*blk).r1l);
  (*blk).r1h = fma(vec4<f32>(al.y), bh, (*blk).r1h);
  (*blk).r2l = fma(vec4<f32>(al.z), bl, (*blk).r2l);
  (*blk).r2h = fma(vec4<f32>(al.z), bh, (*blk).r2h);
  (*blk).r3l = fma(vec4<f32>(al.w), bl, (*blk).r3l);
  (*blk).r3h = fma(vec4<f32>(al.w), bh, (*blk).r3h);
  (*blk).r4l = fma(vec4<f32>(ah.x), bl, (*blk).r4l);
  (*blk).r4h = fma(vec4<f32>(ah.x), bh, (*blk).r4h);
  (*blk).r5l = fma(vec4<f32>(ah.y), bl, (*blk).r5l);
  (*blk).r5h = fma(vec4<f32>(ah.y), bh, (*blk).r5h);
  (*blk).r6l = fma(vec4<f32>(ah.z), bl, (*blk).r6l);
  (*blk).r6h = fma(vec4<f32>(ah.z), bh, (*blk).r6h);
  (*blk).r7l = fma(vec4<f32>(ah.w), bl, (*blk).r7l);
  (*blk).r7h = fma(vec4<f32>(ah.w), bh, (*blk).r7h);
}

// Where 4 pixels read at one tap: offsets base + row * cols + col into a stack of rows x cols planes,
// and whether (row, col) lies inside the plane. Outside, the offset is 0 (a valid address whatever
// plane is added to it) and the caller zeroes the value with select.
struct Taps {
  off: vec4<u32>,
  ok: vec4<bool>,
}

fn taps(base: vec4<u32>, row: vec4<i32>, col: vec4<i32>, rows: u32, cols: u32) -> Taps {
  let ok = (row >= vec4<i32>()) & (row < vec4<i32>(i32(rows))) & (col >= vec4<i32>()) & (col < vec4<i32>(i32(cols)));
  let off = base + vec4<u32>(row) * cols + vec4<u32>(col);
  return Taps(select(vec4<u32>(), off, ok), ok);
}

// Gathers 4 values at offsets `at`.
fn gather_x(at: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(x[at.x], x[at.y], x[at.z], x[at.w]);
}

fn gather_w(at: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(w[at.x], w[at.y], w[at.z], w[at.w]);
}

fn gather_dy(at: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(dy[at.x], dy[at.y], dy[at.z], dy[at.w]);
}

// Writes row `row` of a block (value j to out[off[j] + row * stride] where ok[j]); rows >= `rows` are skipped.
fn store_row(row: u32, rows: u32, stride: u32, off_l: vec4<u32>, off_h: vec4<u32>, ok_l: vec4<bool>,
             ok_h: vec4<bool>, vl: vec4<f32>, vh: vec4<f32>) {
  if (row >= rows) {
    return;
  }
  let shift = row * stride;
  for (var j = 0u; j < 4u; j++) {
    if (ok_l[j]) {
      out[off_l[j] + shift] = vl[j];
    }
    if (ok_h[j]) {
      out[off_h[j] + shift] = vh[j];
    }
  }
}

fn store_block(blk: Block, row0: u32, rows: u32, stride: u32, off_l: vec4<u32>, off_h: vec4<u32>,
               ok_l: vec4<bool>, ok_h: vec4<bool>, add_l: vec4<f32>, add_h: vec4<f32>) {
  store_row(row0 + 0u, rows, stride, off_l, off_h, ok_l, ok_h, blk.r0l + add_l.x, blk.r0h + add_l.x);
  store_row(row0 + 1u, rows, stride, off_l, off_h, ok_l, ok_h, blk.r1l + add_l.y, blk.r1h + add_l.y);
  store_row(row0 + 2u, rows, stride, off_l, off_h, ok_l, ok_h, blk.r2l + add_l.z, blk.r2h + add_l.z);
  store_row(row0 + 3u, rows, stride, off_l, off_h, ok_l, ok_h, blk.r3l + add_l.w, blk.r3h + add_l.w);
  store_row(row0 + 4u, rows, stride, off_l, off_h, ok_l, ok_h, blk.r4l + add_h.x, blk.r4h + add_h.x);
  store_row(row0 + 5u, rows, stride, off_l, off_h, ok_l, ok_h, blk.r5l + add_h.y, blk.r5h + add_h.y);
  store_row(row0 + 6u, rows, stride, off_l, off_h, ok_l, ok_h, blk.r6l + add_h.z, blk.r6h + add_h.z);
  store_row(row0 + 7u, rows, stride, off_l, off_h, ok_l, ok_h, blk.r7l + add_h.w, blk.r7h + add_h.w);
}

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// Indices first + 4 quad + (0, 1, 2, 3), clamped to `last`.
fn lanes(first: u32, quad: u32, last: u32) -> vec4<u32> {
  return min(vec4<u32>(first + 4u * quad) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
}

// Whether first + 4 quad + (0, 1, 2, 3) < end.
fn in_range(first: u32, quad: u32, end: u32) -> vec4<bool> {
  return vec4<u32>(first + 4u * quad) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(end);
}

// bias[k0 + 4 quad + (0, 1, 2, 3)], or 0 without HAS_BIAS.
fn bias_of(k0: u32, quad: u32) -> vec4<f32> {
  if (!HAS_BIAS) {
    return vec4<f32>();
  }
  let k = lanes(k0, quad, p.k - 1u);
  return vec4<f32>(bias[k.x], bias[k.y], bias[k.z], bias[k.w]);
}

@compute @workgroup_size(WG)
fn conv2d_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  let k_tiles = (p.k + ROWS - 1u) / ROWS;
  let k0 = (t % k_tiles) * ROWS;
  let pix0 = (t / k_tiles) * 8u;
  let pq = p.p * p.q;
  let pixels = p.n * pq;
  if (pix0 >= pixels) {
    return;
  }
  // The thread's 8 output pixels (n, p, q) and the top-left corner of their windows in x.
  let pix_l = lanes(pix0, 0u, pixels - 1u);
  let pix_h = lanes(pix0, 1u, pixels - 1u);
  let img_l = pix_l / pq;
  let img_h = pix_h / pq;
  let at_l = pix_l % pq;
  let at_h = pix_h % pq;
  let base_l = img_l * (p.c * p.h * p.w);
  let base_h = img_h * (p.c * p.h * p.w);
  let top_l = vec4<i32>(at_l / p.q * SH) - i32(PH);
  let top_h = vec4<i32>(at_h / p.q * SH) - i32(PH);
  let left_l = vec4<i32>(at_l % p.q * SW) - i32(PW);
  let left_h = vec4<i32>(at_h % p.q * SW) - i32(PW);
  // Start of each filter w[k, :, :, :] of the thread's output channels, 4 per quad.
  let crs = p.c * R * S;
  let w0 = lanes(k0, 0u, p.k - 1u) * crs;
  let w1 = lanes(k0, 1u, p.k - 1u) * crs;
  let w2 = lanes(k0, 2u, p.k - 1u) * crs;
  let w3 = lanes(k0, 3u, p.k - 1u) * crs;
  let plane = p.h * p.w;
  var top = Block();
  var bottom = Block();
  for (var r = 0u; r < R; r++) {
    for (var s = 0u; s < S; s++) {
      // Without padding every tap of an output pixel is inside the image: the masks fold away.
      let unpadded = vec4<bool>(PH == 0u && PW == 0u);
      let tl = taps(base_l, top_l + i32(r), left_l + i32(s), p.h, p.w);
      let th = taps(base_h, top_h + i32(r), left_h + i32(s), p.h, p.w);
      let ok_l = tl.ok | unpadded;
      let ok_h = th.ok | unpadded;
      var xo = 0u;
      var wo = r * S + s;
      for (var c = 0u; c < p.c; c++) {
        let bl = select(vec4<f32>(), gather_x(tl.off + xo), ok_l);
        let bh = select(vec4<f32>(), gather_x(th.off + xo), ok_h);
        rank1(&top, gather_w(w0 + wo), gather_w(w1 + wo), bl, bh);
        if (ROWS > 8u) {
          rank1(&bottom, gather_w(w2 + wo), gather_w(w3 + wo), bl, bh);
        }
        xo += plane;
        wo += R * S;
      }
    }
  }
  // y[n, k, p, q] = out[n K P Q + k P Q + (p Q + q)]
  let out_l = img_l * (p.k * pq) + at_l;
  let out_h = img_h * (p.k * pq) + at_h;
  let ok_l = in_range(pix0, 0u, pixels);
  let ok_h = in_range(pix0, 1u, pixels);
  store_block(top, k0, p.k, pq, out_l, out_h, ok_l, ok_h, bias_of(k0, 0u), bias_of(k0, 1u));
  if (ROWS > 8u) {
    store_block(bottom, k0 + 8u, p.k, pq, out_l, out_h, ok_l, ok_h, bias_of(k0, 2u), bias_of(k0, 3u));
  }
}

@compute @workgroup_size(WG)
fn conv2d_dgrad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  let c_tiles = (p.c + ROWS - 1u) / ROWS;
  let c0 = (t % c_tiles) * ROWS;
  let pix0 = (t / c_tiles) * 8u;
  let sub = p.sub_h * p.sub_w;
  let pixels = p.n * sub;
  if (pix0 >= pixels) {
    return;
  }
  // The thread's 8 input pixels (n, h, v) = (n, phase_h + SH i, phase_w + SW j), as (n, i, j).
  let pix_l = lanes(pix0, 0u, pixels - 1u);
  let pix_h = lanes(pix0, 1u, pixels - 1u);
  let img_l = pix_l / sub;
  let img_h = pix_h / sub;
  let i_l = vec4<i32>(pix_l % sub / p.sub_w);
  let i_h = vec4<i32>(pix_h % sub / p.sub_w);
  let j_l = vec4<i32>(pix_l % p.sub_w);
  let j_h = vec4<i32>(pix_h % p.sub_w);
  let base_l = img_l * (p.k * p.p * p.q);
  let base_h = img_h * (p.k * p.p * p.q);
  // A[c, (k, r, s)] = w[k, c, r, s]: the offsets of the thread's channels at k = 0, 4 per quad.
  let w0 = lanes(c0, 0u, p.c - 1u) * (R * S);
  let w1 = lanes(c0, 1u, p.c - 1u) * (R * S);
  let w2 = lanes(c0, 2u, p.c - 1u) * (R * S);
  let w3 = lanes(c0, 3u, p.c - 1u) * (R * S);
  let dy_plane = p.p * p.q;
  var top = Block();
  var bottom = Block();
  for (var r = (p.phase_h + PH) % SH; r < R; r += SH) {
    // (h + PH - r) / SH = i + (phase_h + PH - r) / SH, exactly.
    let dr = (i32(p.phase_h + PH) - i32(r)) / i32(SH);
    for (var s = (p.phase_w + PW) % SW; s < S; s += SW) {
      let ds = (i32(p.phase_w + PW) - i32(s)) / i32(SW);
      let tl = taps(base_l, i_l + dr, j_l + ds, p.p, p.q);
      let th = taps(base_h, i_h + dr, j_h + ds, p.p, p.q);
      var yo = 0u;
      var wo = r * S + s;
      for (var k = 0u; k < p.k; k++) {
        let bl = select(vec4<f32>(), gather_dy(tl.off + yo), tl.ok);
        let bh = select(vec4<f32>(), gather_dy(th.off + yo), th.ok);
        rank1(&top, gather_w(w0 + wo), gather_w(w1 + wo), bl, bh);
        if (ROWS > 8u) {
          rank1(&bottom, gather_w(w2 + wo), gather_w(w3 + wo), bl, bh);
        }
        yo += dy_plane;
        wo += p.c * R * S;
      }
    }
  }
  // dx[n, c, h, v] = out[n C H W + c H W + h W + v]
  let out_l = img_l * (p.c * p.h * p.w) + (vec4<u32>(i_l) * SH + p.phase_h) * p.w + vec4<u32>(j_l) * SW + p.phase_w;
  let out_h = img_h * (p.c * p.h * p.w) + (vec4<u32>(i_h) * SH + p.phase_h) * p.w + vec4<u32>(j_h) * SW + p.phase_w;
  let ok_l = in_range(pix0, 0u, pixels);
  let ok_h = in_range(pix0, 1u, pixels);
  store_block(top, c0, p.c, p.h * p.w, out_l, out_h, ok_l, ok_h, vec4<f32>(), vec4<f32>());
  if (ROWS > 8u) {
    store_block(bottom, c0 + 8u, p.c, p.h * p.w, out_l, out_h, ok_l, ok_h, vec4<f32>(), vec4<f32>());
  }
}

@compute @workgroup_size(WG)
fn conv2d_wgrad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = flat_index(gid, nwg);
  let k_tiles = (p.k + ROWS - 1u) / ROWS;
  let c_tiles = (p.c + 7u) / 8u;
  let k0 = (t % k_tiles) * ROWS;
  let c0 = (t / k_tiles % c_tiles) * 8u;
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
  // Offsets of the dy planes dy[0, k, :, :] (4 per quad) and the 8 x planes x[0, c, :, :].
  let plane_y = p.p * p.q;
  let plane_x = p.h * p.w;
  let y0 = lanes(k0, 0u, p.k - 1u) * plane_y;
  let y1 = lanes(k0, 1u, p.k - 1u) * plane_y;
  let y2 = lanes(k0, 2u, p.k - 1u) * plane_y;
  let y3 = lanes(k0, 3u, p.k - 1u) * plane_y;
  let x_l = lanes(c0, 0u, p.c - 1u) * plane_x;
  let x_h = lanes(c0, 1u, p.c - 1u) * plane_x;
  var top = Block();
  var bottom = Block();
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
      let bl = gather_x(x_l + xo);
      let bh = gather_x(x_h + xo);
      rank1(&top, gather_dy(y0 + yo), gather_dy(y1 + yo), bl, bh);
      if (ROWS > 8u) {
        rank1(&bottom, gather_dy(y2 + yo), gather_dy(y3 + yo), bl, bh);
      }
      yo += 1u;
      xo += SW;
    }
  }
  // partial[part, k, c, r, s] = out[part K C R S + k C R S + c R S + tap]
  let crs = p.c * R * S;
  let out_l = part * (p.k * crs) + lanes(c0, 0u, p.c - 1u) * (R * S) + tap;
  let out_h = part * (p.k * crs) + lanes(c0, 1u, p.c - 1u) * (R * S) + tap;
  let ok_l = in_range(c0, 0u, p.c);
  let ok_h = in_range(c0, 1u, p.c);
  store_block(top, k0, p.k, crs, out_l, out_h, ok_l, ok_h, vec4<f32>(), vec4<f32>());
  if (ROWS > 8u) {
    store_block(bottom, k0 + 8u, p.k, crs, out_l, out_h, ok_l, ok_h, vec4<f32>(), vec4<f32>());
  }
}
