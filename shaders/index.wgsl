// Indexing family: gather (index-select) along an axis, its adjoint scatter-add, and one-hot.
//
// Math, with the tensor viewed as [outer, rows, inner] around the indexed axis and idx[j] an i32 index:
//   gather:      out[o, j, i] = x[o, idx[j], i]                      (out: [outer, n_idx, inner])
//   scatter_add: out[o, r, i] = sum over j with idx[j] = r of src[o, j, i]   (out: [outer, rows, inner])
//   one_hot:     out[n, c]    = 1 if idx[n] = c else 0               (out: [n_idx, rows])
// scatter_add is the gradient of gather, and with class labels as idx it gives per-class sums.
// Each output element is owned by one thread that scans idx, so the sum order is fixed and results are
// bitwise reproducible run to run (no float atomics, which WGSL lacks anyway). The cost is
// outer * rows * inner * n_idx, which suits the class-sized `rows` it is used for.
// An index outside [0, rows) makes gather write NaN and is skipped by scatter_add and one_hot.
//
// Bindings (group 0): 0 uniform Params {outer, rows, inner, n_idx}; 1 out (read_write); 2 x or src;
// 3 idx (i32).
//
// Dispatch: one thread per output element, WG per workgroup, folded into y past 65535 workgroups.

struct Params {
  outer: u32,
  rows: u32,
  inner: u32,
  n_idx: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> idx: array<i32>;

override WG: u32 = 256;

// Special values are made at run time: WGSL rejects NaN and infinity in constant expressions.
fn from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let f = flat_index(gid, nwg);
  if (f >= p.outer * p.n_idx * p.inner) {
    return;
  }
  let i = f % p.inner;
  let j = (f / p.inner) % p.n_idx;
  let o = f / (p.inner * p.n_idx);
  let r = idx[j];
  if (r < 0 || u32(r) >= p.rows) {
    out[f] = from_bits(0x7fc00000u);
    return;
  }
  out[f] = x[(o * p.rows + u32(r)) * p.inner + i];
}

@compute @workgroup_size(WG)
fn scatter_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let f = flat_index(gid, nwg);
  if (f >= p.outer * p.rows * p.inner) {
    return;
  }
  let i = f % p.inner;
  let r = i32((f / p.inner) % p.rows);
  let o = f / (p.inner * p.rows);
  var s = 0.0;
  for (var j = 0u; j < p.n_idx; j++) {
    if (idx[j] == r) {
      s += x[(o * p.n_idx + j) * p.inner + i];
    }
  }
  out[f] = s;
}

@compute @workgroup_size(WG)
fn one_hot(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let f = flat_index(gid, nwg);
  if (f >= p.n_idx * p.rows) {
    return;
  }
  out[f] = select(0.0, 1.0, idx[f / p.rows] == i32(f % p.rows));
}
