// Float64 references of the contrastive losses, written from the released code's formulas (SupContrast's
// SupConLoss, BCL's BalSCL, TTC's SupConLoss and ConSupPrototypeLoss; docs/paper-vs-code.md) and the BCL
// paper's Eqs. 6, 7 and 8 for its variants: view-major rows, masks built as the released code builds
// them, loops over anchors, no max-subtraction (a derivation independent of the kernel's).
// Each loss is described by its rows (anchor and contrast vectors drawn from Z = [view-major features;
// prototypes]), its positive mask, its denominator weights and its scale; one forward and one VJP serve
// all of them, and check.ts verifies that VJP by finite differences.
import { arr, type Arr, type RefOp } from './ops.js';

interface Layout {
  /** Z row of each anchor and each contrast column. */
  anchors: number[];
  cols: number[];
  /** pos[r][j] ∈ {0, 1}; den[r][j] ≥ 0 multiplies exp(S[r][j]) in the denominator. */
  pos: number[][];
  den: number[][];
  scale: number;
  /** Per-anchor weight multiplying ℓ_r (Reb-SupCon's ω(y_r)); default 1. */
  weight?: number[];
}

interface Setup {
  b: number;
  v: number;
  d: number;
  /** Z = [view-major features (V·B rows); prototypes (K rows)], each row a D-vector. */
  z: Float64Array[];
  k: number;
}

function setup(features: Arr, protos?: Arr): Setup {
  const [b, v, d] = features.shape;
  const z: Float64Array[] = [];
  for (let view = 0; view < v; view++) {
    for (let i = 0; i < b; i++) z.push(features.data.slice((i * v + view) * d, (i * v + view + 1) * d));
  }
  const k = protos ? protos.shape[0] : 0;
  for (let c = 0; c < k; c++) z.push(protos!.data.slice(c * d, (c + 1) * d));
  return { b, v, d, z, k };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);

/** The VJP of w·(z_a · z_c), accumulated into dz. */
function addDotGrad(dz: Float64Array[], z: Float64Array[], a: number, c: number, w: number): void {
  for (let q = 0; q < z[a].length; q++) {
    dz[a][q] += w * z[c][q];
    dz[c][q] += w * z[a][q];
  }
}

/** The gradient w.r.t. the features [B, V, D] from the view-major dz rows. */
function featureGrad(s: Setup, dz: Float64Array[], shape: number[]): Arr {
  const df = arr(shape);
  for (let view = 0; view < s.v; view++) {
    for (let i = 0; i < s.b; i++) df.data.set(dz[view * s.b + i], (i * s.v + view) * s.d);
  }
  return df;
}

export interface LossDef {
  /** Which inputs are [features, labels?, prototypes?]. */
  protoInput?: number;
  labelInput?: number;
  temperature: number;
  /** Prototypes get a gradient. */
  protoGrad?: boolean;
  nanEmpty?: boolean;
  layout(s: Setup, labels: number[], t: number): Layout;
}

function evaluate(def: LossDef, inputs: Arr[]) {
  const s = setup(inputs[0], def.protoInput !== undefined ? inputs[def.protoInput] : undefined);
  const labels = def.labelInput !== undefined ? Array.from(inputs[def.labelInput].data) : [];
  const t = def.temperature;
  const lay = def.layout(s, labels, t);
  const nA = lay.anchors.length;
  const S = lay.anchors.map((a) => lay.cols.map((c) => dot(s.z[a], s.z[c]) / t));
  let loss = 0;
  const dS: number[][] = [];
  lay.anchors.forEach((_, r) => {
    let den = 0;
    let npos = 0;
    let posSum = 0;
    lay.cols.forEach((_, j) => {
      den += lay.den[r][j] * Math.exp(S[r][j]);
      npos += lay.pos[r][j];
      posSum += lay.pos[r][j] * S[r][j];
    });
    if (npos === 0) {
      loss += def.nanEmpty ? NaN : 0;
      dS.push(lay.cols.map(() => (def.nanEmpty ? NaN : 0)));
      return;
    }
    const w = lay.weight?.[r] ?? 1;
    loss += -w * lay.scale * (posSum / npos - Math.log(den));
    dS.push(lay.cols.map((_, j) => (w * lay.scale * (lay.den[r][j] * Math.exp(S[r][j]) / den - lay.pos[r][j] / npos)) / nA));
  });
  return { s, lay, loss: loss / nA, dS };
}

