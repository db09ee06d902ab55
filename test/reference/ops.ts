// Float64 CPU references of every op: a forward and a vector-Jacobian product (the gradient rule),
// written independently of the GPU code. The VJPs are themselves checked by central finite differences
// (see check.ts), so a wrong reference cannot vouch for a wrong kernel.

export interface Arr {
  shape: number[];
  data: Float64Array;
}

export interface RefOp {
  forward(inputs: Arr[]): Arr;
  /** d(sum(g * forward(inputs)))/d(input_i) for each differentiable input (null for the others). */
  vjp(inputs: Arr[], g: Arr): (Arr | null)[];
}

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Norm-wise relative error max|got - want| / max|want| (NaN anywhere counts as an infinite error). */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(got[i]) !== Number.isNaN(want[i])) return Infinity;
    if (Number.isNaN(want[i])) continue;
    num = Math.max(num, Math.abs(got[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  return num / Math.max(den, 1e-30);
}

/** The nearest f16 value (ties to even; no overflow handling: for inputs well inside f16's range). */
export function roundToF16(x: number): number {
  const a = Math.abs(x);
  if (a === 0 || !Number.isFinite(a)) return x;
  // Below 2^-14 f16 is subnormal: a fixed step of 2^-24.
  let exp = Math.max(-14, Math.floor(Math.log2(a)));
  if (exp > -14 && 2 ** exp > a) exp--;
  const ulp = 2 ** (exp - 10);
  const q = a / ulp;
  const f = Math.floor(q);
  const rounded = q - f > 0.5 || (q - f === 0.5 && f % 2 === 1) ? f + 1 : f;
  return Math.sign(x) * rounded * ulp;
}

export const arr = (shape: number[], data?: ArrayLike<number>): Arr => ({ shape, data: data ? Float64Array.from(data) : new Float64Array(size(shape)) });

function strides(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function coords(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}

export function broadcastShape(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => Math.max(...shapes.map((s) => s[s.length - rank + i] ?? 1)));
}

/** Flat index into `inShape` of output element i of `outShape` under broadcasting. */
function bIndex(i: number, outShape: number[], inShape: number[]): number {
  const c = coords(i, outShape);
  const st = strides(inShape);
  const lead = outShape.length - inShape.length;
  let k = 0;
  for (let d = 0; d < inShape.length; d++) k += (inShape[d] === 1 ? 0 : c[d + lead]) * st[d];
  return k;
}

/** Adjoint of broadcasting: sums g [outShape] down to inShape. */
function unbroadcast(g: Arr, inShape: number[]): Arr {
  const r = arr(inShape);
  for (let i = 0; i < g.data.length; i++) r.data[bIndex(i, g.shape, inShape)] += g.data[i];
  return r;
}

export function unaryRef(f: (x: number) => number, df: (x: number, y: number) => number): RefOp {
  return {
    forward: ([x]) => arr(x.shape, x.data.map(f)),
    vjp: ([x], g) => [arr(x.shape, x.data.map((v, i) => g.data[i] * df(v, f(v))))],
  };
}

export function binaryRef(f: (a: number, b: number) => number, da: (a: number, b: number) => number, db: (a: number, b: number) => number): RefOp {
  return {
    forward: ([a, b]) => {
      const shape = broadcastShape(a.shape, b.shape);
      const out = arr(shape);
      for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[bIndex(i, shape, a.shape)], b.data[bIndex(i, shape, b.shape)]);
      return out;
    },
    vjp: ([a, b], g) => {
      const ga = arr(g.shape);
      const gb = arr(g.shape);
      for (let i = 0; i < g.data.length; i++) {
        const x = a.data[bIndex(i, g.shape, a.shape)];
        const y = b.data[bIndex(i, g.shape, b.shape)];
        ga.data[i] = g.data[i] * da(x, y);
        gb.data[i] = g.data[i] * db(x, y);
      }
      return [unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)];
    },
  };
}

