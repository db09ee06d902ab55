// Small inline-SVG chart helpers for the run report. Hand-written so that the report is one HTML file
// with no script, font or library to fetch: it must open offline and stay readable in ten years.
// Every function returns an <svg> element as a string; inputs are plain numbers, NaN = missing.

/** Escapes text for HTML/SVG content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Distinguishable series colours (Okabe–Ito, readable by colour-blind readers). */
export const PALETTE = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#f0e442', '#000000'];

/** Colour of class `label` among `k`: evenly spaced hues, since ten or more classes outrun any palette. */
function classColor(label: number, k: number): string {
  return `hsl(${Math.round((360 * label) / Math.max(k, 1))},70%,45%)`;
}

const f = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(2)).toString() : '0');

/** A tick label short enough for an axis (3 significant digits, no exponent below 1e5). */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(1);
  return Number(x.toPrecision(3)).toString();
}

/** About `count` round tick values covering [lo, hi] (1-2-5 steps). */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** [min, max] of the finite values, widened when flat so that a scale never divides by zero. */
function extent(values: number[], fallback: [number, number] = [0, 1]): [number, number] {
  // A loop, not Math.min(...v): per-step logs can exceed the engine's argument limit.
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of values) {
    if (!Number.isFinite(x)) continue;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  if (lo > hi) return fallback;
  if (hi === lo) [lo, hi] = [lo - (Math.abs(lo) || 1) * 0.5, hi + (Math.abs(hi) || 1) * 0.5];
  return [lo, hi];
}

const W = 520;
const H = 260;
const M = { left: 52, right: 52, top: 16, bottom: 52 };

function open(w: number, h: number, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}" font-family="sans-serif" font-size="11">`;
}

/** Left (or right) value axis with grid lines, and a horizontal axis line. */
function yAxis(y: (v: number) => number, lo: number, hi: number, side: 'left' | 'right', title: string, grid: boolean, log = false): string {
  const x = side === 'left' ? M.left : W - M.right;
  const anchor = side === 'left' ? 'end' : 'start';
  const dx = side === 'left' ? -5 : 5;
  let s = `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${H - M.bottom}" stroke="#444"/>`;
  for (const t of ticks(lo, hi)) {
    if (grid) s += `<line x1="${M.left}" y1="${f(y(t))}" x2="${W - M.right}" y2="${f(y(t))}" stroke="#e5e5e5"/>`;
    s += `<text x="${x + dx}" y="${f(y(t) + 4)}" text-anchor="${anchor}">${esc(fmt(log ? 10 ** t : t))}</text>`;
  }
  const tx = side === 'left' ? 12 : W - 8;
  s += `<text transform="translate(${tx},${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(title)}</text>`;
  return s;
}

export interface Series {
  name: string;
  x: number[];
  y: number[];
  /** Dashed, for a second quantity (accuracy beside loss) on the same chart. */
  dashed?: boolean;
  color?: string;
}

