// Batch-norm family: per-channel statistics, the normalising affine map, and its backward.
//
// Math: x is viewed as [n, c, hw] (hw = H * W for 2-d batch norm, 1 for 1-d); channel k holds the
// count = n * hw values x[i, k, s]. With mean and invstd of channel k and optional gamma, beta:
//   y = (x - mean) * invstd * gamma + beta
// Training (stats_train): mean and biased variance of the batch,
//   mean = mean0 + sum(d) / count,  var = (sum(d^2) - sum(d)^2 / count) / count,  d = x - mean0,
// where mean0 = sum(x) / count is a first pass: the "corrected two-pass" algorithm (Chan, Golub and
// LeVeque 1983). The differences d are small and exact when the values are close to their mean, so
// neither mean nor variance suffers the cancellation of E[x^2] - E[x]^2 on data with a large offset.
// The running statistics are updated in place as PyTorch does, with the unbiased variance:
//   running_mean = (1 - m) running_mean + m mean,  running_var = (1 - m) running_var + m var count/(count-1)
// Evaluation (stats_eval): mean = running_mean, var = running_var.
// Either way invstd = 1 / sqrt(var + eps), and the pair (mean, invstd) is saved per channel, so the
// backward pass sees the statistics of its forward even if the running statistics change in between.
// Backward (backward), with xhat = (x - mean) invstd and upstream gradient g:
//   dbeta = sum g,  dgamma = sum g xhat,
//   dx = gamma invstd (g - dbeta / count - xhat dgamma / count)   (training: mean and invstd depend on x)
//   dx = gamma invstd g                                           (evaluation: an affine map of x)
//
// Bindings (group 0), each entry point uses some: 0 uniform Params; 1 out (y or dx, read_write);
// 2 x; 3 g; 4 stats [c] of (mean, invstd); 5 weight (gamma) [c]; 6 bias (beta) [c];
// 7 running_mean, 8 running_var [c] (read_write: updated in place); 9 stats_out [c] (read_write);
// 10 dweight, 11 dbias [c] (read_write).
// Without gamma or beta (HAS_WEIGHT / HAS_BIAS false) the host still binds some buffer there, because
// a binding is part of the pipeline's layout even when only a disabled branch reads it.
//
// Dispatch:
//   stats_train, backward: one workgroup of WG threads per channel (workgroups past 65535 fold into y);
//     thread t visits the channel's elements j = t SPAN, (t + WG) SPAN, ... taking SPAN consecutive ones
//     at each, and the partial sums meet in a tree in workgroup memory. The channel index is uniform
//     across a workgroup, so a workgroup past the last channel returns before any barrier.
//   stats_eval: one thread per channel.  apply: one thread per SPAN consecutive elements of x.
// SPAN is 4 when hw is a multiple of 4 (then four neighbours share their channel and row), else 1: four
// elements a thread measured ~2x faster on SwiftShader, which turns them into vector memory accesses.

struct Params {
  n: u32,
  c: u32,
  hw: u32,
  count: u32,
  momentum: f32,
  eps: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> weight: array<f32>;
@group(0) @binding(6) var<storage, read> bias: array<f32>;
@group(0) @binding(7) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(8) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(9) var<storage, read_write> stats_out: array<vec2<f32>>;
@group(0) @binding(10) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(11) var<storage, read_write> dbias: array<f32>;

override WG: u32 = 64;
override HAS_WEIGHT: bool = false;
override HAS_BIAS: bool = false;
// backward: true for training mode (batch statistics), false for evaluation (running statistics).
override TRAIN: bool = true;
// Consecutive elements per thread: 4 (only when hw % 4 == 0) or 1.
override SPAN: u32 = 1;

var<workgroup> scratch: array<vec2<f32>, WG>;

// Sum of one pair per thread over the workgroup; every thread gets the result.
fn workgroup_sum(v: vec2<f32>, t: u32) -> vec2<f32> {
  scratch[t] = v;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      scratch[t] += scratch[t + half];
    }
    workgroupBarrier();
  }
  let result = scratch[0];
  workgroupBarrier();
  return result;
}

// Walks the elements j = t SPAN, (t + WG) SPAN, ... of one channel without a division per element:
// j = i * hw + s (batch i, position s), and a step of WG SPAN advances i by WG SPAN / hw and s by
// WG SPAN % hw, with one carry.
struct Cursor {
  i: u32,
  s: u32,
}

fn cursor_start(t: u32) -> Cursor {
  return Cursor(t * SPAN / p.hw, t * SPAN % p.hw);
}

fn cursor_next(cur: Cursor) -> Cursor {
  var next = Cursor(cur.i + WG * SPAN / p.hw, cur.s + WG * SPAN % p.hw);
  if (next.s >= p.hw) {
    next.s -= p.hw;
    next.i += 1u;
  }
  return next;
}

