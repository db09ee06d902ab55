// Contrastive-loss family (SupCon, NT-Xent, BCL and its L1/L3 variants, SupMin, SupProto; BCL's L2 is
// not a weighted log-sum-exp of single logits and is composed from generic ops instead): the masked
// row statistics of a similarity block and their backward. The dot products themselves come from the
// engine's matmul; this file only sees them.
//
// Math. The contrast set is [samples | extra] where the samples are the B·V rows of the features taken
// sample-major (row r = sample r / V, view r % V; the losses are sums over anchors and columns, so this
// gives the official view-major values), and the extra columns are K prototypes (later: a queue) with
// their own labels. The blocks hold raw dot products of the anchors only: G = X_A Xᵀ [A, NS] and
// E = X_A Pᵀ [A, NE], R = B·V, NS = R or 0. Anchor a is sample row r = a·STRIDE (STRIDE = 1: every view,
// contrast_mode 'all', X_A = X; STRIDE = V: view 0 only, so 'one' multiplies B rows, not R, by Xᵀ), and
// its dot products are block row a. With x_j = (G or E)[a, j] / T, a weight w_rj ≥ 0 (0 drops the column
// from the denominator; the self column j = r is always dropped) and a positive indicator p_rj:
//   logden_r = log Σ_j w_rj exp(x_j)          computed as m + log Σ w exp(x − m), m = max over w ≠ 0
//   n_r      = Σ_j p_rj
//   loss_r   = −scale · (Σ_j p_rj x_j / n_r − logden_r)          (0, or NaN with NAN_EMPTY, if n_r = 0)
//   backward, with upstream g_r:  d(G or E)[a, j] = g_r · scale / T · (w_rj exp(x_j − logden_r) − p_rj / n_r)
// MODE picks p and w on the sample columns (y = sample labels, s(j) = j / V):
//   0 labels:   p = [y_r = y_j]                 (SupCon, BCL)
//   1 pairs:    p = [s(r) = s(j)]               (NT-Xent; also SupProto's sample part)
//   2 minority: p = [s(r) = s(j)] or [y_r = y_j = MINORITY]   (SupMin, docs/paper-vs-code.md TC-1)
//   3 proto:    p = [s(r) = s(j)]; extra columns: w = 0 and p = [label_k = y_r] and the anchor is pulled:
//               E[a, y_r] ≤ E[a, 1 − y_r] + eps_{y_r} on raw cosines (SupProto, TC-3/TC-4, K = 2)
// Extra columns otherwise: p = [label_k = y_r], w = 1. CLASS_AVG (BCL, BCL-1/BCL-2) divides every weight
// by the size of its column's class, minus one for the anchor's own class: w = 1 / (cnt[c] − p), where
// cnt[c] = V · #{labels = c} + #{extra labels = c} (class_counts below). Labels outside [0, K) where
// they index cnt (or y ∉ {0, 1} for SupProto) turn that anchor's loss and gradient row into NaN.
//
// Guide: one loss at a time. Every loss is the formula above for one anchor,
//   loss_r = −scale · (1/n_r) Σ_j p_rj · log( exp(x_j) / Σ_j' w_rj' exp(x_j') ),   x_j = dot_j · inv_t,
// and a loss is a choice of columns (G alone, G and E, or E alone), of the weights w, of the positives p
// and of scale. In the code: τ = 1 / p.inv_t; the column triple (x, w, p) is (c.x, c.y, c.z), made by
// sample_column (j < ns) or extra_column (k = j − ns); row_stats turns the running max m and shifted sum
// s into logden, sums pos_sum = Σ p x and npos = n, and writes loss_r to out[a]; grad_block is the
// backward line above. The flags and weights below are what src/losses/contrastive.ts passes through
// contrastiveRows (src/ops/contrastive.ts: rule → MODE, classAverage → CLASS_AVG, temperature → inv_t).
//
// SupCon, `supCon` (Khosla et al. Eq. 2; SupContrast's SupConLoss):
//   L_i = −(τ/τ_base) · 1/|P(i)| Σ_{p∈P(i)} log( exp(z_i·z_p/τ) / Σ_{a≠i} exp(z_i·z_a/τ) )
//   Flags: MODE = 0 (rule 'labels'), CLASS_AVG = false, no extra columns (ne = 0), stride = 1
//   (contrastMode 'all') or V ('one'), scale = τ/τ_base, NAN_EMPTY = (noPositives == 'nan').
//   z_i·z_a = G[a, j], G = X Xᵀ over the V·B views (sample-major). a ≠ i: sample_column gives the
//   anchor's own column j = r the weight w = 0 and p = 0; every other column has w = 1 (class_weight
//   returns 1 without CLASS_AVG). P(i): `case 0u` of the switch in sample_column, p = [y_r = y_j].
//   Without labels (SimCLR mode, `ntXent`) MODE = 1 (rule 'pairs'): the `default` branch, P(i) = the
//   sample's other views.
//
// BCL, `bcl` with variant 'bcl' (Zhu et al. Eq. 9; BCL's BalSCL):
//   L_i = −1/|B_y| Σ_{p∈(B_y∖{i})∪{c_y}} log( exp(z_i·z_p/τ) / Σ_{j∈Y} 1/(|B_j|+1) Σ_{k∈B_j∪{c_j}} exp(z_i·z_k/τ) )
//   with B_j the batch's views (not samples) of class j and c_j its prototype.
//   Flags: MODE = 0, CLASS_AVG = true, classes = K, scale = 1 (no τ/τ_base), stride = 1. The prototypes
//   are the extra columns: E = X Cᵀ [R, K], extra labels = prototypeLabels (default 0..K−1).
//   The weights: class_counts writes cnt[c] = V·#{labels = c} + #{extra labels = c}, i.e. |B_c| + 1 with
//   one prototype per class, and class_weight gives every column of class c the weight
//   w = 1 / (cnt[c] − [c = y_r]): 1/(|B_c| + 1) for another class, 1/|B_y| for the anchor's own class,
//   whose columns are its |B_y| − 1 other views and its prototype once the self column (w = 0) is
//   dropped. So the denominator is Σ_c (mean of exp(x) over class c's columns other than the anchor):
//   Eq. 9's 1/(|B_j| + 1), except that the anchor's own class is averaged without the anchor (the
//   official code's "minus one"). A class absent from the batch has cnt = 1: its prototype alone.
//   The positives: p = [y_r = y_j] on the sample columns (|B_y| − 1 of them, `case 0u`) and
//   p = [label_k = y_r] in extra_column (the own prototype), so n = |B_y| as in Eq. 9.
//   Variants, same kernel with other columns or flags (bcl()):
//   - classAveraging: false (the class-complement ablation): CLASS_AVG = false, every column w = 1, so
//     SupCon over the views and the K prototypes, scale 1.
//   - 'L1' (Eq. 6): no extra columns (ne = 0), CLASS_AVG = true, classes = numClasses, so
//     cnt[c] = |B_c| (views only): w = 1/|B_c| for another class, 1/(|B_y| − 1) for the own class.
//   - 'L3' (Eq. 8): no sample columns (ns = 0), CLASS_AVG = false: −log softmax_k(z_i·c_k/τ)[y_i] over
//     the prototype columns.
//   - 'L2' (Eq. 7) averages inside the exponential and does not use this kernel (classMeanRows in
//     src/losses/contrastive.ts).
//
// SupMin, `supMin` (Two Classes Eq. 9: L = L_SupCon^min + L_NT-Xent^maj; TTC's SupConLoss with
// ratio_supervised_majority = 0):
//   Flags: MODE = 2 (rule 'minority'), MINORITY = minorityClass (default 1), CLASS_AVG = false, ne = 0,
//   stride = 1, scale = τ/τ_base. `case 2u` of sample_column: p = [same sample] or [y_r = y_j = MINORITY].
//   A minority anchor's positives are all other minority views (the SupCon term); a majority anchor's
//   only positives are its own other views (the NT-Xent term). w = 1 on every column but the self
//   column, so both terms share the denominator over all other views of both classes, and the result is
//   one mean over all V·B anchors, not the paper's sum of two separate losses.
//
// SupProto, `supProto` (Two Classes Eq. 10–12; TTC's ConSupPrototypeLoss):
//   L_i = NT-Xent_i + [f(x̃)·p_y ≤ 0.5] · −log( exp(f(x̃)·p_y/τ) / Σ_{x̃⁻ ≠ x̃} exp(f(x̃)·f(x̃⁻)/τ) )
//   Flags: MODE = 3 (rule 'proto'), CLASS_AVG = false, stride = 1, scale = τ/τ_base, eps0/eps1 = eps
//   (default [1, 1]). The extra columns are the two fixed prototypes: E = X Pᵀ [R, 2], P = [p_0; p_1]
//   detached, extra labels 0, 1.
//   The pull test: anchor_of sets `pulled` = E[a, y] ≤ E[a, 1 − y] + eps_y on the raw dot products (not
//   divided by τ, and a boolean, so no gradient flows through it). With antipodal prototypes and eps = 1
//   this is Eq. 11's f(x̃)·p_y ≤ 0.5.
//   Sample columns take the `default` branch of the switch: p = [same sample] (NT-Xent), w = 1.
//   extra_column, `if (MODE == 3u)`: w = 0 (the prototypes are never in the denominator, which is
//   Eq. 10's), and p = [label_k = y_r] only when pulled. So n = V − 1 + [pulled]: a pulled anchor
//   averages its NT-Xent and prototype terms where Eq. 11 adds them.
//
// (Reb-SupCon, src/losses/rebalance.ts, is MODE 0 with stride = 2, the queries as anchors and [q, k] as
// the two views, the key queue as extra columns of weight 1, and scale 1.)
//
// Bindings (group 0): 0 uniform Params; 1 out (read_write f32): per-anchor loss [A] (row_stats), the
// gradient of one block [A, NS or NE] (grad_block), cnt [K] (class_counts); 2 stats [A, 2] = (logden, n),
// written by row_stats and read by grad_block; 3 G [A, NS]; 4 E [A, NE]; 5 labels [B] (i32); 6 extra
// labels [NE] (i32); 7 cnt [K] (f32); 8 g_row [A], the upstream gradient of the per-anchor loss.
//
// Dispatch: row_stats: one workgroup of WG threads per anchor (thread t visits columns t, t + WG, …,
// keeping a running max and shifted sum that are merged by a tree in workgroup memory); anchors beyond
// 65535 fold into y. grad_block: one thread per element of the block selected by BLOCK (0 = G, 1 = E),
// 64 per workgroup, folded likewise. class_counts: one thread per class, 64 per workgroup.

