// Augment family: augmented training views built from a dataset that lives on the device, one
// workgroup per output image, all views of a step in ONE dispatch. Each output image b has a plan
// (src/data/augment.ts encodes it, src/data/policies.ts draws it) that says:
//   * which dataset image to read (src);
//   * one affine map, given as its INVERSE (output -> input) in continuous pixel coordinates, where
//     pixel (x, y) covers [x, x+1) x [y, y+1): the geometric ops (flip, pad-and-crop, random resized
//     crop, rotation, shear, translation) composed into a single 3x3 matrix on the host;
//   * up to MAX_OPS photometric ops applied in order (code, parameter);
//   * a Cutout box [y0, y1) x [x0, x1) set to 0 last.
//
// Math, for output image b, channel c, pixel (x, y):
//   (u, v) = Minv (x + 0.5, y + 0.5) - 0.5                       (pixel centres map to pixel centres)
//   s(c)   = bilinear(data[src, c], u, v), taps outside the image read 0 (fill 0 before normalisation)
//   An identity Minv gives u = x, v = y with weights exactly (1, 0): the input comes back bit for bit.
//   Maps that send pixel centres to pixel centres (flips, integer shifts) read the one tap directly.
// Then, in plan order, on the whole image held in workgroup memory (values stay in [0, 1]; every op
// clamps like torchvision on float tensors; gray = 0.2989 r + 0.587 g + 0.114 b; q(v) = floor(255.999 v),
// torchvision's float -> uint8 conversion):
//   1 brightness f:   v = clamp(f v)
//   2 contrast f:     v = clamp(f v + (1 - f) mean(gray))        (per-image mean: a workgroup reduction)
//   3 saturation f:   v = clamp(f v + (1 - f) gray)              (3 channels)
//   4 hue h:          torchvision's rgb -> hsv, h' = (h + shift) mod 1, hsv -> rgb (3 channels)
//   5 grayscale:      every channel = gray                       (3 channels)
//   6 solarize t:     v = v >= t ? 1 - v : v
//   7 posterize bits: v = (q(v) & (0xff << (8 - bits))) / 255    (PIL's uint8 semantics)
//   8 autocontrast:   v = clamp((v - min_c) / (max_c - min_c)), unchanged where max_c == min_c
//   9 equalize:       PIL/torchvision per-channel histogram equalisation of q(v) (256-bin workgroup
//                     histogram; a channel whose step is 0 is left unchanged)
//  10 sharpness f:    v = clamp(f v + (1 - f) blur), blur = (3x3 sum + 4 v) / 13 inside a 1-pixel
//                     border and v on it (torchvision's adjust_sharpness; images of side <= 2 unchanged)
// Finally out[b, c, y, x] = (v' - mean[c]) * inv_std[c], v' = 0 inside the Cutout box.
//
// Bindings (group 0): 0 uniform Params {count, channels, height, width, images, mean, inv_std};
//   1 out [count, C, H, W] f32 (read_write);
//   2 data: the dataset [images, C, H, W] as u32 words: f32 bits (PACKED = false) or four uint8 pixels a
//     word, little-endian, value k meaning k / 255 (PACKED = true);
//   3 plan: first LEVELS / 4 vec4<f32> holding k / 255 for k = 0..255, correctly rounded (SwiftShader's
//     f32 division is off by several ulp, and uint8 levels must convert exactly), then count * PLAN
//     vec4<f32>: (a, b, tx, src), (c, d, ty, nops), (y0, y1, x0, x1), then MAX_OPS (code, param) pairs,
//     two a vec4. u = a X + b Y + tx, v = c X + d Y + ty.
// Dispatch: one workgroup of WG threads per output image (count workgroups, folded into y past the
//   adapter's limit); the image (C H W <= CAP floats) lives in workgroup memory throughout, which takes
//   4 (CAP + 256 CH + 256 + 8 WG + 25) bytes (18 KiB at 32x32x3, WG 64): the host checks the adapter's
//   maxComputeWorkgroupStorageSize before dispatching.
//
// Dataset format: f32 measured faster than u8 on SwiftShader in 5 of 6 cases (by 10-25 % at 32x32x3;
// figures in bench/RESULTS.md, "augment"): the unpacking costs more than the 4x smaller reads save on
// a CPU adapter. f32 is the default (src/data/augment.ts uploadImages); u8 stays available
// for datasets that would not fit as floats (a quarter of the memory), and gives identical batches.