export const whereRef: RefOp = {
  forward: ([c, a, b]) => {
    const shape = broadcastShape(c.shape, a.shape, b.shape);
    const out = arr(shape);
    for (let i = 0; i < out.data.length; i++) {
      out.data[i] = c.data[bIndex(i, shape, c.shape)] !== 0 ? a.data[bIndex(i, shape, a.shape)] : b.data[bIndex(i, shape, b.shape)];
    }
    return out;
  },
  vjp: ([c, a, b], g) => {
    const ga = arr(g.shape);
    const gb = arr(g.shape);
    for (let i = 0; i < g.data.length; i++) {
      if (c.data[bIndex(i, g.shape, c.shape)] !== 0) ga.data[i] = g.data[i];
      else gb.data[i] = g.data[i];
    }
    return [null, unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)];
  },
};

/** Reduction over `axes` (keepDims false) with combine and its derivative weights. */
export function reduceRef(kind: 'sum' | 'mean' | 'max' | 'min' | 'logsumexp', axes: number[]): RefOp {
  const groups = (x: Arr) => {
    const outShape = x.shape.filter((_, i) => !axes.includes(i));
    const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const members: number[][] = Array.from({ length: size(outShape) }, () => []);
    for (let i = 0; i < x.data.length; i++) {
      const c = coords(i, x.shape).map((v, d) => (axes.includes(d) ? 0 : v));
      let k = 0;
      const st = strides(keep);
      c.forEach((v, d) => (k += v * st[d]));
      members[k].push(i);
    }
    return { outShape, members };
  };
  const value = (xs: number[]) => {
    if (kind === 'sum') return xs.reduce((a, b) => a + b, 0);
    if (kind === 'mean') return xs.reduce((a, b) => a + b, 0) / xs.length;
    if (kind === 'max') return Math.max(...xs);
    if (kind === 'min') return Math.min(...xs);
    const m = Math.max(...xs);
    return m + Math.log(xs.reduce((a, b) => a + Math.exp(b - m), 0));
  };
  return {
    forward: ([x]) => {
      const { outShape, members } = groups(x);
      return arr(outShape, members.map((m) => value(m.map((i) => x.data[i]))));
    },
    vjp: ([x], g) => {
      const { members } = groups(x);
      const gx = arr(x.shape);
      members.forEach((m, k) => {
        const xs = m.map((i) => x.data[i]);
        const y = value(xs);
        const ties = xs.filter((v) => v === y).length;
        m.forEach((i) => {
          const v = x.data[i];
          const w =
            kind === 'sum' ? 1 : kind === 'mean' ? 1 / m.length : kind === 'logsumexp' ? Math.exp(v - y) : v === y ? 1 / ties : 0;
          gx.data[i] = g.data[k] * w;
        });
      });
      return [gx];
    },
  };
}

/** Batched matmul over the last two axes with optional transposes; batch dims broadcast if absent. */
export function matmulRef(transA = false, transB = false): RefOp {
  const get = (x: Arr, b: number, r: number, c: number, trans: boolean) => {
    const [R, C] = x.shape.slice(-2);
    const base = x.shape.length > 2 ? b * R * C : 0;
    return trans ? x.data[base + c * C + r] : x.data[base + r * C + c];
  };
  const dims = (a: Arr, b: Arr) => {
    const m = transA ? a.shape.at(-1)! : a.shape.at(-2)!;
    const k = transA ? a.shape.at(-2)! : a.shape.at(-1)!;
    const n = transB ? b.shape.at(-2)! : b.shape.at(-1)!;
    const batchShape = a.shape.length > 2 ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    return { m, k, n, batchShape, batch: size(batchShape) };
  };
  return {
    forward: ([a, b]) => {
      const { m, k, n, batchShape, batch } = dims(a, b);
      const out = arr([...batchShape, m, n]);
      for (let t = 0; t < batch; t++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let q = 0; q < k; q++) s += get(a, t, i, q, transA) * get(b, t, q, j, transB);
            out.data[(t * m + i) * n + j] = s;
          }
      return out;
    },
    vjp: ([a, b], g) => {
      const { m, k, n, batch } = dims(a, b);
      const ga = arr(a.shape);
      const gb = arr(b.shape);
      const [aR, aC] = a.shape.slice(-2);
      const [bR, bC] = b.shape.slice(-2);
      for (let t = 0; t < batch; t++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            const gv = g.data[(t * m + i) * n + j];
            for (let q = 0; q < k; q++) {
              const aBase = a.shape.length > 2 ? t * aR * aC : 0;
              const bBase = b.shape.length > 2 ? t * bR * bC : 0;
              ga.data[aBase + (transA ? q * aC + i : i * aC + q)] += gv * get(b, t, q, j, transB);
              gb.data[bBase + (transB ? j * bC + q : q * bC + j)] += gv * get(a, t, i, q, transA);
            }
          }
      return [ga, gb];
    },
  };
}

