// k-nearest-neighbour family: pairwise squared Euclidean distances of embeddings, one block of rows at a
// time, and per-row neighbourhood statistics with a running top-k selection over the block. The N x N
// matrix never exists: the host loops over row blocks, reusing one [rows, n] block buffer.
//
// Math (x: [n, d] embeddings, labels y: [n]; for block row r the global row is i = r0 + r):
//   dist_block:  out[r, j] = sum_k (x[i, k] - x[j, k])^2        (difference form: exact 0 for duplicates,
//                no cancellation as in |a|^2 + |b|^2 - 2ab, so ties built from equal points stay ties)
//   row_stats, with s = out[r, :] (squared distances) and same(j) = (y[j] == y[i]):
//     stats[i, 0] = sum_{j: same(j)} sqrt(s_j)                 (CAD numerator, self contributes 0)
//     stats[i, 1] = sum_{j != i: same(j)} exp(-T * s_j)         (Gaussian potential, T = GAUSS_T)
//     stats[i, 2] = argmin_{j != i} s_j, ties -> lowest j       (nearest other view, for SAA; u32 bits)
//     stats[i, 3] = #{ j in top-M of {j != i} : same(j) }        (CAC hits; u32 bits)
//   Top-M order: ascending s, ties -> lowest j. The anchor itself is handled on the host (always first).
//
// Top-M selection (M can be ~1000 for 20 000 views, too many for registers): a radix select on the bit
// pattern of s (s >= 0, so u32 order == float order). Four passes over the row, 8 bits each, with a 256-bin
// histogram in workgroup atomics, find the exact M-th smallest value S and `need`, how many of the
// values equal to S belong to the top-M. Then hits = same-label count of {s < S} plus the same-label
// count of the first `need` values equal to S in index order: threads own contiguous column chunks, so
// an exclusive prefix of per-chunk tie counts gives each thread its share in index order.
//
// Bindings (group 0): 0 uniform Params {rows, n, d, r0, m, gauss_t}; dist_block: 1 out [rows, n] (rw),
// 2 x [n, d]; row_stats: 1 stats [n, 4] (rw), 2 block [rows, n], 3 labels [n] (i32).
//
// Dispatch: dist_block (workgroup tiling, for GPUs): TILE x TILE threads per workgroup, grid
// (ceil(n / TILE), ceil(rows / TILE)); each thread owns one output, the k loop walks TILE-wide slabs of
// both row sets staged in workgroup memory.
// dist_block_register (register tiling, for CPU adapters, where barriers are costly; the same trade-off
// as matmul_register): each thread owns a 4 x 4 block held in four vec4 accumulators with plain names (no
// arrays: SwiftShader spills them), loads 4 row values and 4 column values per k, no workgroup memory.
// Workgroup 8 x 8 threads covers 32 x 32 outputs; grid (ceil(n / 32), ceil(rows / 32)). Indices past
// the edge are clamped when loading and skipped when storing. On SwiftShader dist_block measured ~20x
// slower than a matmul of the same size at any TILE (bench/RESULTS.md, "kNN distance tiling").
// row_stats: one workgroup of WG threads per row, rows beyond 65535 folded into y (as rowwise.wgsl).

struct Params {
  rows: u32,
  n: u32,
  d: u32,
  r0: u32,
  m: u32,
  gauss_t: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<storage, read> block: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<i32>;

override TILE: u32 = 16;
override WG: u32 = 64;

var<workgroup> tile_a: array<f32, TILE * TILE>;
var<workgroup> tile_b: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE)
fn dist_block(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col = wid.x * TILE + lid.x;
  let row = wid.y * TILE + lid.y;
  // Rows of the block's tile (global rows r0 + ...) and columns of the tile, both loaded TILE-wide.
  let a_row = p.r0 + wid.y * TILE + lid.y;
  let b_row = wid.x * TILE + lid.y;
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.d; k0 += TILE) {
    let k = k0 + lid.x;
    var va = 0.0;
    var vb = 0.0;
    if (k < p.d && a_row < p.r0 + p.rows) {
      va = x[a_row * p.d + k];
    }
    if (k < p.d && b_row < p.n) {
      vb = x[b_row * p.d + k];
    }
    // Zero padding adds (0 - 0)^2 = 0 to every sum.
    tile_a[lid.y * TILE + lid.x] = va;
    tile_b[lid.y * TILE + lid.x] = vb;
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      let diff = tile_a[lid.y * TILE + kk] - tile_b[lid.x * TILE + kk];
      acc += diff * diff;
    }
    workgroupBarrier();
  }
  if (row < p.rows && col < p.n) {
    out[row * p.n + col] = acc;
  }
}