// The SPAN values of a binding from flat index e, zero-padded to four.
fn span_x(e: u32) -> vec4<f32> {
  if (SPAN == 4u) {
    return vec4<f32>(x[e], x[e + 1u], x[e + 2u], x[e + 3u]);
  }
  return vec4<f32>(x[e], 0.0, 0.0, 0.0);
}

fn span_g(e: u32) -> vec4<f32> {
  if (SPAN == 4u) {
    return vec4<f32>(g[e], g[e + 1u], g[e + 2u], g[e + 3u]);
  }
  return vec4<f32>(g[e], 0.0, 0.0, 0.0);
}

fn store_span(e: u32, v: vec4<f32>) {
  out[e] = v.x;
  if (SPAN == 4u) {
    out[e + 1u] = v.y;
    out[e + 2u] = v.z;
    out[e + 3u] = v.w;
  }
}

fn span_sum(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

fn element_index(cur: Cursor, k: u32) -> u32 {
  return (cur.i * p.c + k) * p.hw + cur.s;
}

fn channel_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn gamma(k: u32) -> f32 {
  var w = 1.0;
  if (HAS_WEIGHT) {
    w = weight[k];
  }
  return w;
}

@compute @workgroup_size(WG)
fn stats_train(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) t: u32) {
  let k = channel_index(wid, nwg);
  if (k >= p.c) {
    return;
  }
  let count = f32(p.count);
  var s = 0.0;
  var cur = cursor_start(t);
  for (var j = t * SPAN; j < p.count; j += WG * SPAN) {
    s += span_sum(span_x(element_index(cur, k)));
    cur = cursor_next(cur);
  }
  let mean0 = workgroup_sum(vec2<f32>(s, 0.0), t).x / count;
  // Lanes past SPAN hold zeros, not values: masked out of the differences.
  let live = select(vec4<f32>(1.0, 0.0, 0.0, 0.0), vec4<f32>(1.0), SPAN == 4u);
  var d = vec2<f32>(0.0);
  cur = cursor_start(t);
  for (var j = t * SPAN; j < p.count; j += WG * SPAN) {
    let dj = (span_x(element_index(cur, k)) - mean0) * live;
    d += vec2<f32>(span_sum(dj), dot(dj, dj));
    cur = cursor_next(cur);
  }
  d = workgroup_sum(d, t);
  if (t == 0u) {
    let mean = mean0 + d.x / count;
    let variance = max(d.y - d.x * d.x / count, 0.0) / count;
    stats_out[k] = vec2<f32>(mean, 1.0 / sqrt(variance + p.eps));
    let m = p.momentum;
    running_mean[k] = (1.0 - m) * running_mean[k] + m * mean;
    running_var[k] = (1.0 - m) * running_var[k] + m * variance * count / (count - 1.0);
  }
}

@compute @workgroup_size(WG)
fn stats_eval(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= p.c) {
    return;
  }
  stats_out[k] = vec2<f32>(running_mean[k], 1.0 / sqrt(running_var[k] + p.eps));
}

@compute @workgroup_size(WG)
fn apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = (gid.x + gid.y * nwg.x * WG) * SPAN;
  if (e >= p.n * p.c * p.hw) {
    return;
  }
  let k = (e / p.hw) % p.c;
  let st = stats[k];
  var beta = 0.0;
  if (HAS_BIAS) {
    beta = bias[k];
  }
  // x - mean first: exact for values near the mean, where folding the mean into a shift is not.
  store_span(e, (span_x(e) - st.x) * (st.y * gamma(k)) + beta);
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) t: u32) {
  let k = channel_index(wid, nwg);
  if (k >= p.c) {
    return;
  }
  let st = stats[k];
  var sums = vec2<f32>(0.0);
  var cur = cursor_start(t);
  for (var j = t * SPAN; j < p.count; j += WG * SPAN) {
    let e = element_index(cur, k);
    let ge = span_g(e);
    sums += vec2<f32>(span_sum(ge), span_sum(ge * (span_x(e) - st.x) * st.y));
    cur = cursor_next(cur);
  }
  sums = workgroup_sum(sums, t);
  if (t == 0u) {
    dbias[k] = sums.x;
    dweight[k] = sums.y;
  }
  let scale = gamma(k) * st.y;
  let mean_g = sums.x / f32(p.count);
  let mean_gx = sums.y / f32(p.count);
  cur = cursor_start(t);
  for (var j = t * SPAN; j < p.count; j += WG * SPAN) {
    let e = element_index(cur, k);
    if (TRAIN) {
      store_span(e, scale * (span_g(e) - mean_g - (span_x(e) - st.x) * st.y * mean_gx));
    } else {
      store_span(e, scale * span_g(e));
    }
    cur = cursor_next(cur);
  }
}