struct Params {
  count: u32,
  channels: u32,
  height: u32,
  width: u32,
  images: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  mean: vec4<f32>,
  inv_std: vec4<f32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> data: array<u32>;
@group(0) @binding(3) var<storage, read> plan: array<vec4<f32>>;

override WG: u32 = 64;
override PACKED: bool = false;
// Workgroup memory sized per image shape (CAP >= C H W floats, CH >= C histogram channels, WG partial
// sums): WGSL zero-initialises it for every workgroup, and on SwiftShader a fixed 28 KiB of it cost more
// than augmenting a 28x28 image (SimAugment views/s 2500 with fixed sizes, 3900 sized).
override CAP: u32 = 4096u;
override CH: u32 = 4u;
const PLAN: u32 = 7u;
const MAX_OPS: u32 = 8u;
const LEVELS: u32 = 256u;

var<workgroup> img: array<f32, CAP>;
// Histograms (4 channels x 256 bins), then the equalisation lookup table in place.
var<workgroup> hist: array<atomic<u32>, CH * 256u>;
// Per-thread partial statistics (sum or min in lo, max in hi), one vec4 = one value per channel.
var<workgroup> part_lo: array<vec4<f32>, WG>;
var<workgroup> part_hi: array<vec4<f32>, WG>;
var<workgroup> stat_lo: vec4<f32>;
var<workgroup> stat_hi: vec4<f32>;
var<workgroup> ops: array<vec2<f32>, MAX_OPS>;
var<workgroup> nops: u32;
// k / 255 for uint8 level k.
var<workgroup> level: array<f32, LEVELS>;

fn fetch(i: u32) -> f32 {
  if (PACKED) {
    return level[(data[i >> 2u] >> ((i & 3u) * 8u)) & 255u];
  }
  return bitcast<f32>(data[i]);
}

// Bilinear sample of one channel plane at pixel-index coordinates (u, v); taps outside the image
// weigh 0. Branch-free (clamped addresses, zeroed weights): SIMD lanes of CPU adapters never diverge.
fn bilinear(base: u32, u_in: f32, v_in: f32) -> f32 {
  // Far outside, every tap is outside: clamping keeps the i32 conversion defined.
  let u = clamp(u_in, -2.0, f32(p.width) + 1.0);
  let v = clamp(v_in, -2.0, f32(p.height) + 1.0);
  let u0 = floor(u);
  let v0 = floor(v);
  let fx = u - u0;
  let fy = v - v0;
  let x = i32(u0);
  let y = i32(v0);
  let w = i32(p.width);
  let h = i32(p.height);
  let wx0 = select(0.0, 1.0 - fx, x >= 0 && x < w);
  let wx1 = select(0.0, fx, x + 1 >= 0 && x + 1 < w);
  let wy0 = select(0.0, 1.0 - fy, y >= 0 && y < h);
  let wy1 = select(0.0, fy, y + 1 >= 0 && y + 1 < h);
  let x0 = u32(clamp(x, 0, w - 1));
  let x1 = u32(clamp(x + 1, 0, w - 1));
  let row0 = base + u32(clamp(y, 0, h - 1)) * p.width;
  let row1 = base + u32(clamp(y + 1, 0, h - 1)) * p.width;
  let top = fetch(row0 + x0) * wx0 + fetch(row0 + x1) * wx1;
  let bottom = fetch(row1 + x0) * wx0 + fetch(row1 + x1) * wx1;
  return top * wy0 + bottom * wy1;
}

fn gray(r: f32, g: f32, b: f32) -> f32 {
  return 0.2989 * r + 0.587 * g + 0.114 * b;
}

fn quant(v: f32) -> u32 {
  return u32(clamp(v, 0.0, 1.0) * 255.999);
}

// torchvision's _rgb2hsv / _hsv2rgb with the hue shifted by `shift`, straight-line.
fn shift_hue(rgb: vec3<f32>, shift: f32) -> vec3<f32> {
  let maxc = max(rgb.r, max(rgb.g, rgb.b));
  let minc = min(rgb.r, min(rgb.g, rgb.b));
  let eqc = maxc == minc;
  let cr = maxc - minc;
  let s = cr / select(maxc, 1.0, eqc);
  let crd = select(cr, 1.0, eqc);
  let rc = (maxc - rgb.r) / crd;
  let gc = (maxc - rgb.g) / crd;
  let bc = (maxc - rgb.b) / crd;
  var h = 4.0 + gc - rc;
  if (maxc == rgb.r) {
    h = bc - gc;
  } else if (maxc == rgb.g) {
    h = 2.0 + rc - bc;
  }
  h = fract(fract(h / 6.0 + 1.0) + shift);
  let v = maxc;
  let i6 = floor(h * 6.0);
  let f = h * 6.0 - i6;
  let pp = clamp(v * (1.0 - s), 0.0, 1.0);
  let qq = clamp(v * (1.0 - s * f), 0.0, 1.0);
  let tt = clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0);
  switch (u32(i6) % 6u) {
    case 0u: { return vec3<f32>(v, tt, pp); }
    case 1u: { return vec3<f32>(qq, v, pp); }
    case 2u: { return vec3<f32>(pp, v, tt); }
    case 3u: { return vec3<f32>(pp, qq, v); }
    case 4u: { return vec3<f32>(tt, pp, v); }
    default: { return vec3<f32>(v, pp, qq); }
  }
}