@compute @workgroup_size(8, 8)
fn dist_block_register(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * 4u;
  let row0 = gid.y * 4u;
  if (col0 >= p.n || row0 >= p.rows) {
    return;
  }
  let last_row = p.r0 + p.rows - 1u;
  let a0 = min(p.r0 + row0, last_row) * p.d;
  let a1 = min(p.r0 + row0 + 1u, last_row) * p.d;
  let a2 = min(p.r0 + row0 + 2u, last_row) * p.d;
  let a3 = min(p.r0 + row0 + 3u, last_row) * p.d;
  let b0 = min(col0, p.n - 1u) * p.d;
  let b1 = min(col0 + 1u, p.n - 1u) * p.d;
  let b2 = min(col0 + 2u, p.n - 1u) * p.d;
  let b3 = min(col0 + 3u, p.n - 1u) * p.d;
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  for (var k = 0u; k < p.d; k++) {
    let b = vec4<f32>(x[b0 + k], x[b1 + k], x[b2 + k], x[b3 + k]);
    let e0 = vec4<f32>(x[a0 + k]) - b;
    let e1 = vec4<f32>(x[a1 + k]) - b;
    let e2 = vec4<f32>(x[a2 + k]) - b;
    let e3 = vec4<f32>(x[a3 + k]) - b;
    c0 += e0 * e0;
    c1 += e1 * e1;
    c2 += e2 * e2;
    c3 += e3 * e3;
  }
  store_dist(row0, col0, c0);
  store_dist(row0 + 1u, col0, c1);
  store_dist(row0 + 2u, col0, c2);
  store_dist(row0 + 3u, col0, c3);
}

fn store_dist(row: u32, col0: u32, v: vec4<f32>) {
  if (row >= p.rows) {
    return;
  }
  let base = row * p.n + col0;
  out[base] = v.x;
  if (col0 + 1u < p.n) {
    out[base + 1u] = v.y;
  }
  if (col0 + 2u < p.n) {
    out[base + 2u] = v.z;
  }
  if (col0 + 3u < p.n) {
    out[base + 3u] = v.w;
  }
}

var<workgroup> sum_a: array<f32, WG>;
var<workgroup> sum_b: array<f32, WG>;
var<workgroup> idx_a: array<u32, WG>;
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> sel_prefix: u32;
var<workgroup> sel_left: u32;

fn from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

// Tree sums of sum_a and sum_b over the workgroup, results in sum_a[0] and sum_b[0].
fn reduce_sums(t: u32) {
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      sum_a[t] += sum_a[t + half];
      sum_b[t] += sum_b[t + half];
    }
    workgroupBarrier();
  }
}

