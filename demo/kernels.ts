// "Kernel lab": four WGSL kernel families (matmul, conv2d, the fused SupCon loss, Sinkhorn-Knopp) run
// through the library's ops on the visitor's GPU, timed (op + engine().sync(), median over a few runs),
// and checked against small float64 references in plain JavaScript, computed here from the same float32
// inputs. The page shows each family's WGSL (SHADER_SOURCES) beside the formula it computes.
import * as W from '../src/index.js';
import { byId, escapeHtml, startEngine } from './shared.js';

/** Timed runs after the warm-up run. */
const RUNS = 5;
/** A float32 kernel matches its float64 reference when max |gpu − ref| / max |ref| is within this. */
const TOLERANCE = 1e-4;
const SEED = 1;

interface Param {
  key: string;
  label: string;
  value: number;
  min: number;
  max: number;
  /** Whole numbers only (sizes). */
  integer?: boolean;
  step?: number;
}

/** One output compared with its reference. */
interface Check {
  name: string;
  gpu: ArrayLike<number>;
  ref: ArrayLike<number>;
}

/** A kernel set up at given sizes: its inputs live on the device until dispose(). */
interface Job {
  /** The timed op; returns its output (disposed by the caller). */
  op(): W.Tensor;
  /** A second timed variant (SupCon: forward + backward), if any; leaves nothing behind. */
  also?: { name: string; run(): void };
  /** The checks, from the warm-up output; float64 references computed here. */
  check(out: Float32Array): Promise<Check[]>;
  /** Floating-point operations of one op, for GFLOP/s (matmul, conv2d). */
  flops?: number;
  /** Short description of the sizes, for the history table. */
  sizes: string;
  dispose(): void;
}

interface Kernel {
  id: string;
  tab: string;
  title: string;
  family: W.ShaderFamily;
  /** The entry points this op dispatches (beyond the family, noted in `uses`). */
  entries: string[];
  uses: string;
  formula: string;
  params: Param[];
  /** Extra controls (HTML) after the size inputs. */
  extra?: string;
  setup(p: Record<string, number>): Job;
}

// ---------------------------------------------------------------------------------------------------
// Inputs and float64 references: small, readable loops over row-major arrays.

/** Seeded uniform values in [−1, 1), rounded to float32 (mulberry32). */
function uniform(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** C [M, N] = A [M, K] · B [K, N]. */
function matmulRef(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) {
      const av = a[i * k + t];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[t * n + j];
    }
  }
  return c;
}

interface ConvSizes { n: number; c: number; h: number; w: number; k: number; r: number; s: number; stride: number; pad: number; p: number; q: number }

/** y [N, K, P, Q] = bias[k] + Σ_{c,r,s} w[k, c, r, s] · x[n, c, p·stride − pad + r, q·stride − pad + s], x = 0 outside. */
function conv2dRef(x: Float32Array, w: Float32Array, bias: Float32Array, z: ConvSizes): Float64Array {
  const y = new Float64Array(z.n * z.k * z.p * z.q);
  for (let n = 0; n < z.n; n++) {
    for (let k = 0; k < z.k; k++) {
      for (let p = 0; p < z.p; p++) {
        for (let q = 0; q < z.q; q++) {
          let sum = bias[k];
          for (let c = 0; c < z.c; c++) {
            for (let r = 0; r < z.r; r++) {
              const ih = p * z.stride - z.pad + r;
              if (ih < 0 || ih >= z.h) continue;
              for (let s = 0; s < z.s; s++) {
                const iw = q * z.stride - z.pad + s;
                if (iw < 0 || iw >= z.w) continue;
                sum += w[((k * z.c + c) * z.r + r) * z.s + s] * x[((n * z.c + c) * z.h + ih) * z.w + iw];
              }
            }
          }
          y[((n * z.k + k) * z.p + p) * z.q + q] = sum;
        }
      }
    }
  }
  return y;
}

/**
 * SupCon over R = B·V rows z_i (row i = view i % V of sample ⌊i / V⌋, label y_i), every row an anchor:
 *   ℓ_i = −(τ/τ_b) · (1/|P(i)|) Σ_{p∈P(i)} (s_ip − log Σ_{a≠i} exp s_ia),  s = z zᵀ / τ,
 * P(i) = the other rows with label y_i. Returns every ℓ_i and ∂(mean ℓ)/∂z:
 *   ∂L/∂s_ia = −(τ/τ_b)/R · ([a ∈ P(i)]/|P(i)| − softmax_a≠i(s_i·)_a),  ∂L/∂z_j = Σ_a (∂L/∂s_ja + ∂L/∂s_aj) z_a / τ.
 */
