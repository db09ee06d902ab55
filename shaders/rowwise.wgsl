// Row-wise family over the last axis of a [rows, cols] matrix: softmax, log-softmax, L2 normalisation,
// cross-entropy with integer labels, each forward and backward.
//
// Math (per row x of length cols; g is the upstream gradient):
//   softmax:      y = exp(x - m) / s, m = max x, s = sum exp(x - m)   backward: dx = y * (g - sum(g * y))
//   log-softmax:  y = (x - m) - log s                                 backward: dx = g - exp(y) * sum(g)
//   l2 normalise: y = x / max(|x|, eps)   (torch.nn.functional.normalize)
//                 backward: dx = (g - y (y . g)) / |x|  if |x| > eps, else g / eps
//   cross-entropy per row with label t: loss = log s - (x[t] - m)   (= logsumexp(x) - x[t])
//                 backward: dx = g_row * (softmax(x) - onehot(t)); a label outside [0, cols) gives NaN,
//                 so the loss check of the trainer stops instead of training on garbage.
//
// Bindings (group 0): 0 uniform Params {rows, cols, eps}; 1 out (read_write); 2 x (the input, or the
// saved softmax output y for softmax_backward); 3 g [rows, cols] or labels [rows] (i32); 4 g_row [rows].
//
// Dispatch: one workgroup of WG threads (a power of two) per row; thread t visits columns t, t + WG, ...
// and the row's sums and maxima are combined by a tree in workgroup memory. Rows beyond 65535 fold
// into y: row = wid.x + wid.y * num_workgroups.x; the row index is uniform across a workgroup, so a
// workgroup past the last row returns before any barrier.

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read> g_row: array<f32>;

override WG: u32 = 64;
// softmax_forward / softmax_backward: false = softmax, true = log-softmax.
override LOG: bool = false;

var<workgroup> scratch: array<f32, WG>;

// Sum (or max) of one value per thread over the workgroup; every thread gets the result.
fn workgroup_reduce(v: f32, t: u32, take_max: bool) -> f32 {
  scratch[t] = v;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      let other = scratch[t + half];
      scratch[t] = select(scratch[t] + other, nan_max(scratch[t], other), take_max);
    }
    workgroupBarrier();
  }
  let result = scratch[0];
  workgroupBarrier();
  return result;
}

fn row_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// Special values are made at run time: WGSL rejects NaN and infinity in constant expressions.
fn from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

fn neg_inf() -> f32 {
  return from_bits(0xff800000u);
}

// NaN tested on the bits (comparisons may be folded away by a compiler that assumes no NaN); exp and
// log of NaN are not reliably NaN on every device, so a row holding NaN is made NaN explicitly.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// max that propagates NaN, as PyTorch's reductions.
fn nan_max(a: f32, b: f32) -> f32 {
  return select(max(a, b), from_bits(0x7fc00000u), is_nan(a) || is_nan(b));
}

// Maximum m and shifted sum s = sum exp(x - m) of row `row`, computed by all threads together.
// Keeping them apart (rather than logsumexp = m + log s) keeps x - m exact for large logits.
fn row_max_sum(row: u32, t: u32) -> vec2<f32> {
  let base = row * p.cols;
  var m = neg_inf();
  for (var j = t; j < p.cols; j += WG) {
    m = nan_max(m, x[base + j]);
  }
  m = workgroup_reduce(m, t, true);
  var s = 0.0;
  for (var j = t; j < p.cols; j += WG) {
    s += exp(x[base + j] - m);
  }
  // A row holding NaN: (NaN, NaN), so that every value computed from the row is NaN, as PyTorch's.
  return select(vec2<f32>(m, workgroup_reduce(s, t, false)), vec2<f32>(from_bits(0x7fc00000u)), is_nan(m));
}

@compute @workgroup_size(WG)
fn softmax_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) t: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let base = row * p.cols;
  let ms = row_max_sum(row, t);
  let log_s = log(ms.y);
  for (var j = t; j < p.cols; j += WG) {
    let z = x[base + j] - ms.x;
    out[base + j] = select(select(exp(z) / ms.y, z - log_s, LOG), ms.x, is_nan(ms.x));
  }
}

@compute @workgroup_size(WG)
fn softmax_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) t: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let base = row * p.cols;
  var s = 0.0;
  for (var j = t; j < p.cols; j += WG) {
    s += select(g[base + j] * x[base + j], g[base + j], LOG);
  }
  s = workgroup_reduce(s, t, false);
  for (var j = t; j < p.cols; j += WG) {
    let y = x[base + j];
    out[base + j] = select(y * (g[base + j] - s), g[base + j] - exp(y) * s, LOG);
  }
}

fn row_norm(row: u32, t: u32) -> f32 {
  let base = row * p.cols;
  var s = 0.0;
  for (var j = t; j < p.cols; j += WG) {
    s += x[base + j] * x[base + j];
  }
  return sqrt(workgroup_reduce(s, t, false));
}

@compute @workgroup_size(WG)
fn l2norm_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) t: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let base = row * p.cols;
  let inv = 1.0 / nan_max(row_norm(row, t), p.eps);
  for (var j = t; j < p.cols; j += WG) {
    out[base + j] = x[base + j] * inv;
  }
}

@compute @workgroup_size(WG)
fn l2norm_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) t: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let base = row * p.cols;
  let norm = row_norm(row, t);
  var s = 0.0;
  for (var j = t; j < p.cols; j += WG) {
    s += x[base + j] * g[base + j];
  }
  s = workgroup_reduce(s, t, false);
  // y . g = (x . g) / |x|, so dx = (g - x (x . g) / |x|^2) / |x| above eps.
  let clipped = norm <= p.eps;
  let inv = 1.0 / nan_max(norm, p.eps);
  let proj = select(s * inv * inv, 0.0, clipped);
  for (var j = t; j < p.cols; j += WG) {
    out[base + j] = (g[base + j] - x[base + j] * proj) * inv;
  }
}

@compute @workgroup_size(WG)
fn cross_entropy_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) t: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let ms = row_max_sum(row, t);
  if (t == 0u) {
    let label = labels[row];
    var loss = from_bits(0x7fc00000u);
    if (label >= 0 && u32(label) < p.cols) {
      loss = log(ms.y) - (x[row * p.cols + u32(label)] - ms.x);
    }
    out[row] = select(loss, ms.x, is_nan(ms.x));
  }
}

@compute @workgroup_size(WG)
fn cross_entropy_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) t: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.rows) {
    return;
  }
  let base = row * p.cols;
  let ms = row_max_sum(row, t);
  let label = labels[row];
  let ok = label >= 0 && u32(label) < p.cols;
  for (var j = t; j < p.cols; j += WG) {
    let onehot = select(0.0, 1.0, ok && u32(label) == j);
    let d = g_row[row] * (exp(x[base + j] - ms.x) / ms.y - onehot);
    out[base + j] = select(from_bits(0x7fc00000u), d, ok && !is_nan(ms.x));
  }
}