/** The reference op on [features, labels?, prototypes?]; the output is the scalar mean loss. */
export function contrastiveRef(def: LossDef): RefOp {
  return {
    forward: (inputs) => arr([], [evaluate(def, inputs).loss]),
    vjp: (inputs, g) => {
      const { s, lay, dS } = evaluate(def, inputs);
      const dz = s.z.map(() => new Float64Array(s.d));
      lay.anchors.forEach((a, r) => lay.cols.forEach((c, j) => addDotGrad(dz, s.z, a, c, (g.data[0] * dS[r][j]) / def.temperature)));
      const out: (Arr | null)[] = inputs.map(() => null);
      out[0] = featureGrad(s, dz, inputs[0].shape);
      if (def.protoInput !== undefined && def.protoGrad) {
        const dp = arr(inputs[def.protoInput].shape);
        for (let c = 0; c < s.k; c++) dp.data.set(dz[s.v * s.b + c], c * s.d);
        out[def.protoInput] = dp;
      }
      return out;
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const grid = (n: number, m: number, f: (r: number, j: number) => number) => range(n).map((r) => range(m).map((j) => f(r, j)));

/** SupContrast's SupConLoss; labels null = SimCLR mode (M0 = I). */
export function supConLayout(labelsGiven: boolean, mode: 'all' | 'one', baseT: number) {
  return (s: Setup, labels: number[], t: number): Layout => {
    const n = s.v * s.b;
    const nA = mode === 'all' ? n : s.b;
    const m0 = (i: number, j: number) => (labelsGiven ? (labels[i] === labels[j] ? 1 : 0) : i === j ? 1 : 0);
    const lm = (r: number, j: number) => (r === j ? 0 : 1);
    return {
      anchors: range(nA), cols: range(n), scale: t / baseT,
      pos: grid(nA, n, (r, j) => m0(r % s.b, j % s.b) * lm(r, j)),
      den: grid(nA, n, lm),
    };
  };
}

/**
 * BCL's BalSCL (Eq. 9); 'L1' = Eq. 6 (no prototypes, batch-only class sizes); 'L3' = Eq. 8;
 * 'complement' = BCL Table 2's class-complement ablation: Eq. 9's columns and positives (prototypes
 * included), W = 1, i.e. den = Σ_j exp(S[r,j])·LM[r,j].
 */
export function bclLayout(variant: 'bcl' | 'L1' | 'L3' | 'complement') {
  return (s: Setup, labels: number[], _t: number): Layout => {
    const n = s.v * s.b;
    const y2 = range(n).map((r) => labels[r % s.b]);
    if (variant === 'L3') {
      return {
        anchors: range(n), cols: range(s.k).map((c) => n + c), scale: 1,
        pos: grid(n, s.k, (r, c) => (y2[r] === c ? 1 : 0)),
        den: grid(n, s.k, () => 1),
      };
    }
    const yall = [...y2, ...range(s.k)];
    const m = yall.length;
    const cnt = (c: number) => yall.filter((y) => y === c).length;
    const lm = (r: number, j: number) => (r === j ? 0 : 1);
    const pos = grid(n, m, (r, j) => (y2[r] === yall[j] ? 1 : 0) * lm(r, j));
    return {
      anchors: range(n), cols: range(m), scale: 1, pos,
      den: grid(n, m, (r, j) => (variant === 'complement' ? lm(r, j) : lm(r, j) / (cnt(yall[j]) - pos[r][j]))),
    };
  };
}

/** SupMin (TTC's SupConLoss, ratio 0): M0 = minority pairs + identity. */
export function supMinLayout(minority: number, baseT: number) {
  return (s: Setup, labels: number[], t: number): Layout => {
    const n = s.v * s.b;
    const m0 = (i: number, j: number) => (i === j || (labels[i] === minority && labels[j] === minority) ? 1 : 0);
    const lm = (r: number, j: number) => (r === j ? 0 : 1);
    return {
      anchors: range(n), cols: range(n), scale: t / baseT,
      pos: grid(n, n, (r, j) => m0(r % s.b, j % s.b) * lm(r, j)),
      den: grid(n, n, lm),
    };
  };
}

/** TTC's ConSupPrototypeLoss with prototypes [p0, p1] appended, eps = [eps0, eps1]. */
export function supProtoLayout(eps: [number, number], baseT: number) {
  return (s: Setup, labels: number[], t: number): Layout => {
    const n = s.v * s.b;
    const G = (r: number, c: number) => dot(s.z[r], s.z[n + c]);
    const lm = (r: number, j: number) => (r === j ? 0 : 1);
    const pos = grid(n, n + 2, (r, j) => {
      const y = labels[r % s.b];
      if (j < n) return (r % s.b === j % s.b ? 1 : 0) * lm(r, j);
      const c = j - n;
      const pulled = c === 0 ? G(r, 0) <= G(r, 1) + eps[0] && y === 0 : G(r, 1) <= G(r, 0) + eps[1] && y === 1;
      return pulled ? 1 : 0;
    });
    return {
      anchors: range(n), cols: range(n + 2), scale: t / baseT, pos,
      den: grid(n, n + 2, (r, j) => (j < n ? lm(r, j) : 0)),
    };
  };
}

/**
 * BCL Eq. 7 (paper's L2; no official code): for anchor r of class y and every class c with views other
 * than r, m_c = (1/T)·mean over those views k of z_r·z_k; ℓ_r = −(m_y − log Σ_c exp(m_c)), which is
 * Eq. 7 because its positives' mean logit is m_y. Mean over the V·B anchors; an anchor alone in its
 * class adds 0 (NaN with nanEmpty). Inputs [features, labels]; K = `classes`.
 */
export function bclL2Ref(classes: number, temperature: number, nanEmpty = false): RefOp {
  const evaluate = (inputs: Arr[]) => {
    const s = setup(inputs[0]);
    const n = s.v * s.b;
    const y = range(n).map((r) => inputs[1].data[r % s.b]);
    const members = range(n).map((r) => range(classes).map((c) => range(n).filter((j) => j !== r && y[j] === c)));
    let loss = 0;
    // dm[r][c] = dℓ_r/dm_rc, for the VJP.
    const dm = range(n).map((r) => {
      const m = members[r].map((js) => (js.length ? js.reduce((a, j) => a + dot(s.z[r], s.z[j]), 0) / (js.length * temperature) : NaN));
      if (!members[r][y[r]].length) {
        loss += nanEmpty ? NaN : 0;
        return m.map(() => 0);
      }
      const den = m.reduce((a, x) => (Number.isNaN(x) ? a : a + Math.exp(x)), 0);
      loss += Math.log(den) - m[y[r]];
      return m.map((x, c) => (Number.isNaN(x) ? 0 : Math.exp(x) / den - (c === y[r] ? 1 : 0)));
    });
    return { s, n, members, dm, loss: loss / n };
  };
  return {
    forward: (inputs) => arr([], [evaluate(inputs).loss]),
    vjp: (inputs, g) => {
      const { s, n, members, dm } = evaluate(inputs);
      const dz = s.z.map(() => new Float64Array(s.d));
      for (let r = 0; r < n; r++) {
        members[r].forEach((js, c) => {
          const w = (g.data[0] * dm[r][c]) / (n * js.length * temperature);
          for (const j of js) addDotGrad(dz, s.z, r, j, w);
        });
      }
      return [featureGrad(s, dz, inputs[0].shape), null];
    },
  };
}

/**
 * Reb-SupCon, PaCo layout (docs/paper-vs-code.md REB-1): features [B, 2, D] = (q, k) per sample,
 * prototypes input = the queue [Q, D] with labels `queueLabels`; anchors = the B queries (view 0);
 * columns = q, k, queue; positives = same label except the anchor itself (own key included); the anchor's
 * loss is weighted by weight[i].
 */
export function rebSupConLayout(queueLabels: number[], weight?: number[]) {
  return (s: Setup, labels: number[], _t: number): Layout => {
    const n = 2 * s.b + s.k;
    const label = (j: number) => (j < 2 * s.b ? labels[j % s.b] : queueLabels[j - 2 * s.b]);
    return {
      anchors: range(s.b), cols: range(n), scale: 1, weight,
      pos: grid(s.b, n, (r, j) => (r !== j && label(j) === labels[r] ? 1 : 0)),
      den: grid(s.b, n, (r, j) => (r === j ? 0 : 1)),
    };
  };
}
