// Pooling family: 2-d max and average pooling over the spatial axes of NCHW tensors, forward and backward.
//
// Math: each of the planes = N * C planes [h, w] is pooled independently. Output (oy, ox) covers the
// window of input rows oy * sy - py + [0, ky) and columns ox * sx - px + [0, kx); positions outside the
// input are padding.
//   max:  y = max over the window (padding counts as -inf); argmax = h * w_in + w of the first maximum
//         in row-major window order, saved for backward. The host keeps py <= ky / 2 and px <= kx / 2
//         (as PyTorch), so every window holds at least one input position.
//   avg:  y = sum over the window / divisor, divisor = ky * kx (COUNT_PAD, PyTorch's default
//         count_include_pad) or the number of input positions in the window.
// Backward (gathered, one thread per input element, so no atomics and a deterministic order): an input
// position (h, w) lies in the windows of rows oy with oy * sy - py <= h < oy * sy - py + ky, i.e.
//   ceil((h + py - ky + 1) / sy) <= oy <= floor((h + py) / sy), clipped to [0, ho), and likewise ox;
//   max: dx[h, w] = sum of g over those outputs whose argmax is (h, w);
//   avg: dx[h, w] = sum of g / divisor over those outputs.
// max_backward_tiled, when the windows tile the input exactly (stride = kernel, no padding,
// h = ho * ky, w = wo * kx): every input lies in exactly one window, so one thread per output writes its
// whole window, g at the argmax and 0 elsewhere. Same result, without the per-input search (measured
// ~4x faster on SwiftShader for 2x2 windows).
//
// Bindings (group 0): 0 uniform Params; 1 out (y or dx, read_write); 2 x (forward) or g (backward);
// 3 argmax, i32 [planes, ho, wo] (written by max_forward, read by max_backward).
//
// Dispatch: one thread per output element (forward, max_backward_tiled) or input element (other
// backward), WG per workgroup;
// grids wider than 65535 workgroups fold into y: flat = gid.x + gid.y * num_workgroups.x * WG.

