// Elementwise family: unary maps, broadcasting binary ops, select (where), fill.
//
// Math (i runs over the n elements of the iteration shape, c(i) its coordinates):
//   unary:  out[o(i)] = f_OP(a[a(i)]; alpha, beta)
//   binary: out[o(i)] = g_OP(a[a(i)], b[b(i)])
//   select: out[o(i)] = c[c(i)] != 0 ? a[a(i)] : b[b(i)]
//   copy_bits: out[o(i)] = a[a(i)] as raw 32-bit words (integer tensors)
//   fill:   out[o(i)] = alpha + beta * i
// where x(i) = offset_x + sum_d c_d(i) * stride_x[d]. A stride of 0 broadcasts a dimension, so one
// strided copy kernel also gives expand, permute/transpose, slice and writing into a slice (concat).
//
// Bindings (group 0): 0 uniform Params; 1 out (read_write); 2 a; 3 b; 4 c (each entry point binds only
// the ones it uses). All storage is declared f32; integer tensors are read through bitcast (A_INT,
// B_INT, C_INT) and converted exactly for |v| < 2^24, which covers labels and indices.
//
// Dispatch: 1-D with WG threads per workgroup, each thread taking SPAN consecutive elements (SPAN = 4
// when STRIDED is false, 1 otherwise), so ceil(n / SPAN) threads; grids wider than 65535 workgroups are
// folded into y, so the thread index is gid.x + gid.y * num_workgroups.x * WG. When STRIDED is false
// every operand is contiguous with the output and the coordinate arithmetic is skipped; four
// neighbouring elements a thread measured 2-3x faster on SwiftShader than one (it turns them into
// vector memory accesses), and costs GPUs nothing on bandwidth-bound maps. Otherwise the host has merged
// dims where it could and right-aligned the RANK remaining ones in eight slots (slot 7 innermost):
// shape[s] is the size of slot s and strides[s] = (out, a, b, c) its stride in each operand. The slots
// are peeled in straight-line code, not a loop over a dynamic index: CPU adapters (SwiftShader's
// Subzero JIT) spill dynamically indexed values to memory, which measured ~10x slower.

struct Params {
  n: u32,
  _pad: u32,
  offset_out: u32,
  offset_a: u32,
  alpha: f32,
  beta: f32,
  offset_b: u32,
  offset_c: u32,
  shape: array<vec4<u32>, 2>,
  strides: array<vec4<u32>, 8>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> c: array<f32>;
// copy_bits moves integer tensors as raw words: a float move could flush their small values as denormals.
@group(0) @binding(1) var<storage, read_write> out_bits: array<u32>;
@group(0) @binding(2) var<storage, read> a_bits: array<u32>;

override WG: u32 = 256;
override OP: u32 = 0;
override STRIDED: bool = false;
override RANK: u32 = 1;
// Consecutive elements per thread: 1 or 4.
override SPAN: u32 = 1;
override A_INT: bool = false;
override B_INT: bool = false;
override C_INT: bool = false;
// The unary cast to int writes integer bits into the f32-typed output.
override OUT_INT: bool = false;

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// Moves the coordinate of one slot out of `rem` into the four offsets.
fn peel(rem: ptr<function, u32>, o: ptr<function, vec4<u32>>, size: u32, stride: vec4<u32>) {
  let coord = *rem % size;
  *rem = *rem / size;
  *o += coord * stride;
}

// Offsets of element i in out, a, b, c (x = out, y = a, z = b, w = c).
fn offsets(i: u32) -> vec4<u32> {
  var o = vec4<u32>(p.offset_out, p.offset_a, p.offset_b, p.offset_c);
  if (!STRIDED) {
    return o + vec4<u32>(i);
  }
  var rem = i;
  peel(&rem, &o, p.shape[1].w, p.strides[7]);
  if (RANK > 1u) { peel(&rem, &o, p.shape[1].z, p.strides[6]); }
  if (RANK > 2u) { peel(&rem, &o, p.shape[1].y, p.strides[5]); }
  if (RANK > 3u) { peel(&rem, &o, p.shape[1].x, p.strides[4]); }
  if (RANK > 4u) { peel(&rem, &o, p.shape[0].w, p.strides[3]); }
  if (RANK > 5u) { peel(&rem, &o, p.shape[0].z, p.strides[2]); }
  if (RANK > 6u) { peel(&rem, &o, p.shape[0].y, p.strides[1]); }
  if (RANK > 7u) { peel(&rem, &o, p.shape[0].x, p.strides[0]); }
  return o;
}

fn load(x: f32, is_int: bool) -> f32 {
  if (is_int) {
    return f32(bitcast<i32>(x));
  }
  return x;
}

// Special values are made at run time: WGSL rejects NaN and infinity in constant expressions.
fn from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

fn nan() -> f32 {
  return from_bits(0x7fc00000u);
}

// NaN tested on the bits: comparisons alone may be folded away by a compiler that assumes no NaN.
fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// x^y with the real-valued conventions of C's pow: negative bases need an integer exponent.
fn pow_real(x: f32, y: f32) -> f32 {
  if (y == 0.0) {
    return 1.0;
  }
  if (x == 0.0) {
    return select(0.0, from_bits(0x7f800000u), y < 0.0);
  }
  if (x > 0.0) {
    return exp2(y * log2(x));
  }
  if (y != trunc(y)) {
    return nan();
  }
  let m = exp2(y * log2(-x));
  return select(m, -m, (abs(y) % 2.0) == 1.0);
}

fn unary_op(x: f32) -> f32 {
  switch OP {
    case 0u: { return x; }                                   // copy
    case 1u: { return -x; }                                  // neg
    case 2u: { return exp(x); }                              // exp
    case 3u: { return log(x); }                              // log
    case 4u: { return sqrt(x); }                             // sqrt
    case 5u: { return inverseSqrt(x); }                      // rsqrt
    case 6u: { return select(x, 0.0, x < 0.0); }             // relu; NaN stays NaN, as PyTorch
    case 7u: { return abs(x); }                              // abs
    case 8u: {                                               // sigmoid, without overflow for either sign
      let e = exp(-abs(x));
      return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
    }
    case 9u: {                                               // tanh = sign(x) (1 - e^-2|x|) / (1 + e^-2|x|)
      let e = exp(-2.0 * abs(x));
      return sign(x) * (1.0 - e) / (1.0 + e);
    }
    case 10u: { return x * x; }                              // square
    case 11u: { return fma(p.alpha, x, p.beta); }            // affine alpha * x + beta
    case 12u: { return pow_real(x, p.alpha); }               // x^alpha
    case 13u: { return sign(x); }                            // sign
    case 14u: { return trunc(x); }                           // toward zero, before the cast to int
    default: { return nan(); }
  }
}

fn binary_op(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return pow_real(x, y); }
    case 5u: { return select(max(x, y), nan(), is_nan(x) || is_nan(y)); }   // maximum: NaN wins, as PyTorch
    case 6u: { return select(min(x, y), nan(), is_nan(x) || is_nan(y)); }   // minimum
    case 7u: { return select(0.0, 1.0, x == y); }
    case 8u: { return select(0.0, 1.0, x != y || is_nan(x) || is_nan(y)); }   // ne: true for NaN
    case 9u: { return select(0.0, 1.0, x < y); }
    case 10u: { return select(0.0, 1.0, x <= y); }
    case 11u: { return select(0.0, 1.0, x > y); }
    case 12u: { return select(0.0, 1.0, x >= y); }
    case 13u: { return select(0.0, x, y > 0.0); }            // relu backward: g * [x > 0]
    default: { return nan(); }
  }
}