/** Applies `fn` to every row (last axis) of x. */
function rows(x: Arr, fn: (row: Float64Array) => Float64Array): Arr {
  const c = x.shape.at(-1)!;
  const out = arr(x.shape);
  for (let r = 0; r < x.data.length / c; r++) out.data.set(fn(x.data.subarray(r * c, (r + 1) * c)), r * c);
  return out;
}

/** The VJP of a row-wise op: `fn` maps one row of x and of the upstream gradient to the row of dx. */
function rowsVjp(x: Arr, g: Arr, fn: (row: Float64Array, gRow: Float64Array) => ArrayLike<number>): Arr {
  const c = x.shape.at(-1)!;
  const gx = arr(x.shape);
  for (let r = 0; r < x.data.length / c; r++) {
    gx.data.set(fn(x.data.subarray(r * c, (r + 1) * c), g.data.subarray(r * c, (r + 1) * c)), r * c);
  }
  return gx;
}

function lse(row: Float64Array): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
}

export function softmaxRef(log: boolean): RefOp {
  const f = (row: Float64Array) => row.map((v) => (log ? v - lse(row) : Math.exp(v - lse(row))));
  return {
    forward: ([x]) => rows(x, f),
    vjp: ([x], g) => [
      rowsVjp(x, g, (row, gr) => {
        const p = row.map((v) => Math.exp(v - lse(row)));
        const dot = log ? gr.reduce((a, b) => a + b, 0) : gr.reduce((s, v, j) => s + v * p[j], 0);
        return p.map((pj, j) => (log ? gr[j] - pj * dot : pj * (gr[j] - dot)));
      }),
    ],
  };
}

export function l2NormalizeRef(eps = 1e-12): RefOp {
  return {
    forward: ([x]) => rows(x, (row) => {
      const n = Math.max(Math.hypot(...row), eps);
      return row.map((v) => v / n);
    }),
    vjp: ([x], g) => [
      rowsVjp(x, g, (row, gr) => {
        const n = Math.hypot(...row);
        const dot = row.reduce((s, v, j) => s + v * gr[j], 0);
        return row.map((v, j) => (gr[j] - (v * dot) / (n * n)) / n);
      }),
    ],
  };
}

/** Mean cross-entropy of logits [N, C] against integer labels (passed as a float Arr). */
export const crossEntropyRef: RefOp = {
  forward: ([x, y]) => {
    const c = x.shape[1];
    let s = 0;
    for (let r = 0; r < x.shape[0]; r++) {
      const row = x.data.subarray(r * c, (r + 1) * c);
      s += lse(row) - row[y.data[r]];
    }
    return arr([], [s / x.shape[0]]);
  },
  vjp: ([x, y], g) => {
    const [n, c] = x.shape;
    const gx = arr(x.shape);
    for (let r = 0; r < n; r++) {
      const row = x.data.subarray(r * c, (r + 1) * c);
      const l = lse(row);
      for (let j = 0; j < c; j++) gx.data[r * c + j] = (g.data[0] / n) * (Math.exp(row[j] - l) - (j === y.data[r] ? 1 : 0));
    }
    return [gx, null];
  },
};