// Lexicographic minimum of (sum_a, idx_a) over the workgroup, result in sum_a[0], idx_a[0].
fn reduce_argmin(t: u32) {
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      let v = sum_a[t + half];
      let j = idx_a[t + half];
      if (v < sum_a[t] || (v == sum_a[t] && j < idx_a[t])) {
        sum_a[t] = v;
        idx_a[t] = j;
      }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn row_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) t: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.rows) {
    return;
  }
  let i = p.r0 + r;
  let base = r * p.n;
  let yi = labels[i];

  // Pass 1: same-class distance sum and Gaussian potential.
  var dsum = 0.0;
  var gsum = 0.0;
  for (var j = t; j < p.n; j += WG) {
    let s = block[base + j];
    if (labels[j] == yi) {
      dsum += sqrt(s);
      if (j != i) {
        gsum += exp(-p.gauss_t * s);
      }
    }
  }
  sum_a[t] = dsum;
  sum_b[t] = gsum;
  workgroupBarrier();
  reduce_sums(t);
  let dist_same = sum_a[0];
  let gauss_same = sum_b[0];
  workgroupBarrier();

  // Pass 2: nearest other view, ties to the lowest index.
  var best = from_bits(0x7f800000u);
  var best_j = 0xffffffffu;
  for (var j = t; j < p.n; j += WG) {
    let s = block[base + j];
    if (j != i && s < best) {
      best = s;
      best_j = j;
    }
  }
  sum_a[t] = best;
  idx_a[t] = best_j;
  workgroupBarrier();
  reduce_argmin(t);
  let nn = idx_a[0];
  workgroupBarrier();

  // Pass 3: radix select of the m-th smallest value over j != i (m <= n - 1 by the host). With m = 0
  // it ends at key 0 with need 0, so nothing is counted.
  if (t == 0u) {
    sel_prefix = 0u;
    sel_left = p.m;
  }
  for (var round = 0u; round < 4u; round++) {
    let shift = 24u - 8u * round;
    // Bits above this pass's byte must match the prefix found so far.
    let high_mask = select(0u, 0xffffffffu << (shift + 8u), shift < 24u);
    for (var b = t; b < 256u; b += WG) {
      atomicStore(&hist[b], 0u);
    }
    workgroupBarrier();
    let prefix = sel_prefix;
    for (var j = t; j < p.n; j += WG) {
      let key = bitcast<u32>(block[base + j]);
      if (j != i && (key & high_mask) == prefix) {
        atomicAdd(&hist[(key >> shift) & 255u], 1u);
      }
    }
    workgroupBarrier();
    if (t == 0u) {
      var left = sel_left;
      var bin = 0u;
      loop {
        let c = atomicLoad(&hist[bin]);
        if (c >= left || bin == 255u) {
          break;
        }
        left -= c;
        bin++;
      }
      sel_prefix = prefix | (bin << shift);
      sel_left = left;
    }
    workgroupBarrier();
  }
  let kth = sel_prefix;
  let need = sel_left;

  // Pass 4: same-label count strictly below the threshold, and ties counted per contiguous chunk.
  let chunk = (p.n + WG - 1u) / WG;
  let lo = min(t * chunk, p.n);
  let hi = min(lo + chunk, p.n);
  var below = 0u;
  var ties = 0u;
  for (var j = lo; j < hi; j++) {
    let key = bitcast<u32>(block[base + j]);
    if (j != i) {
      if (key < kth && labels[j] == yi) {
        below++;
      }
      if (key == kth) {
        ties++;
      }
    }
  }
  idx_a[t] = ties;
  workgroupBarrier();
  if (t == 0u) {
    var run = 0u;
    for (var u = 0u; u < WG; u++) {
      let c = idx_a[u];
      idx_a[u] = run;
      run += c;
    }
  }
  workgroupBarrier();
  var taken = idx_a[t];
  var tie_hits = 0u;
  for (var j = lo; j < hi && taken < need; j++) {
    let key = bitcast<u32>(block[base + j]);
    if (j != i && key == kth) {
      taken++;
      if (labels[j] == yi) {
        tie_hits++;
      }
    }
  }
  workgroupBarrier();
  idx_a[t] = below + tie_hits;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      idx_a[t] += idx_a[t + half];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    stats[i * 4u + 0u] = dist_same;
    stats[i * 4u + 1u] = gauss_same;
    stats[i * 4u + 2u] = bitcast<f32>(nn);
    stats[i * 4u + 3u] = bitcast<f32>(idx_a[0]);
  }
}
