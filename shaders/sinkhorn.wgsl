// Sinkhorn-Knopp family: SwAV's `distributed_sinkhorn` (docs/paper-vs-code.md#swav) in the log domain.
//
// Math. scores S [B, K] (row b = sample, column k = prototype; SwAV works on the transpose
// Q = exp(S/ε)ᵀ [K, B], so its "rows" are our columns). Each SwAV step
//   Q ← Q / sum(Q);  repeat n: { Q ← Q / rowsum(Q) / K ;  Q ← Q / colsum(Q) / B } ;  Q ← Q · B
// multiplies Q by a positive factor per prototype or per sample, so after any number of steps
//   Q[b, k] = exp(S[b, k]/ε + a_k + c_b)
// and the steps only update the potentials a [K], c [B]. The global constants 1/sum, 1/K, 1/B, ·B cancel
// (every normalisation is followed by one that rescales the same entries), which leaves, starting from
// c = 0, n times, prototypes (SwAV rows) first, then samples (SwAV columns):
//   a_k ← −log Σ_b exp(S[b, k]/ε + c_b)         (each prototype's mass → 1)
//   c_b ← −log Σ_k exp(S[b, k]/ε + a_k)         (each sample's mass → 1: returned rows sum to 1)
// Each log-sum-exp subtracts its own running max, so no exp overflows or underflows to a zero line
// whatever |S|/ε (SwAV's float32 code relies on |S|/ε ≤ 20); this is exact, unlike a per-sample shift
// of S, which changes SwAV's result after a few iterations. The last sample pass writes Q [B, K].
//
// Bindings (group 0): 0 uniform Params; 1 q [B, K] (read_write, written by the last sample pass);
// 2 scores [B, K]; 3 pot [K + B] (read_write): a in [0, K), c in [K, K + B).
//
// Dispatch: one workgroup of WG threads per line (AXIS 0: prototype k, a column of stride K; AXIS 1:
// sample b, a contiguous row); thread t visits t, t + WG, … with an online (max, sum) log-sum-exp, and
// the WG partial states are merged by a tree in workgroup memory. Lines beyond 65535 fold into y.

struct Params {
  samples: u32,     // B
  protos: u32,      // K
  inv_eps: f32,     // 1 / ε
  _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> q: array<f32>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read_write> pot: array<f32>;

override WG: u32 = 64;
// 0: update a (one workgroup per prototype); 1: update c (one per sample).
override AXIS: u32 = 0;
// First prototype pass: c = 0 (pot is not read).
override FIRST: bool = false;
// Last sample pass: also write Q.
override WRITE: bool = false;

// Running-max start: finite, so that no inf − inf can appear.
const LOWEST: f32 = -3.0e38;

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;

// Flat index into S of element i of line `line`.
fn at(line: u32, i: u32) -> u32 {
  if (AXIS == 0u) {
    return i * p.protos + line;
  }
  return line * p.protos + i;
}

// The other side's potential for element i of the line (c_b for a prototype line, a_k for a sample line).
fn other(i: u32) -> f32 {
  if (AXIS == 0u) {
    if (FIRST) {
      return 0.0;
    }
    return pot[p.protos + i];
  }
  return pot[i];
}

@compute @workgroup_size(WG)
fn potential(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) t: u32) {
  let line = wid.x + wid.y * nwg.x;
  let lines = select(p.samples, p.protos, AXIS == 0u);
  if (line >= lines) {
    return;
  }
  let len = select(p.protos, p.samples, AXIS == 0u);
  var m = LOWEST;
  var s = 0.0;
  for (var i = t; i < len; i += WG) {
    let x = scores[at(line, i)] * p.inv_eps + other(i);
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  red_m[t] = m;
  red_s[t] = s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      let mo = red_m[t + half];
      let mm = max(red_m[t], mo);
      // Empty partial states hold (LOWEST, 0); keep them out of the sum.
      let s0 = select(0.0, red_s[t] * exp(red_m[t] - mm), red_s[t] != 0.0);
      let s1 = select(0.0, red_s[t + half] * exp(mo - mm), red_s[t + half] != 0.0);
      red_m[t] = mm;
      red_s[t] = s0 + s1;
    }
    workgroupBarrier();
  }
  let mine = -(red_m[0] + log(red_s[0]));
  if (t == 0u) {
    pot[select(p.protos + line, line, AXIS == 0u)] = mine;
  }
  if (WRITE && AXIS == 1u) {
    for (var i = t; i < len; i += WG) {
      let j = at(line, i);
      q[j] = exp(scores[j] * p.inv_eps + pot[i] + mine);
    }
  }
}