export function permuteRef(dims: number[]): RefOp {
  const apply = (x: Arr, d: number[]) => {
    const shape = d.map((k) => x.shape[k]);
    const out = arr(shape);
    const st = strides(x.shape);
    for (let i = 0; i < out.data.length; i++) {
      const c = coords(i, shape);
      out.data[i] = x.data[c.reduce((s, v, k) => s + v * st[d[k]], 0)];
    }
    return out;
  };
  return {
    forward: ([x]) => apply(x, dims),
    vjp: (_, g) => [apply(g, dims.map((_, i) => dims.indexOf(i)))],
  };
}

export function expandRef(shape: number[]): RefOp {
  return {
    forward: ([x]) => arr(shape, Array.from({ length: size(shape) }, (_, i) => x.data[bIndex(i, shape, x.shape)])),
    vjp: ([x], g) => [unbroadcast(g, x.shape)],
  };
}

export function sliceRef(axis: number, start: number, end: number, step = 1): RefOp {
  const at = (c: number[]) => {
    c[axis] = start + c[axis] * step;
    return c;
  };
  return {
    forward: ([x]) => {
      const shape = x.shape.map((d, i) => (i === axis ? Math.ceil((end - start) / step) : d));
      const out = arr(shape);
      const st = strides(x.shape);
      for (let i = 0; i < out.data.length; i++) out.data[i] = x.data[at(coords(i, shape)).reduce((s, v, k) => s + v * st[k], 0)];
      return out;
    },
    vjp: ([x], g) => {
      const gx = arr(x.shape);
      const st = strides(x.shape);
      for (let i = 0; i < g.data.length; i++) gx.data[at(coords(i, g.shape)).reduce((s, v, k) => s + v * st[k], 0)] = g.data[i];
      return [gx];
    },
  };
}

export function concatRef(axis: number): RefOp {
  return {
    forward: (xs) => {
      const shape = xs[0].shape.map((d, i) => (i === axis ? xs.reduce((n, x) => n + x.shape[axis], 0) : d));
      const out = arr(shape);
      const st = strides(shape);
      let at = 0;
      for (const x of xs) {
        for (let i = 0; i < x.data.length; i++) {
          const c = coords(i, x.shape);
          c[axis] += at;
          out.data[c.reduce((s, v, k) => s + v * st[k], 0)] = x.data[i];
        }
        at += x.shape[axis];
      }
      return out;
    },
    vjp: (xs, g) => {
      let at = 0;
      return xs.map((x) => {
        const r = sliceRef(axis, at, at + x.shape[axis]).forward([g]);
        at += x.shape[axis];
        return r;
      });
    },
  };
}

/** gather along `axis` with fixed integer indices. */
export function gatherRef(axis: number, idx: number[]): RefOp {
  const around = (shape: number[]) => [size(shape.slice(0, axis)), size(shape.slice(axis + 1))];
  return {
    forward: ([x]) => {
      const [outer, inner] = around(x.shape);
      const rowsN = x.shape[axis];
      const out = arr(x.shape.map((d, i) => (i === axis ? idx.length : d)));
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < idx.length; j++)
          for (let i = 0; i < inner; i++) out.data[(o * idx.length + j) * inner + i] = x.data[(o * rowsN + idx[j]) * inner + i];
      return out;
    },
    vjp: ([x], g) => [scatterAddRef(axis, idx, x.shape[axis]).forward([g])],
  };
}

/** scatter-add along `axis` into `rowsN` slots. */
export function scatterAddRef(axis: number, idx: number[], rowsN: number): RefOp {
  const around = (shape: number[]) => [size(shape.slice(0, axis)), size(shape.slice(axis + 1))];
  return {
    forward: ([src]) => {
      const [outer, inner] = around(src.shape);
      const out = arr(src.shape.map((d, i) => (i === axis ? rowsN : d)));
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < idx.length; j++)
          for (let i = 0; i < inner; i++) out.data[(o * rowsN + idx[j]) * inner + i] += src.data[(o * idx.length + j) * inner + i];
      return out;
    },
    vjp: (_, g) => [gatherRef(axis, idx).forward([g])],
  };
}