/** Legend entries in a row under the plot area. */
function legend(items: { name: string; color: string; dashed?: boolean }[]): string {
  let s = '';
  let x = M.left;
  for (const it of items) {
    s += `<line x1="${x}" y1="${H - 8}" x2="${x + 16}" y2="${H - 8}" stroke="${it.color}" stroke-width="2"${it.dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
    s += `<text x="${x + 20}" y="${H - 4}">${esc(it.name)}</text>`;
    x += 28 + 6.2 * it.name.length;
  }
  return s;
}

/** Options of {@link lineChart}; `logX`/`logY` draw that axis in log10 (non-positive values are skipped). */
export interface LineChartOptions {
  xLabel: string;
  yLabel: string;
  yRange?: [number, number];
  logX?: boolean;
  logY?: boolean;
}

/** Line chart of one or more series sharing both axes (a single point draws as a dot). */
export function lineChart(series: Series[], opts: LineChartOptions): string {
  // Log axes: everything below works on log10 values; only the tick labels go back to 10^t.
  const tx = (v: number) => (opts.logX ? (v > 0 ? Math.log10(v) : NaN) : v);
  const ty = (v: number) => (opts.logY ? (v > 0 ? Math.log10(v) : NaN) : v);
  const [x0, x1] = extent(series.flatMap((s) => s.x.map(tx)));
  const [y0, y1] = opts.yRange ? [ty(opts.yRange[0]), ty(opts.yRange[1])] : extent(series.flatMap((s) => s.y.map(ty)));
  const X = (v: number) => M.left + ((v - x0) / (x1 - x0)) * (W - M.left - M.right);
  const Y = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const yTitle = `${opts.yLabel}${opts.logY ? ' (log)' : ''}`;
  let s = open(W, H, `${opts.yLabel} against ${opts.xLabel}`) + yAxis(Y, y0, y1, 'left', yTitle, true, opts.logY);
  s += `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#444"/>`;
  for (const t of ticks(x0, x1, 6)) s += `<text x="${f(X(t))}" y="${H - M.bottom + 14}" text-anchor="middle">${esc(fmt(opts.logX ? 10 ** t : t))}</text>`;
  s += `<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 27}" text-anchor="middle">${esc(opts.xLabel)}${opts.logX ? ' (log)' : ''}</text>`;
  series.forEach((sr, i) => {
    const color = sr.color ?? PALETTE[i % PALETTE.length];
    let pts = sr.x.map((x, j) => [tx(x), ty(sr.y[j])]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    // Long per-step logs are thinned to ~2000 vertices (the last kept): more is invisible at this width.
    const stride = Math.ceil(pts.length / 2000);
    if (stride > 1) pts = pts.filter((_, j) => j % stride === 0 || j === pts.length - 1);
    const dash = sr.dashed ? ' stroke-dasharray="5 3"' : '';
    if (pts.length > 1) s += `<polyline fill="none" stroke="${color}" stroke-width="1.8"${dash} points="${pts.map(([a, b]) => `${f(X(a))},${f(Y(b))}`).join(' ')}"/>`;
    if (pts.length <= 30) for (const [a, b] of pts) s += `<circle cx="${f(X(a))}" cy="${f(Y(b))}" r="2.5" fill="${color}"/>`;
  });
  s += legend(series.map((sr, i) => ({ name: sr.name, color: sr.color ?? PALETTE[i % PALETTE.length], dashed: sr.dashed })));
  return `${s}</svg>`;
}

/**
 * Bars per category on the left axis, with an optional line (another unit, e.g. training images per
 * class) on a right axis, optionally logarithmic since long-tailed counts span two or more decades.
 */
export function barChart(
  categories: string[],
  bars: number[],
  opts: { yLabel: string; yRange?: [number, number]; barColor?: (i: number) => string; line?: { name: string; values: number[]; log?: boolean } },
): string {
  const [y0, y1] = opts.yRange ?? [0, extent(bars, [0, 1])[1]];
  const n = Math.max(categories.length, 1);
  const bw = (W - M.left - M.right) / n;
  const Y = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  let s = open(W, H, `${opts.yLabel} per class`) + yAxis(Y, y0, y1, 'left', opts.yLabel, true);
  s += `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#444"/>`;
  categories.forEach((c, i) => {
    const v = bars[i];
    const x = M.left + i * bw;
    if (Number.isFinite(v)) {
      const top = Y(Math.min(Math.max(v, y0), y1));
      s += `<rect x="${f(x + bw * 0.15)}" y="${f(top)}" width="${f(bw * 0.7)}" height="${f(H - M.bottom - top)}" fill="${opts.barColor?.(i) ?? PALETTE[0]}"><title>${esc(`${c}: ${fmt(v)}`)}</title></rect>`;
    }
    s += `<text x="${f(x + bw / 2)}" y="${H - M.bottom + 14}" text-anchor="middle">${esc(c)}</text>`;
  });
  const items = [{ name: opts.yLabel, color: opts.barColor?.(0) ?? PALETTE[0] }];
  if (opts.line) {
    const { values, log } = opts.line;
    const tr = (v: number) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
    const [l0, l1] = extent(values.map(tr));
    const Z = (v: number) => H - M.bottom - ((tr(v) - l0) / (l1 - l0)) * (H - M.top - M.bottom);
    // Tick positions are in the transformed space; labels show the raw values.
    s += `<line x1="${W - M.right}" y1="${M.top}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#444"/>`;
    for (const t of ticks(l0, l1, 4)) {
      const raw = log ? 10 ** t : t;
      s += `<text x="${W - M.right + 5}" y="${f(Z(raw) + 4)}">${esc(fmt(raw))}</text>`;
    }
    s += `<text transform="translate(${W - 6},${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.line.name)}${log ? ' (log)' : ''}</text>`;
    const pts = values.map((v, i) => `${f(M.left + (i + 0.5) * bw)},${f(Z(v))}`);
    s += `<polyline fill="none" stroke="${PALETTE[1]}" stroke-width="2" points="${pts.join(' ')}"/>`;
    for (const p of pts) s += `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${PALETTE[1]}"/>`;
    items.push({ name: opts.line.name, color: PALETTE[1] });
  }
  return `${s + legend(items)}</svg>`;
}

/** Diverging colour for v in [-1, 1]: blue (−1) – white (0) – red (+1). */
function divergingColor(v: number): string {
  if (!Number.isFinite(v)) return '#bbbbbb';
  const t = Math.max(-1, Math.min(1, v));
  const [r, g, b] = t >= 0 ? [255, 255 - 180 * t, 255 - 200 * t] : [255 + 220 * t, 255 + 150 * t, 255];
  return `rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})`;
}

/** Square heatmap of `m` (values in [-1, 1]) with row/column labels, a title and a colour bar. */
export function heatmap(m: number[][], labels: string[], title: string): string {
  const k = m.length;
  const cell = Math.max(12, Math.min(28, Math.floor(260 / Math.max(k, 1))));
  const left = 36;
  const top = 24;
  // Wide enough for the title too, which is often longer than a small matrix.
  const w = Math.max(left + k * cell + 64, left + Math.ceil(6.5 * title.length));
  const h = top + k * cell + 24;
  let s = open(w, h, title) + `<text x="${left}" y="14" font-weight="bold">${esc(title)}</text>`;
  for (let i = 0; i < k; i++) {
    s += `<text x="${left - 4}" y="${f(top + (i + 0.5) * cell + 4)}" text-anchor="end">${esc(labels[i] ?? String(i))}</text>`;
    s += `<text x="${f(left + (i + 0.5) * cell)}" y="${top + k * cell + 14}" text-anchor="middle">${esc(labels[i] ?? String(i))}</text>`;
    for (let j = 0; j < k; j++) {
      s += `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${divergingColor(m[i][j])}"><title>${esc(`${labels[i]}·${labels[j]}: ${fmt(m[i][j])}`)}</title></rect>`;
    }
  }
  // Colour bar from +1 (top) to −1 (bottom).
  const bx = left + k * cell + 12;
  const steps = 20;
  for (let i = 0; i < steps; i++) {
    s += `<rect x="${bx}" y="${f(top + (i * k * cell) / steps)}" width="12" height="${f((k * cell) / steps + 0.5)}" fill="${divergingColor(1 - (2 * (i + 0.5)) / steps)}"/>`;
  }
  s += `<text x="${bx + 16}" y="${top + 8}">+1</text><text x="${bx + 16}" y="${f(top + (k * cell) / 2 + 4)}">0</text><text x="${bx + 16}" y="${top + k * cell}">−1</text>`;
  return `${s}</svg>`;
}

/**
 * Scatter of 2-D points coloured by label. With `circle`, points are directions drawn on the unit
 * circle (2-D normalised features); otherwise the axes are fitted to the data, keeping the aspect ratio.
 */
export function scatter(points: { x: number; y: number; label: number }[], labels: string[], opts: { circle: boolean; title: string }): string {
  const size = 300;
  const c = size / 2;
  const r = size / 2 - 20;
  const ext = opts.circle ? 1 : Math.max(1e-12, ...points.map((p) => Math.max(Math.abs(p.x), Math.abs(p.y))).filter(Number.isFinite));
  const w = size + 110;
  let s = open(w, size, opts.title);
  if (opts.circle) s += `<circle cx="${c}" cy="${c}" r="${r}" fill="none" stroke="#999"/>`;
  s += `<line x1="${c - r}" y1="${c}" x2="${c + r}" y2="${c}" stroke="#ddd"/><line x1="${c}" y1="${c - r}" x2="${c}" y2="${c + r}" stroke="#ddd"/>`;
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    s += `<circle cx="${f(c + (p.x / ext) * r)}" cy="${f(c - (p.y / ext) * r)}" r="2.2" fill="${classColor(p.label, labels.length)}" fill-opacity="0.6"/>`;
  }
  const present = [...new Set(points.map((p) => p.label))].sort((a, b) => a - b);
  present.forEach((l, i) => {
    s += `<circle cx="${size + 12}" cy="${16 + i * 15}" r="4" fill="${classColor(l, labels.length)}"/><text x="${size + 20}" y="${20 + i * 15}">${esc(labels[l] ?? String(l))}</text>`;
  });
  return `${s}</svg>`;
}