function supConRef(z: Float32Array, rowLabels: Int32Array, d: number, tau: number, base: number): { loss: Float64Array; grad: Float64Array } {
  const rows = rowLabels.length;
  const s = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < rows; a++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += z[i * d + t] * z[a * d + t];
      s[i * rows + a] = dot / tau;
    }
  }
  const loss = new Float64Array(rows);
  const ds = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let a = 0; a < rows; a++) if (a !== i) max = Math.max(max, s[i * rows + a]);
    let sum = 0;
    for (let a = 0; a < rows; a++) if (a !== i) sum += Math.exp(s[i * rows + a] - max);
    const logDen = max + Math.log(sum);
    let positives = 0;
    let pos = 0;
    for (let a = 0; a < rows; a++) {
      if (a !== i && rowLabels[a] === rowLabels[i]) {
        positives++;
        pos += s[i * rows + a] - logDen;
      }
    }
    if (!positives) continue; // no positive: loss and gradient 0 (the library's default)
    loss[i] = (-(tau / base) * pos) / positives;
    for (let a = 0; a < rows; a++) {
      if (a === i) continue;
      const p = rowLabels[a] === rowLabels[i] ? 1 / positives : 0;
      ds[i * rows + a] = (-(tau / base) / rows) * (p - Math.exp(s[i * rows + a] - logDen));
    }
  }
  const grad = new Float64Array(rows * d);
  for (let j = 0; j < rows; j++) {
    for (let a = 0; a < rows; a++) {
      const g = (ds[j * rows + a] + ds[a * rows + j]) / tau;
      if (g) for (let t = 0; t < d; t++) grad[j * d + t] += g * z[a * d + t];
    }
  }
  return { loss, grad };
}

/**
 * SwAV's distributed_sinkhorn on scores S [B, K], as written there (exponentials, not the kernel's log
 * domain): Q = exp(S/ε)ᵀ [K, B]; Q /= ΣQ; n times { each row (prototype) /= its sum · K; each column
 * (sample) /= its sum · B }; return (Q · B)ᵀ. S's largest value is subtracted first: a constant factor
 * of Q, which the first normalisation removes anyway.
 */
function sinkhornRef(scores: Float32Array, b: number, k: number, eps: number, iterations: number): Float64Array {
  let max = -Infinity;
  for (const v of scores) max = Math.max(max, v);
  const q = new Float64Array(k * b); // q[kk * b + bb]
  let total = 0;
  for (let bb = 0; bb < b; bb++) {
    for (let kk = 0; kk < k; kk++) total += q[kk * b + bb] = Math.exp((scores[bb * k + kk] - max) / eps);
  }
  for (let i = 0; i < q.length; i++) q[i] /= total;
  for (let it = 0; it < iterations; it++) {
    for (let kk = 0; kk < k; kk++) {
      let row = 0;
      for (let bb = 0; bb < b; bb++) row += q[kk * b + bb];
      for (let bb = 0; bb < b; bb++) q[kk * b + bb] /= row * k;
    }
    for (let bb = 0; bb < b; bb++) {
      let col = 0;
      for (let kk = 0; kk < k; kk++) col += q[kk * b + bb];
      for (let kk = 0; kk < k; kk++) q[kk * b + bb] /= col * b;
    }
  }
  const out = new Float64Array(b * k);
  for (let bb = 0; bb < b; bb++) for (let kk = 0; kk < k; kk++) out[bb * k + kk] = q[kk * b + bb] * b;
  return out;
}