struct Params {
  ns: u32,         // sample columns (R, or 0 for the prototype-only loss)
  ne: u32,         // extra columns
  anchors: u32,    // A
  stride: u32,     // anchor a (block row a) is sample row a·stride
  views: u32,      // V
  classes: u32,    // K (range of labels that index cnt)
  samples: u32,    // B
  inv_t: f32,
  scale: f32,
  eps0: f32,
  eps1: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gs: array<f32>;
@group(0) @binding(4) var<storage, read> ge: array<f32>;
@group(0) @binding(5) var<storage, read> labels: array<i32>;
@group(0) @binding(6) var<storage, read> extra_labels: array<i32>;
@group(0) @binding(7) var<storage, read> cnt: array<f32>;
@group(0) @binding(8) var<storage, read> g_row: array<f32>;

override WG: u32 = 64;
override MODE: u32 = 0;
override CLASS_AVG: bool = false;
override MINORITY: i32 = 1;
// An anchor without positives gives NaN (SupContrast before commit 72fd989) instead of 0.
override NAN_EMPTY: bool = false;
// grad_block: 0 = sample block (G), 1 = extra block (E).
override BLOCK: u32 = 0;

const ELEMENTS_PER_GROUP: u32 = 64u;
// Weight of a column whose label is out of range. Shader compilers may assume NaN never occurs, so a
// bad label is carried as this flag and NaN is only ever stored, never computed with.
const INVALID: f32 = -1.0;
// Running-max start: finite, so that no inf − inf can appear (exp(LOWEST − x) is 0 for any logit).
const LOWEST: f32 = -3.0e38;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;
var<workgroup> red_c: array<f32, WG>;

// Special values are made at run time: WGSL rejects NaN and infinity in constant expressions.
fn from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

fn nan() -> f32 {
  return from_bits(0x7fc00000u);
}


// What an anchor row needs to know about itself, computed once per row.
struct Anchor {
  index: u32,      // a: its row in the G and E blocks
  row: u32,        // r = a·stride: its row among the samples' views (its own column in G)
  label: i32,
  pulled: bool,
}

fn anchor_of(a: u32) -> Anchor {
  let r = a * p.stride;
  let y = labels[r / p.views];
  var pulled = false;
  if (MODE == 3u) {
    let own = ge[a * p.ne + u32(clamp(y, 0, 1))];
    let other = ge[a * p.ne + u32(1 - clamp(y, 0, 1))];
    pulled = own <= other + select(p.eps0, p.eps1, y == 1);
  }
  return Anchor(a, r, y, pulled);
}

// 1 / (cnt[c] − pos) with class-averaging, else 1; INVALID for a label that cannot index cnt.
fn class_weight(c: i32, pos: bool) -> f32 {
  if (!CLASS_AVG) {
    return 1.0;
  }
  if (c < 0 || u32(c) >= p.classes) {
    return INVALID;
  }
  return 1.0 / (cnt[u32(c)] - select(0.0, 1.0, pos));
}

// (x, w, positive) of sample column j for anchor `an`.
fn sample_column(an: Anchor, j: u32) -> vec3<f32> {
  let x = gs[an.index * p.ns + j] * p.inv_t;
  if (j == an.row) {
    return vec3<f32>(x, 0.0, 0.0);
  }
  let same_sample = an.row / p.views == j / p.views;
  let yj = labels[j / p.views];
  var pos = false;
  switch MODE {
    case 0u: { pos = an.label == yj; }
    case 2u: { pos = same_sample || (an.label == MINORITY && yj == MINORITY); }
    default: { pos = same_sample; }
  }
  return vec3<f32>(x, class_weight(yj, pos), select(0.0, 1.0, pos));
}

// (x, w, positive) of extra column k for anchor `an`.
fn extra_column(an: Anchor, k: u32) -> vec3<f32> {
  let x = ge[an.index * p.ne + k] * p.inv_t;
  let yk = extra_labels[k];
  var pos = yk == an.label;
  if (MODE == 3u) {
    // SupProto: prototypes are never in the denominator; a label outside {0, 1} poisons the row.
    let bad = an.label < 0 || an.label > 1;
    return vec3<f32>(x, select(0.0, INVALID, bad), select(0.0, 1.0, pos && an.pulled));
  }
  return vec3<f32>(x, class_weight(yk, pos), select(0.0, 1.0, pos));
}

fn column(an: Anchor, j: u32) -> vec3<f32> {
  if (j < p.ns) {
    return sample_column(an, j);
  }
  return extra_column(an, j - p.ns);
}

fn tree(t: u32) {
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      let mo = red_a[t + half];
      let so = red_b[t + half];
      let m = max(red_a[t], mo);
      // Empty halves hold (LOWEST, 0); keep them out of the sum.
      let s0 = select(0.0, red_b[t] * exp(red_a[t] - m), red_b[t] != 0.0);
      let s1 = select(0.0, so * exp(mo - m), so != 0.0);
      red_a[t] = m;
      red_b[t] = s0 + s1;
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn row_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) t: u32) {
  let a = wid.x + wid.y * nwg.x;
  if (a >= p.anchors) {
    return;
  }
  let an = anchor_of(a);
  let cols = p.ns + p.ne;
  // Online weighted log-sum-exp: s = Σ w exp(x − m) over the columns seen, m their running max.
  var m = LOWEST;
  var s = 0.0;
  var pos_sum = 0.0;
  var npos = 0.0;
  var bad = 0.0;
  for (var j = t; j < cols; j += WG) {
    let c = column(an, j);
    if (c.y < 0.0) {
      bad = 1.0;
    } else if (c.y != 0.0) {
      if (c.x > m) {
        s = s * exp(m - c.x) + c.y;
        m = c.x;
      } else {
        s += c.y * exp(c.x - m);
      }
    }
    pos_sum += c.z * c.x;
    npos += c.z;
  }
  red_a[t] = m;
  red_b[t] = s;
  tree(t);
  let logden = red_a[0] + log(red_b[0]);
  workgroupBarrier();
  red_a[t] = pos_sum;
  red_b[t] = npos;
  red_c[t] = bad;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (t < half) {
      red_a[t] += red_a[t + half];
      red_b[t] += red_b[t + half];
      red_c[t] += red_c[t + half];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    let n = red_b[0];
    let empty = select(0.0, nan(), NAN_EMPTY);
    let invalid = red_c[0] > 0.0;
    out[a] = select(select(empty, -p.scale * (red_a[0] / n - logden), n > 0.0), nan(), invalid);
    stats[2u * a] = logden;
    // n = −1 tells grad_block that the row had a bad label.
    stats[2u * a + 1u] = select(n, -1.0, invalid);
  }
}