// Per-pixel colour ops on 3-channel images: saturation (1), hue (2), grayscale (3).
fn color_op(t: u32, kind: u32, param: f32) {
  let plane = p.height * p.width;
  for (var q = t; q < plane; q += WG) {
    let rgb = vec3<f32>(img[q], img[plane + q], img[2u * plane + q]);
    let g = gray(rgb.r, rgb.g, rgb.b);
    var o = vec3<f32>(g);
    if (kind == 1u) {
      o = clamp(param * rgb + (1.0 - param) * g, vec3<f32>(0.0), vec3<f32>(1.0));
    } else if (kind == 2u) {
      o = shift_hue(rgb, param);
    }
    img[q] = o.r;
    img[plane + q] = o.g;
    img[2u * plane + q] = o.b;
  }
}

// stat_lo.x = mean of the grayscale image (the image itself when it has one channel).
fn mean_gray(t: u32) {
  let plane = p.height * p.width;
  var s = 0.0;
  for (var q = t; q < plane; q += WG) {
    if (p.channels == 3u) {
      s += gray(img[q], img[plane + q], img[2u * plane + q]);
    } else {
      s += img[q];
    }
  }
  part_lo[t] = vec4<f32>(s);
  workgroupBarrier();
  if (t == 0u) {
    var total = 0.0;
    for (var k = 0u; k < WG; k++) {
      total += part_lo[k].x;
    }
    stat_lo = vec4<f32>(total / f32(plane));
  }
  workgroupBarrier();
}

// stat_lo / stat_hi = per-channel minimum / maximum.
fn min_max(t: u32) {
  let plane = p.height * p.width;
  var lo = vec4<f32>(3.0e38);
  var hi = vec4<f32>(-3.0e38);
  for (var q = t; q < plane; q += WG) {
    let v = vec4<f32>(img[q], img[min(1u, p.channels - 1u) * plane + q], img[min(2u, p.channels - 1u) * plane + q], img[min(3u, p.channels - 1u) * plane + q]);
    lo = min(lo, v);
    hi = max(hi, v);
  }
  part_lo[t] = lo;
  part_hi[t] = hi;
  workgroupBarrier();
  if (t == 0u) {
    var a = part_lo[0];
    var z = part_hi[0];
    for (var k = 1u; k < WG; k++) {
      a = min(a, part_lo[k]);
      z = max(z, part_hi[k]);
    }
    stat_lo = a;
    stat_hi = z;
  }
  workgroupBarrier();
}

