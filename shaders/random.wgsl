// Random family: counter-based uniform and normal samples (Philox-4x32-10, Salmon et al. 2011).
//
// Math: element i of a tensor drawn with key (k0, k1) uses the counter (i, 0, 0, 0); ten Philox rounds
// give four independent 32-bit words w0..w3. Then
//   uniform: u = (w0 >> 8) / 2^24 in [0, 1),   out = alpha + (beta - alpha) * u
//   normal:  u1 = ((w0 >> 8) + 1) / 2^24 in (0, 1], u2 = (w1 >> 8) / 2^24,
//            z = sqrt(-2 ln u1) cos(2 pi u2) (Box-Muller),  out = alpha + beta * z
// The stream depends only on (key, i): the same seed gives the same tensor on every device and in
// Node and browsers alike, and no random numbers are uploaded from the CPU.
//
// Bindings (group 0): 0 uniform Params {n, k0, k1, alpha, beta}; 1 out [n] (read_write).
// Dispatch: one thread per element, WG per workgroup, folded into y past 65535 workgroups.

struct Params {
  n: u32,
  k0: u32,
  k1: u32,
  normal: u32,
  alpha: f32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

// High and low 32 bits of the 64-bit product a * b, from 16-bit halves (WGSL has no 64-bit integers).
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lo_lo = a_lo * b_lo;
  let mid1 = a_hi * b_lo;
  let mid2 = a_lo * b_hi;
  let hi_hi = a_hi * b_hi;
  let mid = (lo_lo >> 16u) + (mid1 & 0xffffu) + (mid2 & 0xffffu);
  let hi = hi_hi + (mid1 >> 16u) + (mid2 >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}

fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let p0 = mul_wide(0xD2511F53u, c.x);
    let p1 = mul_wide(0xCD9E8D57u, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

@compute @workgroup_size(WG)
fn sample(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) {
    return;
  }
  let w = philox(vec4<u32>(i, 0u, 0u, 0u), vec2<u32>(p.k0, p.k1));
  let scale = 1.0 / 16777216.0;
  if (p.normal == 0u) {
    out[i] = p.alpha + (p.beta - p.alpha) * f32(w.x >> 8u) * scale;
  } else {
    let u1 = f32((w.x >> 8u) + 1u) * scale;
    let u2 = f32(w.y >> 8u) * scale;
    out[i] = p.alpha + p.beta * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  }
}