@compute @workgroup_size(ELEMENTS_PER_GROUP)
fn grad_block(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) t: u32) {
  let cols = select(p.ns, p.ne, BLOCK == 1u);
  let idx = (wid.x + wid.y * nwg.x) * ELEMENTS_PER_GROUP + t;
  if (idx >= p.anchors * cols) {
    return;
  }
  let a = idx / cols;
  let j = idx % cols;
  let an = anchor_of(a);
  var c: vec3<f32>;
  if (BLOCK == 1u) {
    c = extra_column(an, j);
  } else {
    c = sample_column(an, j);
  }
  let logden = stats[2u * a];
  let n = stats[2u * a + 1u];
  let soft = select(0.0, c.y * exp(c.x - logden), c.y > 0.0);
  let d = g_row[a] * p.scale * p.inv_t * (soft - c.z / n);
  let empty = select(0.0, nan(), NAN_EMPTY);
  out[idx] = select(select(empty, d, n > 0.0), nan(), n < 0.0);
}

@compute @workgroup_size(ELEMENTS_PER_GROUP)
fn class_counts(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = i32(gid.x);
  if (gid.x >= p.classes) {
    return;
  }
  var n = 0u;
  for (var i = 0u; i < p.samples; i++) {
    n += select(0u, p.views, labels[i] == c);
  }
  for (var k = 0u; k < p.ne; k++) {
    n += select(0u, 1u, extra_labels[k] == c);
  }
  out[gid.x] = f32(n);
}