fn unary_at(i: u32) {
  if (i < p.n) {
    let o = offsets(i);
    let y = unary_op(load(a[o.y], A_INT));
    out[o.x] = select(y, bitcast<f32>(i32(y)), OUT_INT);
  }
}

fn binary_at(i: u32) {
  if (i < p.n) {
    let o = offsets(i);
    out[o.x] = binary_op(load(a[o.y], A_INT), load(b[o.z], B_INT));
  }
}

fn select_at(i: u32) {
  if (i < p.n) {
    let o = offsets(i);
    out[o.x] = select(load(b[o.z], B_INT), load(a[o.y], A_INT), load(c[o.w], C_INT) != 0.0);
  }
}

fn fill_at(i: u32) {
  if (i < p.n) {
    out[p.offset_out + i] = fma(p.beta, f32(i), p.alpha);
  }
}

fn copy_bits_at(i: u32) {
  if (i < p.n) {
    let o = offsets(i);
    out_bits[o.x] = a_bits[o.y];
  }
}

// The entry points run their element function on the thread's SPAN elements, written out rather than
// looped: SwiftShader's Subzero JIT does not unroll loops.
@compute @workgroup_size(WG)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg) * SPAN;
  unary_at(i);
  if (SPAN == 4u) {
    unary_at(i + 1u);
    unary_at(i + 2u);
    unary_at(i + 3u);
  }
}

@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg) * SPAN;
  binary_at(i);
  if (SPAN == 4u) {
    binary_at(i + 1u);
    binary_at(i + 2u);
    binary_at(i + 3u);
  }
}

@compute @workgroup_size(WG)
fn select_where(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg) * SPAN;
  select_at(i);
  if (SPAN == 4u) {
    select_at(i + 1u);
    select_at(i + 2u);
    select_at(i + 3u);
  }
}

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg) * SPAN;
  fill_at(i);
  if (SPAN == 4u) {
    fill_at(i + 1u);
    fill_at(i + 2u);
    fill_at(i + 3u);
  }
}

@compute @workgroup_size(WG)
fn copy_bits(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg) * SPAN;
  copy_bits_at(i);
  if (SPAN == 4u) {
    copy_bits_at(i + 1u);
    copy_bits_at(i + 2u);
    copy_bits_at(i + 3u);
  }
}