/** max |gpu − ref| / max |ref| (absolute when ref is all zeros); NaN when either side is not finite. */
function relativeError(gpu: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (gpu.length !== ref.length) throw new Error(`${gpu.length} GPU values against ${ref.length} reference values`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(gpu[i]) || !Number.isFinite(ref[i])) return NaN;
    diff = Math.max(diff, Math.abs(gpu[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

// ---------------------------------------------------------------------------------------------------
// The four kernels

const KERNELS: Kernel[] = [
  {
    id: 'matmul', tab: 'matmul', title: 'Matrix multiply', family: 'matmul', entries: ['matmul_register', 'matmul_tiled', 'matmul_subgroup'],
    uses: 'one dispatch of matmul_register (register tiling: 8 × 8 outputs per thread), matmul_tiled (tiles in workgroup memory: the shared tiling) or matmul_subgroup (subgroup shuffles), the variant this adapter\'s winners-table entry picks for the shape',
    formula: 'C[m, n] = Σ<sub>k</sub> A[m, k] · B[k, n]<div class="where">A: M × K, B: K × N, C: M × N, row-major float32. FLOPs: 2·M·N·K.</div>',
    params: [
      { key: 'm', label: 'M', value: 257, min: 1, max: 1024, integer: true },
      { key: 'k', label: 'K', value: 300, min: 1, max: 1024, integer: true },
      { key: 'n', label: 'N', value: 191, min: 1, max: 1024, integer: true },
    ],
    extra: '<label>tiling <select id="tiling"><option value="">this adapter\'s</option><option value="register">register</option><option value="shared">shared</option></select></label>',
    setup({ m, k, n }) {
      const ha = uniform(m * k, SEED);
      const hb = uniform(k * n, SEED + 1);
      const a = W.tensor(ha, [m, k]).keep();
      const b = W.tensor(hb, [k, n]).keep();
      const e = W.engine();
      const tiling = (byId<HTMLSelectElement>('tiling').value || e.matmulVariant) as 'register' | 'shared';
      return {
        op: () => {
          const chosen = e.matmulVariant;
          e.matmulVariant = tiling;
          try {
            return W.matmul(a, b);
          } finally {
            e.matmulVariant = chosen;
          }
        },
        check: async (out) => [{ name: 'C', gpu: out, ref: matmulRef(ha, hb, m, k, n) }],
        flops: 2 * m * n * k,
        sizes: `${m} × ${k} · ${k} × ${n} (${tiling})`,
        dispose: () => [a, b].forEach((t) => t.dispose()),
      };
    },
  },
  {
    id: 'conv2d', tab: 'conv2d', title: '2-D convolution (forward)', family: 'conv2d', entries: ['conv2d_forward', 'conv2d_tiled'],
    uses: 'one dispatch of conv2d_forward or conv2d_tiled, as this adapter\'s winners-table entry picks (implicit GEMM: no im2col matrix; kernel size, stride and padding are pipeline constants)',
    formula: 'y[n, k, p, q] = b[k] + Σ<sub>c, r, s</sub> w[k, c, r, s] · x[n, c, p·σ − π + r, q·σ − π + s]' +
      '<div class="where">x: N × C × H × W (0 outside the image), w: K × C × R × S, stride σ, padding π; P = ⌊(H + 2π − R)/σ⌋ + 1, Q = ⌊(W + 2π − S)/σ⌋ + 1. FLOPs: 2·N·K·P·Q·C·R·S.</div>',
    params: [
      { key: 'n', label: 'N', value: 4, min: 1, max: 64, integer: true },
      { key: 'c', label: 'C', value: 8, min: 1, max: 128, integer: true },
      { key: 'h', label: 'H', value: 27, min: 1, max: 128, integer: true },
      { key: 'w', label: 'W', value: 27, min: 1, max: 128, integer: true },
      { key: 'k', label: 'K', value: 16, min: 1, max: 128, integer: true },
      { key: 'r', label: 'R', value: 3, min: 1, max: 11, integer: true },
      { key: 's', label: 'S', value: 3, min: 1, max: 11, integer: true },
      { key: 'stride', label: 'stride σ', value: 1, min: 1, max: 4, integer: true },
      { key: 'pad', label: 'padding π', value: 1, min: 0, max: 5, integer: true },
    ],
    setup({ n, c, h, w, k, r, s, stride, pad }) {
      const p = Math.floor((h + 2 * pad - r) / stride) + 1;
      const q = Math.floor((w + 2 * pad - s) / stride) + 1;
      if (p < 1 || q < 1) throw new Error(`the ${r} × ${s} kernel does not fit the padded ${h} × ${w} image`);
      const hx = uniform(n * c * h * w, SEED);
      const hw = uniform(k * c * r * s, SEED + 1);
      const hbias = uniform(k, SEED + 2);
      const x = W.tensor(hx, [n, c, h, w]).keep();
      const wt = W.tensor(hw, [k, c, r, s]).keep();
      const bias = W.tensor(hbias, [k]).keep();
      return {
        op: () => W.conv2d(x, wt, bias, { stride, padding: pad }),
        check: async (out) => [{ name: 'y', gpu: out, ref: conv2dRef(hx, hw, hbias, { n, c, h, w, k, r, s, stride, pad, p, q }) }],
        flops: 2 * n * k * p * q * c * r * s,
        sizes: `x ${n}×${c}×${h}×${w}, w ${k}×${c}×${r}×${s}, σ ${stride}, π ${pad} → ${p}×${q}`,
        dispose: () => [x, wt, bias].forEach((t) => t.dispose()),
      };
    },
  },
  {
    id: 'supcon', tab: 'SupCon loss', title: 'Supervised contrastive loss (fused)', family: 'contrastive', entries: ['row_stats', 'grad_block'],
    uses: 'the matmul kernel for the similarities G = Z Zᵀ, then row_stats: one workgroup per anchor computes the masked log-sum-exp and the positive sums in one pass (no B×B masks); the backward rebuilds each gradient block from the saved row statistics (grad_block) and multiplies it by Z',
    formula: 'ℓ<sub>i</sub> = −(τ/τ<sub>b</sub>) · (1/|P(i)|) Σ<sub>p∈P(i)</sub> [ z<sub>i</sub>·z<sub>p</sub>/τ − log Σ<sub>a≠i</sub> exp(z<sub>i</sub>·z<sub>a</sub>/τ) ],  L = mean<sub>i</sub> ℓ<sub>i</sub>' +
      '<div class="where">z: B samples × V views × D, unit rows; every one of the B·V views is an anchor i; P(i): the other views with the label of i (labels drawn from a few classes). Checked: every ℓ<sub>i</sub> and the gradient ∂L/∂z.</div>',
    params: [
      { key: 'b', label: 'B', value: 64, min: 1, max: 512, integer: true },
      { key: 'v', label: 'V', value: 2, min: 1, max: 4, integer: true },
      { key: 'd', label: 'D', value: 32, min: 1, max: 256, integer: true },
      { key: 'classes', label: 'classes', value: 5, min: 1, max: 100, integer: true },
      { key: 'tau', label: 'τ', value: 0.1, min: 0.01, max: 10, step: 0.01 },
      { key: 'base', label: 'τ_b', value: 0.07, min: 0.01, max: 10, step: 0.01 },
    ],
    setup({ b, v, d, classes, tau, base }) {
      // Unit rows, rounded to float32 after normalising (the reference sees exactly what the GPU does).
      const raw = uniform(b * v * d, SEED);
      const hz = new Float32Array(raw.length);
      for (let i = 0; i < b * v; i++) {
        let norm = 0;
        for (let t = 0; t < d; t++) norm += raw[i * d + t] ** 2;
        for (let t = 0; t < d; t++) hz[i * d + t] = raw[i * d + t] / Math.sqrt(norm || 1);
      }
      const hy = Int32Array.from(uniform(b, SEED + 1), (u) => Math.min(classes - 1, Math.floor(((u + 1) / 2) * classes)));
      const z = W.tensor(hz, [b, v, d]).keep();
      const labels = W.tensor(hy, [b], 'i32').keep();
      const opts = { temperature: tau, baseTemperature: base };
      const clearGrad = () => {
        z.grad?.dispose();
        z.grad = null;
      };
      return {
        op: () => W.supCon(z, labels, { ...opts, reduction: 'none' }),
        also: {
          name: 'forward + backward (mean loss)',
          run: () => {
            z.requireGrad();
            W.scope(() => W.supCon(z, labels, opts).backward());
            clearGrad();
            z.requireGrad(false);
          },
        },
        check: async (losses) => {
          z.requireGrad();
          W.scope(() => W.supCon(z, labels, opts).backward());
          const grad = await z.grad!.read();
          clearGrad();
          z.requireGrad(false);
          const ref = supConRef(hz, Int32Array.from({ length: b * v }, (_, i) => hy[Math.floor(i / v)]), d, tau, base);
          return [{ name: 'ℓ_i', gpu: losses, ref: ref.loss }, { name: '∂L/∂z', gpu: grad, ref: ref.grad }];
        },
        sizes: `B ${b}, V ${v}, D ${d}, ${classes} classes, τ ${tau}, τ_b ${base}`,
        dispose: () => {
          clearGrad();
          [z, labels].forEach((t) => t.dispose());
        },
      };
    },
  },
  {
    id: 'sinkhorn', tab: 'Sinkhorn', title: 'Sinkhorn-Knopp (SwAV, log domain)', family: 'sinkhorn', entries: ['potential'],
    uses: 'potential, dispatched 2n times: a prototype pass (one workgroup per prototype) and a sample pass (one per sample) per iteration, each an online log-sum-exp reduced in workgroup memory; only the potentials a [K] and c [B] are kept, the last pass writes Q',
    formula: 'Q = exp(S/ε)ᵀ;  Q ← Q / ΣQ;  n times { Q ← Q / rowsum(Q) / K;  Q ← Q / colsum(Q) / B };  return (B·Q)ᵀ' +
      '<div class="where">S: B samples × K prototypes (scores). The kernel keeps Q[b, k] = exp(S[b, k]/ε + a<sub>k</sub> + c<sub>b</sub>) and updates only a and c (log-sum-exps), so it stays exact in float32 for any |S|/ε; the reference below is SwAV\'s code in float64 exponentials.</div>',
    params: [
      { key: 'b', label: 'B', value: 256, min: 1, max: 4096, integer: true },
      { key: 'k', label: 'K', value: 30, min: 1, max: 1024, integer: true },
      { key: 'eps', label: 'ε', value: 0.05, min: 0.001, max: 10, step: 0.01 },
      { key: 'iterations', label: 'iterations n', value: 3, min: 1, max: 50, integer: true },
    ],
    setup({ b, k, eps, iterations }) {
      const hs = uniform(b * k, SEED);
      const s = W.tensor(hs, [b, k]).keep();
      return {
        op: () => W.sinkhorn(s, { epsilon: eps, iterations }),
        check: async (out) => [{ name: 'Q', gpu: out, ref: sinkhornRef(hs, b, k, eps, iterations) }],
        sizes: `B ${b}, K ${k}, ε ${eps}, n ${iterations}`,
        dispose: () => s.dispose(),
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------------
// The page

let engine: W.Engine;
let kernel = KERNELS[0];
let busy = false;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (t: number) => (t < 10 ? `${t.toFixed(2)} ms` : `${t.toFixed(1)} ms`);
const gflops = (flops: number, t: number) => `${(flops / t / 1e6).toPrecision(3)} GFLOP/s`;

/** Shows kernel `k`: its formula, its size inputs and its WGSL with the entry points it uses marked. */
function show(k: Kernel): void {
  kernel = k;
  for (const b of byId('tabs').querySelectorAll('button')) b.classList.toggle('active', b.dataset.kernel === k.id);
  byId('title').textContent = k.title;
  byId('formula').innerHTML = k.formula;
  byId('sizes').innerHTML = '<legend>sizes and settings</legend>' + k.params.map((p) =>
    `<label>${escapeHtml(p.label)} <input id="p-${p.key}" type="number" min="${p.min}" max="${p.max}" step="${p.integer ? 1 : (p.step ?? 'any')}" value="${p.value}"></label>`).join('') + (k.extra ?? '');
  byId('result').innerHTML = '<p class="cap">Not run yet.</p>';
  byId('wgsl-file').textContent = `shaders/${k.family}.wgsl`;
  const source = W.SHADER_SOURCES[k.family];
  const entry = new RegExp(`^fn (${k.entries.join('|')})\\(`);
  byId('wgsl').innerHTML = source.split('\n').map((line) => {
    const m = entry.exec(line);
    return m ? `<mark id="entry-${m[1]}">${escapeHtml(line)}</mark>` : escapeHtml(line);
  }).join('\n');
  byId('wgsl').scrollTop = 0;
  byId('entries').innerHTML = `<p class="cap">Uses ${escapeHtml(k.uses)}. Jump to: ` +
    k.entries.map((e) => `<button data-entry="${e}">${e}</button>`).join('') + '<button data-entry="">top (the math)</button></p>';
}

function readParams(k: Kernel): Record<string, number> {
  const values: Record<string, number> = {};
  for (const p of k.params) {
    const v = Number(byId<HTMLInputElement>(`p-${p.key}`).value);
    if (!Number.isFinite(v) || v < p.min || v > p.max || (p.integer && !Number.isInteger(v))) {
      throw new Error(`${p.label} must be ${p.integer ? 'a whole number' : 'a number'} from ${p.min} to ${p.max}, got ${byId<HTMLInputElement>(`p-${p.key}`).value}`);
    }
    values[p.key] = v;
  }
  return values;
}

/** Wall time of `fn` + engine().sync() for RUNS runs. */
async function time(fn: () => void): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    await engine.sync();
    times.push(performance.now() - t0);
  }
  return times;
}

async function run(): Promise<void> {
  if (busy) return;
  busy = true;
  byId<HTMLButtonElement>('run').disabled = true;
  const k = kernel;
  const result = byId('result');
  result.innerHTML = '<p class="cap">running…</p>';
  let job: Job | undefined;
  try {
    job = k.setup(readParams(k));
    const j = job;
    // Warm-up: creates the pipelines; its output is the one checked.
    const first = W.scope(() => j.op());
    const out = (await first.read()) as Float32Array;
    first.dispose();
    const times = await time(() => W.scope(() => j.op()).dispose());
    let also: number[] | undefined;
    if (j.also) {
      j.also.run();
      await engine.sync();
      also = await time(j.also.run);
    }
    const t0 = performance.now();
    const checks = await j.check(out);
    const refMs = performance.now() - t0;
    const errors = checks.map((c) => ({ name: c.name, error: relativeError(c.gpu, c.ref), values: c.ref.length }));
    const worst = errors.some((e) => Number.isNaN(e.error)) ? NaN : Math.max(...errors.map((e) => e.error));
    const ok = worst <= TOLERANCE;
    const verdict = ok ? 'matches' : Number.isNaN(worst) ? 'not finite' : 'does not match';
    const med = median(times);
    const rate = j.flops ? gflops(j.flops, med) : '–';
    result.dataset.verdict = verdict;
    result.innerHTML =
      `<p>GPU: <b class="timing">${ms(med)}</b> median over ${RUNS} runs (min ${ms(Math.min(...times))}, max ${ms(Math.max(...times))}), op + engine().sync()` +
      `${j.flops ? `; <b>${rate}</b> (${(j.flops / 1e6).toPrecision(3)} MFLOP)` : ''}` +
      `${also ? `<br>${j.also!.name}: ${ms(median(also))} median` : ''}</p>` +
      `<p>JavaScript float64 reference: ${ms(refMs)}</p>` +
      `<p>${errors.map((e) => `${escapeHtml(e.name)} (${e.values} values): max relative error ${e.error.toExponential(2)}`).join('<br>')}</p>` +
      `<p class="verdict ${ok ? 'ok' : 'bad'}">${verdict}${ok ? ` (within ${TOLERANCE} relative, float32 against float64)` : ` (tolerance ${TOLERANCE})`}</p>`;
    byId('history').insertAdjacentHTML('beforeend',
      `<tr data-kernel="${k.id}"><td>${escapeHtml(k.tab)}</td><td class="sizes">${escapeHtml(j.sizes)}</td><td>${ms(med)}</td><td>${rate}</td><td>${ms(refMs)}</td>` +
      `<td>${worst.toExponential(2)}</td><td class="verdict">${verdict}</td></tr>`);
  } catch (e) {
    result.dataset.verdict = 'error';
    result.innerHTML = `<p class="error">${escapeHtml((e as Error).message ?? String(e))}</p>`;
  } finally {
    job?.dispose();
    busy = false;
    byId<HTMLButtonElement>('run').disabled = false;
  }
}

async function main(): Promise<void> {
  engine = await startEngine();
  byId('tabs').innerHTML = KERNELS.map((k) => `<button data-kernel="${k.id}">${escapeHtml(k.tab)}</button>`).join('');
  byId('tabs').addEventListener('click', (ev) => {
    const id = (ev.target as HTMLElement).closest('button')?.dataset.kernel;
    const k = KERNELS.find((x) => x.id === id);
    if (k && !busy) show(k);
  });
  byId('entries').addEventListener('click', (ev) => {
    const entry = (ev.target as HTMLElement).closest('button')?.dataset.entry;
    if (entry === undefined) return;
    const pre = byId('wgsl');
    const mark = entry ? document.getElementById(`entry-${entry}`) : null;
    pre.scrollTop = mark ? mark.offsetTop - pre.offsetTop - 8 : 0;
  });
  byId('run').addEventListener('click', () => void run());
  show(KERNELS[0]);
  document.body.dataset.ready = 'true';
}

void main().catch(() => {});
