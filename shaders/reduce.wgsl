// Reduction family: sum (and mean), max, min, argmax, logsumexp along one axis.
//
// Math: the input is viewed as x[outer, r, inner] (row-major, the reduced axis in the middle), and
//   out[o, i] = R_OP over j in [0, r) of x[o, j, i]
// with R_OP one of
//   0 sum        s = sum_j x            (times `scale`, so mean uses scale = 1/r)
//   1 max        m = max_j x
//   2 min        m = min_j x
//   3 argmax     the smallest j with x[o, j, i] = max_j x[o, j, i], written as i32 bits
//   4 logsumexp  m + log(sum_j exp(x - m)), m = max_j x, combined online as (m, s) pairs:
//                (m1, s1) + (m2, s2) = (m, s1 e^(m1 - m) + s2 e^(m2 - m)), m = max(m1, m2)
//
// Bindings (group 0): 0 uniform Params {outer, r, inner, scale}; 1 out [outer * inner] (read_write);
// 2 x [outer * r * inner].
//
// Two dispatch geometries, chosen by the host from the shape:
//   reduce_tree:   one workgroup of WG threads per output; thread t folds j = t, t + WG, ... and the
//                  WG partial states are combined by a tree in workgroup memory (for long r, few outputs);
//   reduce_serial: one thread per output looping over j (for short r or many outputs; adjacent threads
//                  read adjacent i, so the loads coalesce when inner > 1).
// Outputs (or workgroups) beyond 65535 fold into y: flat = id.x + id.y * num_workgroups.x * width.

struct Params {
  outer: u32,
  r: u32,
  inner: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

override WG: u32 = 64;
override OP: u32 = 0;

// Partial state of a reduction: value (sum or running max), the logsumexp sum, the argmax index.
struct State {
  v: f32,
  s: f32,
  idx: u32,
}

var<workgroup> tree_v: array<f32, WG>;
var<workgroup> tree_s: array<f32, WG>;
var<workgroup> tree_idx: array<u32, WG>;

// Special values are made at run time: WGSL rejects NaN and infinity in constant expressions.
fn from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

fn neg_inf() -> f32 {
  return from_bits(0xff800000u);
}

fn identity() -> State {
  switch OP {
    case 0u: { return State(0.0, 0.0, 0u); }
    case 2u: { return State(from_bits(0x7f800000u), 0.0, 0u); }
    default: { return State(neg_inf(), 0.0, 0xffffffffu); }
  }
}

// NaN propagates as in PyTorch: max, min and logsumexp of a set holding NaN are NaN, and argmax
// takes a NaN as the largest value (its first one). NaN is tested on the bits, which no compiler folds.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn combine(a: State, b: State) -> State {
  let an = is_nan(a.v);
  let bn = is_nan(b.v);
  switch OP {
    case 0u: { return State(a.v + b.v, 0.0, 0u); }
    case 1u: { return State(select(max(a.v, b.v), from_bits(0x7fc00000u), an || bn), 0.0, 0u); }
    case 2u: { return State(select(min(a.v, b.v), from_bits(0x7fc00000u), an || bn), 0.0, 0u); }
    case 3u: {
      if (an && bn) {
        if (b.idx < a.idx) {
          return b;
        }
        return a;
      }
      if (bn) {
        return b;
      }
      if (an) {
        return a;
      }
      if (b.v > a.v || (b.v == a.v && b.idx < a.idx)) {
        return b;
      }
      return a;
    }
    default: {
      if (an || bn) {
        return State(from_bits(0x7fc00000u), 1.0, 0u);
      }
      let m = max(a.v, b.v);
      if (m == neg_inf()) {
        return State(m, 0.0, 0u);
      }
      return State(m, a.s * exp(a.v - m) + b.s * exp(b.v - m), 0u);
    }
  }
}

fn element(o: u32, j: u32, i: u32) -> State {
  let v = x[(o * p.r + j) * p.inner + i];
  return State(v, 1.0, j);
}

fn finish(st: State) -> f32 {
  switch OP {
    case 0u: { return st.v * p.scale; }
    case 3u: { return bitcast<f32>(i32(st.idx)); }
    case 4u: { return st.v + log(st.s); }
    default: { return st.v; }
  }
}

@compute @workgroup_size(WG)
fn reduce_tree(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
  let flat = wid.x + wid.y * nwg.x;
  let valid = flat < p.outer * p.inner;
  let o = flat / max(p.inner, 1u);
  let i = flat % max(p.inner, 1u);
  var st = identity();
  if (valid) {
    for (var j = t; j < p.r; j += WG) {
      st = combine(st, element(o, j, i));
    }
  }
  tree_v[t] = st.v;
  tree_s[t] = st.s;
  tree_idx[t] = st.idx;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      let merged = combine(State(tree_v[t], tree_s[t], tree_idx[t]),
                           State(tree_v[t + half], tree_s[t + half], tree_idx[t + half]));
      tree_v[t] = merged.v;
      tree_s[t] = merged.s;
      tree_idx[t] = merged.idx;
    }
    workgroupBarrier();
  }
  if (t == 0u && valid) {
    out[flat] = finish(State(tree_v[0], tree_s[0], tree_idx[0]));
  }
}

@compute @workgroup_size(WG)
fn reduce_serial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let flat = gid.x + gid.y * nwg.x * WG;
  if (flat >= p.outer * p.inner) {
    return;
  }
  let o = flat / p.inner;
  let i = flat % p.inner;
  var st = identity();
  for (var j = 0u; j < p.r; j++) {
    st = combine(st, element(o, j, i));
  }
  out[flat] = finish(st);
}