struct Params {
  planes: u32,
  h: i32,
  w: i32,
  ho: i32,
  wo: i32,
  ky: i32,
  kx: i32,
  sy: i32,
  sx: i32,
  py: i32,
  px: i32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax_out: array<i32>;
@group(0) @binding(3) var<storage, read> argmax: array<i32>;

override WG: u32 = 256;
// avg_*: true to divide by the whole window (padding included), false by the input positions in it.
override COUNT_PAD: bool = true;

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// Special values are made at run time (the bits pass through a function parameter): WGSL rejects NaN
// and infinity in constant expressions.
fn from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

fn neg_inf() -> f32 {
  return from_bits(0xff800000u);
}

// The part of the window of output (oy, ox) inside the input: rows [y0, y1), columns [x0, x1).
struct Window {
  y0: i32,
  y1: i32,
  x0: i32,
  x1: i32,
}

fn window(oy: i32, ox: i32) -> Window {
  let top = oy * p.sy - p.py;
  let left = ox * p.sx - p.px;
  return Window(max(top, 0), min(top + p.ky, p.h), max(left, 0), min(left + p.kx, p.w));
}

fn divisor(win: Window) -> f32 {
  if (COUNT_PAD) {
    return f32(p.ky * p.kx);
  }
  return f32((win.y1 - win.y0) * (win.x1 - win.x0));
}

// The outputs whose windows hold input position (h, w): rows [oy0, oy1], columns [ox0, ox1].
struct Range {
  oy0: i32,
  oy1: i32,
  ox0: i32,
  ox1: i32,
}

// max(ceil(a / b), 0) for b > 0: the first output index, clipped to the grid.
fn ceil_div(a: i32, b: i32) -> i32 {
  return select(0, (a + b - 1) / b, a > 0);
}

fn outputs_of(h: i32, w: i32) -> Range {
  return Range(ceil_div(h + p.py - p.ky + 1, p.sy), min((h + p.py) / p.sy, p.ho - 1),
               ceil_div(w + p.px - p.kx + 1, p.sx), min((w + p.px) / p.sx, p.wo - 1));
}

// Output o's window, and where its plane starts in the input.
struct OutputSite {
  win: Window,
  base: u32,
}

fn output_site(o: u32) -> OutputSite {
  let per_plane = u32(p.ho * p.wo);
  let at = i32(o % per_plane);
  return OutputSite(window(at / p.wo, at % p.wo), (o / per_plane) * u32(p.h * p.w));
}

// Input i's position in its plane, the outputs whose windows hold it, and where its plane starts in the
// output.
struct InputSite {
  at: i32,
  r: Range,
  base: u32,
}

fn input_site(i: u32) -> InputSite {
  let per_plane = u32(p.h * p.w);
  let at = i32(i % per_plane);
  return InputSite(at, outputs_of(at / p.w, at % p.w), (i / per_plane) * u32(p.ho * p.wo));
}

fn outputs_end() -> u32 {
  return p.planes * u32(p.ho * p.wo);
}

fn inputs_end() -> u32 {
  return p.planes * u32(p.h * p.w);
}

@compute @workgroup_size(WG)
fn max_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = flat_index(gid, nwg);
  if (o >= outputs_end()) {
    return;
  }
  let site = output_site(o);
  let win = site.win;
  let base = site.base;
  var best = neg_inf();
  var best_at = win.y0 * p.w + win.x0;
  for (var yy = win.y0; yy < win.y1; yy++) {
    for (var xx = win.x0; xx < win.x1; xx++) {
      let v = src[base + u32(yy * p.w + xx)];
      // Strictly greater: the first maximum in row-major order wins ties; a NaN always takes the
      // place (so the window's NaN comes out, at its last position), as PyTorch's max_pool2d.
      if (v > best || (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) {
        best = v;
        best_at = yy * p.w + xx;
      }
    }
  }
  out[o] = best;
  argmax_out[o] = best_at;
}

@compute @workgroup_size(WG)
fn max_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= inputs_end()) {
    return;
  }
  let site = input_site(i);
  let r = site.r;
  let base = site.base;
  var s = 0.0;
  for (var oy = r.oy0; oy <= r.oy1; oy++) {
    for (var ox = r.ox0; ox <= r.ox1; ox++) {
      let o = base + u32(oy * p.wo + ox);
      if (argmax[o] == site.at) {
        s += src[o];
      }
    }
  }
  out[i] = s;
}

@compute @workgroup_size(WG)
fn max_backward_tiled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = flat_index(gid, nwg);
  if (o >= outputs_end()) {
    return;
  }
  let site = output_site(o);
  let win = site.win;
  let base = site.base;
  let at = argmax[o];
  let grad = src[o];
  for (var yy = win.y0; yy < win.y1; yy++) {
    for (var xx = win.x0; xx < win.x1; xx++) {
      let here = yy * p.w + xx;
      out[base + u32(here)] = select(0.0, grad, here == at);
    }
  }
}

@compute @workgroup_size(WG)
fn avg_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = flat_index(gid, nwg);
  if (o >= outputs_end()) {
    return;
  }
  let site = output_site(o);
  let win = site.win;
  let base = site.base;
  var s = 0.0;
  for (var yy = win.y0; yy < win.y1; yy++) {
    for (var xx = win.x0; xx < win.x1; xx++) {
      s += src[base + u32(yy * p.w + xx)];
    }
  }
  out[o] = s / divisor(win);
}

@compute @workgroup_size(WG)
fn avg_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= inputs_end()) {
    return;
  }
  let site = input_site(i);
  let r = site.r;
  let base = site.base;
  var s = 0.0;
  for (var oy = r.oy0; oy <= r.oy1; oy++) {
    for (var ox = r.ox0; ox <= r.ox1; ox++) {
      s += src[base + u32(oy * p.wo + ox)] / divisor(window(oy, ox));
    }
  }
  out[i] = s;
}
