// MoCo family: the FIFO write of a MoCo / PaCo key queue (docs/paper-vs-code.md#moco), and the key
// encoder's EMA.
//
// Math.
//   enqueue:    dst[((ptr + i) mod Q)·W + w] = src[i·W + w]   for rows i < N ≤ Q, words w < W
//               (a bit copy of 32-bit words, so f32 keys and i32 labels go through the same entry;
//               rows past the end of the queue wrap around to its start)
//   ema_update: θ_k[i] = m·θ_k[i] + (1 − m)·θ_q[i]             (MoCo `_momentum_update_key_encoder`)
//
// Bindings (group 0): 0 uniform Params {n, words, rows, ptr, m}; enqueue: 1 dst (read_write u32),
// 2 src (u32); ema_update: 1 key parameter (read_write), 2 query parameter, both bitcast from the u32
// words (f32 values, so the EMA is plain float arithmetic).
// Dispatch: one thread per copied word (enqueue, n = N·W) or per element (ema_update), 256 per
// workgroup, folded into y past 65535 workgroups.

struct Params {
  n: u32,       // threads with work: N·W words, or the parameter's element count
  words: u32,   // W
  rows: u32,    // Q
  ptr: u32,     // first queue row written
  m: f32,       // EMA momentum
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<u32>;

const WG: u32 = 256u;

@compute @workgroup_size(WG)
fn enqueue(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n) {
    return;
  }
  let row = idx / p.words;
  let w = idx % p.words;
  dst[((p.ptr + row) % p.rows) * p.words + w] = src[idx];
}

@compute @workgroup_size(WG)
fn ema_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) {
    return;
  }
  let k = bitcast<f32>(dst[i]);
  let qv = bitcast<f32>(src[i]);
  dst[i] = bitcast<u32>(p.m * k + (1.0 - p.m) * qv);
}