// hist[c * 256 + i] = the equalisation LUT of channel c, or 256 + i where the channel stays unchanged.
fn equalize_lut(t: u32) {
  let plane = p.height * p.width;
  let n = p.channels * plane;
  for (var i = t; i < 256u * p.channels; i += WG) {
    atomicStore(&hist[i], 0u);
  }
  workgroupBarrier();
  for (var r = t; r < p.channels * p.height; r += WG) {
    let h0 = (r / p.height) * 256u;
    for (var e = r * p.width; e < (r + 1u) * p.width; e++) {
      atomicAdd(&hist[h0 + quant(img[e])], 1u);
    }
  }
  workgroupBarrier();
  if (t < p.channels) {
    let h0 = t * 256u;
    var last = 0u;
    for (var i = 0u; i < 256u; i++) {
      let h = atomicLoad(&hist[h0 + i]);
      if (h != 0u) {
        last = h;
      }
    }
    let step = (plane - last) / 255u;
    var cum = 0u;
    for (var i = 0u; i < 256u; i++) {
      let h = atomicLoad(&hist[h0 + i]);
      if (step == 0u) {
        atomicStore(&hist[h0 + i], 256u + i);
      } else {
        atomicStore(&hist[h0 + i], min(255u, (cum + step / 2u) / step));
      }
      cum += h;
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn augment(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = wid.x + wid.y * nwg.x;
  if (b >= p.count) {
    return;
  }
  let plane = p.height * p.width;
  let n = p.channels * plane;
  let s = LEVELS / 4u + b * PLAN;
  for (var k = t; k < LEVELS / 4u; k += WG) {
    let l = plan[k];
    level[4u * k] = l.x;
    level[4u * k + 1u] = l.y;
    level[4u * k + 2u] = l.z;
    level[4u * k + 3u] = l.w;
  }
  workgroupBarrier();
  let r0 = plan[s];
  let r1 = plan[s + 1u];
  if (t == 0u) {
    nops = u32(r1.w);
    for (var k = 0u; k < MAX_OPS / 2u; k++) {
      let pair = plan[s + 3u + k];
      ops[2u * k] = pair.xy;
      ops[2u * k + 1u] = pair.zw;
    }
  }
  let base = u32(r0.w) * n;
  // A thread takes whole rows: integer division per row, not per pixel (scalar and slow on CPUs).
  // Flips and integer shifts (CIFAR crops, evaluation) land on pixel centres: one tap, not four.
  let ku = 0.5 * r0.x + r0.z - 0.5;
  let kv = 0.5 * r1.y + r1.z - 0.5;
  let exact = abs(r0.x) == 1.0 && r0.y == 0.0 && r1.x == 0.0 && abs(r1.y) == 1.0 && fract(ku) == 0.0 && fract(kv) == 0.0;
  for (var r = t; r < p.channels * p.height; r += WG) {
    let src = base + (r / p.height) * plane;
    let Y = f32(r % p.height) + 0.5;
    let u0 = r0.y * Y + r0.z - 0.5;
    let v0 = r1.y * Y + r1.z - 0.5;
    if (exact) {
      let sy = i32(r1.y * (Y - 0.5) + kv);
      let row_in = sy >= 0 && sy < i32(p.height);
      let row = src + u32(clamp(sy, 0, i32(p.height) - 1)) * p.width;
      for (var x = 0u; x < p.width; x++) {
        let sx = i32(r0.x * f32(x) + ku);
        let inside = row_in && sx >= 0 && sx < i32(p.width);
        img[r * p.width + x] = select(0.0, fetch(row + u32(clamp(sx, 0, i32(p.width) - 1))), inside);
      }
    } else {
      for (var x = 0u; x < p.width; x++) {
        let X = f32(x) + 0.5;
        img[r * p.width + x] = bilinear(src, r0.x * X + u0, r1.x * X + v0);
      }
    }
  }
  let count = workgroupUniformLoad(&nops);
  for (var k = 0u; k < count; k++) {
    let op = workgroupUniformLoad(&ops[k]);
    let code = u32(op.x);
    let f = op.y;
    if (code == 3u || code == 4u || code == 5u) {
      color_op(t, code - 2u, f);
    } else if (code == 2u) {
      mean_gray(t);
      let m = stat_lo.x;
      for (var e = t; e < n; e += WG) {
        img[e] = clamp(f * img[e] + (1.0 - f) * m, 0.0, 1.0);
      }
    } else if (code == 8u) {
      min_max(t);
      for (var r = t; r < p.channels * p.height; r += WG) {
        let c = r / p.height;
        let lo = stat_lo[c];
        let range = stat_hi[c] - lo;
        if (range > 0.0) {
          for (var e = r * p.width; e < (r + 1u) * p.width; e++) {
            img[e] = clamp((img[e] - lo) * (1.0 / range), 0.0, 1.0);
          }
        }
      }
    } else if (code == 10u) {
      // Reads neighbours, so the results go through this image's own slice of `out` (each thread reads
      // back only what it wrote), keeping workgroup memory at one image.
      for (var r = t; r < p.channels * p.height; r += WG) {
        let y = r % p.height;
        for (var x = 0u; x < p.width; x++) {
          let e = r * p.width + x;
          let v = img[e];
          var blur = v;
          if (y >= 1u && y + 1u < p.height && x >= 1u && x + 1u < p.width && p.height > 2u && p.width > 2u) {
            let up = e - p.width;
            let down = e + p.width;
            blur = (img[up - 1u] + img[up] + img[up + 1u] + img[e - 1u] + 5.0 * v + img[e + 1u] + img[down - 1u] + img[down] + img[down + 1u]) / 13.0;
          }
          out[b * n + e] = select(clamp(f * v + (1.0 - f) * blur, 0.0, 1.0), v, p.height <= 2u || p.width <= 2u);
        }
      }
      workgroupBarrier();
      for (var r = t; r < p.channels * p.height; r += WG) {
        for (var e = r * p.width; e < (r + 1u) * p.width; e++) {
          img[e] = out[b * n + e];
        }
      }
    } else if (code == 9u) {
      equalize_lut(t);
      for (var r = t; r < p.channels * p.height; r += WG) {
        let h0 = (r / p.height) * 256u;
        for (var e = r * p.width; e < (r + 1u) * p.width; e++) {
          let l = atomicLoad(&hist[h0 + quant(img[e])]);
          if (l < 256u) {
            img[e] = level[l];
          }
        }
      }
    } else {
      for (var e = t; e < n; e += WG) {
        let v = img[e];
        var o = v;
        if (code == 1u) {
          o = clamp(f * v, 0.0, 1.0);
        } else if (code == 6u) {
          o = select(v, 1.0 - v, v >= f);
        } else if (code == 7u) {
          o = level[quant(v) & ((0xffu << (8u - u32(f))) & 0xffu)];
        }
        img[e] = o;
      }
    }
    workgroupBarrier();
  }
  let box = plan[s + 2u];
  for (var r = t; r < p.channels * p.height; r += WG) {
    let c = r / p.height;
    let y = f32(r % p.height);
    let m = p.mean[c];
    let k = p.inv_std[c];
    for (var x = 0u; x < p.width; x++) {
      let e = r * p.width + x;
      let cut = y >= box.x && y < box.y && f32(x) >= box.z && f32(x) < box.w;
      out[b * n + e] = (select(img[e], 0.0, cut) - m) * k;
    }
  }
}
