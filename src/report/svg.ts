// Small inline-SVG chart helpers for the run report. Hand-written so that the report is one HTML file
// with no script, font or library to fetch: it must open offline and stay readable in ten years.
// Every function returns an <svg> element as a string; inputs are plain numbers, NaN = missing.
//
// Layout: nothing is measured in a browser, so every margin is sized from the estimated width of the
// text it must hold (textWidth, with DejaVu Sans' advance widths: the widest of the common sans-serif
// fonts, so that Arial or Helvetica fit too). Long category labels are slanted or turned upright and,
// when even that would overlap, only every n-th is written; every chart has axis titles; series legends
// sit under the plot and wrap, colour scales sit right of a heatmap.

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

// ---------------------------------------------------------------------------------------------------
// Text metrics

/** Font size of all chart text but titles. */
const FONT = 11;
/** DejaVu Sans' ascent and descent in em: the vertical extent of a line of text around its baseline. */
const ASCENT = 0.93;
const DESCENT = 0.24;
/** Height of a line of `size` px text, with a pixel to spare. */
const lineHeight = (size = FONT) => Math.ceil((ASCENT + DESCENT) * size) + 1;

/** Printable ASCII (from the space) with DejaVu Sans' advance widths in units of 1/2048 em. */
const ASCII_WIDTHS = [
  651, 823, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, // space ! " # $ % & ' ( ) * + , - . /
  1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087, // 0-9 : ; < = > ?
  2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, // @ A-O
  1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, // P-Z [ \ ] ^ _
  1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253, // ` a-o
  1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303, 1716, // p-z { | } ~
];

/**
 * Estimated width in px of `s` in DejaVu Sans at `size` px (bold adds 10 %): the advance widths plus
 * 0.12 em for the ink of the last glyph past its advance ('f', 'T'). Characters outside ASCII (Greek,
 * math signs, arrows) count 0.85 em, about the widest of them.
 */
export function textWidth(s: string, size = FONT, bold = false): number {
  let em = 0.12;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    em += c >= 32 && c < 127 ? ASCII_WIDTHS[c - 32] / 2048 : 0.85;
  }
  return em * size * (bold ? 1.1 : 1);
}

const maxWidth = (labels: string[], size = FONT) => labels.reduce((m, s) => Math.max(m, textWidth(s, size)), 0);

/** A text element; `extra` holds further attributes (already escaped). */
function text(x: number, y: number, s: string, extra = ''): string {
  return `<text x="${f(x)}" y="${f(y)}"${extra ? ` ${extra}` : ''}>${esc(s)}</text>`;
}

/** "every other", "every 3rd", … for captions of thinned labels. */
function everyNth(n: number): string {
  if (n === 2) return 'every other';
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `every ${n}${suffix}`;
}

/** `s` broken at spaces into lines of at most `length` px (a longer word stays whole on its line). */
function wrap(s: string, length: number, size = FONT): string[] {
  const lines: string[] = [];
  for (const word of s.split(' ')) {
    const last = lines.at(-1);
    if (last !== undefined && textWidth(`${last} ${word}`, size) <= length) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * A title turned upright (reading upwards) in a column of `lines.length` lines whose left edge is at
 * `x`, centred on `y`; lines follow each other rightwards, as they read when turned.
 */
function uprightTitle(lines: string[], x: number, y: number, cls: string): string {
  return lines.map((l, i) => turned(x + (i + 0.5) * lineHeight(), y, -90, l, 'middle', `class="${cls}"`)).join('');
}

/** Text turned by `angle` degrees about its anchor (x, y), centred vertically on that point. */
function turned(x: number, y: number, angle: number, s: string, anchor: 'start' | 'middle' | 'end', extra = ''): string {
  return `<text transform="translate(${f(x)},${f(y)}) rotate(${angle})" dy="0.35em" text-anchor="${anchor}"${extra ? ` ${extra}` : ''}>${esc(s)}</text>`;
}

// ---------------------------------------------------------------------------------------------------
// Scales and ticks

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

/**
 * At most about `count` ticks for a log10 axis spanning [lo, hi] (log10 values; returned likewise):
 * 1-2-5 or 1-3 multiples of powers of ten when they fit, else every n-th power of ten, and linear
 * ticks when the axis spans too little of a decade for either.
 */
function logTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  for (const mantissas of [[1, 2, 5], [1, 3], [1]]) {
    const out: number[] = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
      for (const m of mantissas) {
        const t = Math.log10(m) + e;
        if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push(t);
      }
    }
    if (out.length >= 2 && out.length <= count + 1) return out;
    if (mantissas.length === 1 && out.length > count + 1) {
      const every = Math.ceil(out.length / count);
      return out.filter((t) => Math.round(t) % every === 0);
    }
  }
  return ticks(10 ** lo, 10 ** hi, count).filter((v) => v > 0).map(Math.log10);
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

/** [lo, hi] widened outwards to the nearest of about `count` round ticks, so that the axis ends on a tick. */
function nice([lo, hi]: [number, number], count = 5): [number, number] {
  const t = ticks(lo, hi, count);
  if (t.length < 2) return [lo, hi];
  const step = t[1] - t[0];
  return [Number((Math.floor(lo / step + 1e-9) * step).toPrecision(12)), Number((Math.ceil(hi / step - 1e-9) * step).toPrecision(12))];
}

/** Ticks of a value axis: positions in axis space (log10 for a log axis) and their labels. */
interface Ticks {
  at: number[];
  labels: string[];
}

function valueTicks(lo: number, hi: number, log: boolean, count: number): Ticks {
  const at = log ? logTicks(lo, hi, count) : ticks(lo, hi, count);
  return { at, labels: at.map((t) => fmt(log ? 10 ** t : t)) };
}

/**
 * The densest ticks along a horizontal axis of `length` px whose labels do not touch: between two
 * neighbours' centres there must be half of each label plus 10 px.
 */
function horizontalTicks(lo: number, hi: number, log: boolean, length: number): Ticks {
  for (let count = 8; count >= 2; count--) {
    const t = valueTicks(lo, hi, log, count);
    const px = (v: number) => ((v - lo) / (hi - lo)) * length;
    const fits = t.at.every((v, i) => i === 0 || px(v) - px(t.at[i - 1]) >= (textWidth(t.labels[i]) + textWidth(t.labels[i - 1])) / 2 + 10);
    if (fits) return t;
  }
  const t = valueTicks(lo, hi, log, 2);
  return { at: [t.at[0], t.at.at(-1)!], labels: [t.labels[0], t.labels.at(-1)!] };
}

// ---------------------------------------------------------------------------------------------------
// Frame pieces

/**
 * Classes of the axis titles (bottom, left, right, top axis, colour scale), so that a reader's tools (and
 * test/report.test.ts) can find them; a wrapped title is several text elements of one class.
 */
export const X_TITLE = 'axis-title x';
export const Y_TITLE = 'axis-title y';
export const Y2_TITLE = 'axis-title y2';
export const X2_TITLE = 'axis-title x2';
export const SCALE_TITLE = 'axis-title scale';

/** Outer padding of every chart. */
const PAD = 6;
/** Default outer width of a chart, and the plot height of line and bar charts. */
const W = 520;
const PLOT_H = 180;
/** Widest chart (the report's column is about 1120 px). */
const MAX_W = 1100;

function open(w: number, h: number, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${f(w)}" height="${f(h)}" viewBox="0 0 ${f(w)} ${f(h)}" role="img" aria-label="${esc(label)}" font-family="sans-serif" font-size="${FONT}">`;
}

/** Width a vertical value axis needs beside the plot: tick marks, labels and the turned title's lines. */
const valueAxisWidth = (t: Ticks, title: string[]) => 4 + 3 + maxWidth(t.labels) + 6 + title.length * lineHeight() + PAD;

/**
 * A vertical value axis at x = `x` (the plot's left or right edge), its grid lines and its turned title
 * (`title`: lines, from wrap), in the outermost column of the chart (`outer`: x = 0 or the chart's width).
 */
function valueAxis(t: Ticks, y: (v: number) => number, x: number, side: 'left' | 'right', title: string[], grid: { from: number; to: number } | null, top: number, bottom: number, outer: number): string {
  const dir = side === 'left' ? -1 : 1;
  let s = `<line x1="${f(x)}" y1="${f(top)}" x2="${f(x)}" y2="${f(bottom)}" stroke="#444"/>`;
  t.at.forEach((v, i) => {
    const yy = y(v);
    if (grid) s += `<line x1="${f(grid.from)}" y1="${f(yy)}" x2="${f(grid.to)}" y2="${f(yy)}" stroke="#e5e5e5"/>`;
    s += `<line x1="${f(x)}" y1="${f(yy)}" x2="${f(x + 4 * dir)}" y2="${f(yy)}" stroke="#444"/>`;
    s += text(x + 7 * dir, yy, t.labels[i], `dy="0.35em" text-anchor="${side === 'left' ? 'end' : 'start'}"`);
  });
  // The title is centred on the plot, against the chart's outer edge.
  const tx = side === 'left' ? outer + PAD : outer - PAD - title.length * lineHeight();
  return s + uprightTitle(title, tx, (top + bottom) / 2, side === 'left' ? Y_TITLE : Y2_TITLE);
}

/** One entry of a series legend; the swatch shows how the series is drawn. */
export interface LegendItem {
  name: string;
  color: string;
  /** 'line' (default): a stroke, 'bar': a filled square, 'dot': a marker, 'guide': a thin grey dashed stroke. */
  kind?: 'line' | 'bar' | 'dot' | 'guide';
  dashed?: boolean;
  /** A marker on the line swatch (series drawn with dots). */
  dots?: boolean;
}

const LEGEND_ROW = 16;
const legendItemWidth = (it: LegendItem) => 18 + 5 + textWidth(it.name) + 14;

/** Rows of legend entries filling `width` px; `height` is what they take. */
function legendLayout(items: LegendItem[], width: number): { height: number; rows: LegendItem[][] } {
  const rows: LegendItem[][] = [];
  let x = 0;
  for (const it of items) {
    const w = legendItemWidth(it);
    if (!rows.length || (x + w - 14 > width && x > 0)) {
      rows.push([]);
      x = 0;
    }
    rows.at(-1)!.push(it);
    x += w;
  }
  return { height: rows.length * LEGEND_ROW, rows };
}

/** Draws a legend laid out by {@link legendLayout} with its top-left corner at (x0, y0). */
function drawLegend(rows: LegendItem[][], x0: number, y0: number): string {
  let s = '<g class="legend">';
  rows.forEach((row, r) => {
    const cy = y0 + r * LEGEND_ROW + LEGEND_ROW / 2;
    let x = x0;
    for (const it of row) {
      const kind = it.kind ?? 'line';
      if (kind === 'bar') s += `<rect x="${f(x + 4)}" y="${f(cy - 5)}" width="10" height="10" fill="${it.color}"/>`;
      else if (kind === 'dot') s += `<circle cx="${f(x + 9)}" cy="${f(cy)}" r="3" fill="${it.color}"/>`;
      else {
        const dash = kind === 'guide' ? ' stroke-dasharray="3 3"' : it.dashed ? ' stroke-dasharray="4 3"' : '';
        s += `<line x1="${f(x)}" y1="${f(cy)}" x2="${f(x + 18)}" y2="${f(cy)}" stroke="${it.color}" stroke-width="${kind === 'guide' ? 1 : 2}"${dash}/>`;
        if (it.dots) s += `<circle cx="${f(x + 9)}" cy="${f(cy)}" r="2.5" fill="${it.color}"/>`;
      }
      s += text(x + 23, cy, it.name, 'dy="0.35em"');
      x += legendItemWidth(it);
    }
  });
  return `${s}</g>`;
}

// ---------------------------------------------------------------------------------------------------
// Line chart

export interface Series {
  name: string;
  x: number[];
  y: number[];
  /** Dashed, for a second quantity (accuracy beside loss) on the same chart. */
  dashed?: boolean;
  color?: string;
  /** 'line' (with dots when 30 points or fewer; default), 'dots' (markers only), 'both'. */
  style?: 'line' | 'dots' | 'both';
  /** Error bars: half-width at each point (e.g. the standard deviation over seeds), same index as y. */
  errors?: number[];
}

/** Dashed vertical guides at x positions, labelled on an axis above the plot (e.g. epoch ends on a step axis). */
export interface Guides {
  /** Title of the top axis. */
  title: string;
  at: number[];
  labels: string[];
  /** Legend entry for the guides. */
  legend?: string;
}

/** Options of {@link lineChart}; `logX`/`logY` draw that axis in log10 (non-positive values are skipped). */
export interface LineChartOptions {
  xLabel: string;
  yLabel: string;
  yRange?: [number, number];
  logX?: boolean;
  logY?: boolean;
  guides?: Guides;
  /** Outer width in px (default 520). */
  width?: number;
}

/**
 * Which guide labels to write so that none touches the next (its width plus 8 px): those of every n-th
 * guide, n from 1, 2, 5, 10, 20, 50, …, counted from 1 (epochs 5, 10, 15, … rather than 1, 6, 11, …).
 */
function roundSubset(positions: number[], labels: string[]): number[] {
  const need = maxWidth(labels) + 8;
  for (let mag = 1; ; mag *= 10) {
    for (const m of [1, 2, 5]) {
      const n = m * mag;
      const kept = positions.map((_, i) => i).filter((i) => (i + 1) % n === 0 || positions.length === 1);
      if (n >= positions.length || kept.every((i, j) => j === 0 || positions[i] - positions[kept[j - 1]] >= need)) return kept;
    }
  }
}

/** Line chart of one or more series sharing both axes (a single point draws as a dot). */
export function lineChart(series: Series[], opts: LineChartOptions): string {
  // Log axes: everything below works on log10 values; only the tick labels go back to 10^t.
  const tx = (v: number) => (opts.logX ? (v > 0 ? Math.log10(v) : NaN) : v);
  const ty = (v: number) => (opts.logY ? (v > 0 ? Math.log10(v) : NaN) : v);
  const [x0, x1] = extent(series.flatMap((s) => s.x.map(tx)));
  const fitted = extent(series.flatMap((s) => s.y.flatMap((y, j) => [y - (s.errors?.[j] ?? 0), y + (s.errors?.[j] ?? 0)]).map(ty)));
  const [y0, y1] = opts.yRange ? [ty(opts.yRange[0]), ty(opts.yRange[1])] : opts.logY ? fitted : nice(fitted);
  const width = opts.width ?? W;
  const yTicks = valueTicks(y0, y1, !!opts.logY, 5);
  const yTitle = wrap(`${opts.yLabel}${opts.logY ? ' (log scale)' : ''}`, PLOT_H);
  const left = valueAxisWidth(yTicks, yTitle);
  // The last x (or guide) label is centred on the plot's right edge at worst: half of the widest possible label.
  const right = Math.max(16, maxWidth([...valueTicks(x0, x1, !!opts.logX, 8).labels, ...(opts.guides?.labels ?? [])]) / 2 + PAD);
  const plotW = width - left - right;
  const xTicks = horizontalTicks(x0, x1, !!opts.logX, plotW);
  const top = opts.guides ? PAD + 2 * lineHeight() + 6 : PAD + 8;
  const legendItems: LegendItem[] = series.map((sr, i) => {
    const color = sr.color ?? PALETTE[i % PALETTE.length];
    if (sr.style === 'dots') return { name: sr.name, color, kind: 'dot' };
    const n = sr.x.filter((x, j) => Number.isFinite(tx(x)) && Number.isFinite(ty(sr.y[j]))).length;
    return { name: sr.name, color, dashed: sr.dashed, dots: sr.style === 'both' || n <= 30 };
  });
  if (opts.guides?.legend) legendItems.push({ name: opts.guides.legend, color: '#888', kind: 'guide' });
  const leg = legendLayout(legendItems, width - 2 * PAD);
  const axisBottom = top + PLOT_H;
  const height = axisBottom + 4 + lineHeight() + 4 + lineHeight() + 6 + leg.height + PAD;
  const X = (v: number) => left + ((v - x0) / (x1 - x0)) * plotW;
  const Y = (v: number) => axisBottom - ((v - y0) / (y1 - y0)) * PLOT_H;
  const xTitle = `${opts.xLabel}${opts.logX ? ' (log scale)' : ''}`;
  let s = open(width, height, `${opts.yLabel} against ${opts.xLabel}`);
  s += valueAxis(yTicks, Y, left, 'left', yTitle, { from: left, to: left + plotW }, top, axisBottom, 0);
  s += `<line x1="${f(left)}" y1="${f(axisBottom)}" x2="${f(left + plotW)}" y2="${f(axisBottom)}" stroke="#444"/>`;
  xTicks.at.forEach((t, i) => {
    s += `<line x1="${f(X(t))}" y1="${f(axisBottom)}" x2="${f(X(t))}" y2="${f(axisBottom + 4)}" stroke="#444"/>`;
    s += text(X(t), axisBottom + 4 + ASCENT * FONT + 1, xTicks.labels[i], 'text-anchor="middle"');
  });
  s += text(left + plotW / 2, axisBottom + 8 + lineHeight() + ASCENT * FONT + 1, xTitle, `text-anchor="middle" class="${X_TITLE}"`);
  if (opts.guides) {
    const g = opts.guides;
    const idx = g.at.map((_, i) => i).filter((i) => Number.isFinite(tx(g.at[i])));
    const px = idx.map((i) => X(tx(g.at[i])));
    // Guides closer than 5 px would grey the plot out: then only the labelled ones are drawn.
    const labelled = new Set(roundSubset(px, idx.map((i) => g.labels[i])));
    const dense = px.some((p, j) => j > 0 && p - px[j - 1] < 5);
    px.forEach((p, j) => {
      if (dense && !labelled.has(j)) return;
      s += `<line x1="${f(p)}" y1="${f(top)}" x2="${f(p)}" y2="${f(axisBottom)}" stroke="#999" stroke-dasharray="3 3"/>`;
    });
    for (const j of labelled) s += text(px[j], top - 4 - DESCENT * FONT, g.labels[idx[j]], 'text-anchor="middle"');
    s += text(left + plotW / 2, PAD + ASCENT * FONT, g.title, `text-anchor="middle" class="${X2_TITLE}"`);
  }
  series.forEach((sr, i) => {
    const color = legendItems[i].color;
    let pts = sr.x.map((x, j) => [tx(x), ty(sr.y[j])]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    // Long per-step logs are thinned to ~2000 vertices (the last kept): more is invisible at this width.
    const stride = Math.ceil(pts.length / 2000);
    if (stride > 1) pts = pts.filter((_, j) => j % stride === 0 || j === pts.length - 1);
    // A series inside yRange is drawn as is; values outside it are clamped to the frame.
    const clampY = (b: number) => Math.min(Math.max(b, y0), y1);
    const dash = sr.dashed ? ' stroke-dasharray="5 3"' : '';
    const line = sr.style !== 'dots';
    const dots = sr.style === 'dots' || sr.style === 'both' || pts.length <= 30;
    if (line && pts.length > 1) s += `<polyline fill="none" stroke="${color}" stroke-width="1.8"${dash} points="${pts.map(([a, b]) => `${f(X(a))},${f(Y(clampY(b)))}`).join(' ')}"/>`;
    if (dots || pts.length === 1) for (const [a, b] of pts) s += `<circle cx="${f(X(a))}" cy="${f(Y(clampY(b)))}" r="2.5" fill="${color}"/>`;
    sr.errors?.forEach((e, j) => {
      const a = tx(sr.x[j]);
      if (!(e > 0) || !Number.isFinite(a) || !Number.isFinite(sr.y[j])) return;
      const [lo, hi] = [ty(sr.y[j] - e), ty(sr.y[j] + e)].map((v) => clampY(Number.isFinite(v) ? v : y0));
      s += `<line x1="${f(X(a))}" y1="${f(Y(lo))}" x2="${f(X(a))}" y2="${f(Y(hi))}" stroke="${color}" stroke-width="1.2"/>`;
      for (const v of [lo, hi]) s += `<line x1="${f(X(a) - 3)}" y1="${f(Y(v))}" x2="${f(X(a) + 3)}" y2="${f(Y(v))}" stroke="${color}" stroke-width="1.2"/>`;
    });
  });
  s += drawLegend(leg.rows, PAD, axisBottom + 8 + 2 * lineHeight() + 6);
  return `${s}</svg>`;
}

// ---------------------------------------------------------------------------------------------------
// Category axis (bar charts and heatmap columns)

/** How the labels of a category axis are written: flat, slanted 45°, or upright, and every `step`-th. */
interface CategoryLayout {
  angle: 0 | -45 | -90;
  step: number;
  /** Px the labels take below the axis. */
  height: number;
  /** Px the first label reaches left of its category's centre. */
  overhang: number;
}

/** Chooses the layout of `names` along an axis with `spacing` px between category centres. */
function categoryLayout(names: string[], spacing: number): CategoryLayout {
  const w = maxWidth(names);
  const lh = lineHeight();
  if (spacing >= w + 6) return { angle: 0, step: 1, height: lh + 2, overhang: textWidth(names[0] ?? '') / 2 };
  // Slanted text: neighbours' baselines are spacing·sin 45° apart, which must clear a line of text.
  const c = Math.SQRT1_2;
  if (spacing * c >= lh + 1) return { angle: -45, step: 1, height: c * (w + lh) + 6, overhang: c * (textWidth(names[0] ?? '') + lh) };
  const step = Math.ceil((lh + 1) / spacing);
  const shown = names.filter((_, i) => i % step === 0);
  return { angle: -90, step, height: maxWidth(shown) + 8, overhang: lh / 2 };
}

/** Draws category labels below y = `y0` (the axis), centred on `x(i)`, as `layout` says. */
function categoryLabels(names: string[], x: (i: number) => number, y0: number, layout: CategoryLayout): string {
  let s = '';
  names.forEach((n, i) => {
    if (i % layout.step) return;
    if (layout.angle === 0) s += text(x(i), y0 + 3 + ASCENT * FONT, n, 'text-anchor="middle"');
    else if (layout.angle === -45) s += turned(x(i) + 2, y0 + 8, -45, n, 'end');
    else s += turned(x(i), y0 + 5, -90, n, 'end');
  });
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Bar chart

/** Options of {@link barChart}. */
export interface BarChartOptions {
  /** Title of the category axis, e.g. "class (head → tail)". */
  xLabel: string;
  yLabel: string;
  /** Legend entry of the bars (default: yLabel). */
  barName?: string;
  yRange?: [number, number];
  barColor?: (i: number) => string;
  /** A line of another unit on a right axis, optionally logarithmic. */
  line?: { name: string; values: number[]; log?: boolean };
}

/**
 * Bars per category on the left axis, with an optional line (another unit, e.g. training images per
 * class) on a right axis, optionally logarithmic since long-tailed counts span two or more decades.
 * Many categories widen the chart up to 1100 px; their labels are slanted, upright, then thinned.
 */
export function barChart(categories: string[], bars: number[], opts: BarChartOptions): string {
  const [y0, y1] = opts.yRange ?? nice([0, extent(bars, [0, 1])[1]]);
  const n = Math.max(categories.length, 1);
  const yTicks = valueTicks(y0, y1, false, 5);
  const yTitle = wrap(opts.yLabel, PLOT_H);
  let right = 16;
  let lineTicks: Ticks | undefined;
  let lineTitle: string[] = [];
  let tr = (v: number) => v;
  let l0 = 0;
  let l1 = 1;
  if (opts.line) {
    const log = !!opts.line.log;
    tr = (v: number) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
    [l0, l1] = extent(opts.line.values.map(tr));
    lineTicks = valueTicks(l0, l1, log, 4);
    lineTitle = wrap(`${opts.line.name}${log ? ' (log scale)' : ''}`, PLOT_H);
    right = valueAxisWidth(lineTicks, lineTitle);
  }
  let left = valueAxisWidth(yTicks, yTitle);
  const width = n <= 12 ? W : Math.min(MAX_W, Math.max(W, left + right + 22 * n));
  let layout = categoryLayout(categories, (width - left - right) / n);
  // A slanted first label may reach further left than the value axis.
  left = Math.max(left, layout.overhang - (width - left - right) / n / 2 + PAD);
  const plotW = width - left - right;
  const bw = plotW / n;
  layout = categoryLayout(categories, bw);
  const items: LegendItem[] = [{ name: opts.barName ?? opts.yLabel, color: opts.barColor?.(0) ?? PALETTE[0], kind: 'bar' }];
  if (opts.line) items.push({ name: opts.line.name, color: PALETTE[1], dots: true });
  const leg = legendLayout(items, width - 2 * PAD);
  const top = PAD + 8;
  const axisBottom = top + PLOT_H;
  const labelsBottom = axisBottom + 4 + layout.height;
  const height = labelsBottom + 4 + lineHeight() + 6 + leg.height + PAD;
  const Y = (v: number) => axisBottom - ((v - y0) / (y1 - y0)) * PLOT_H;
  let s = open(width, height, `${opts.yLabel} per category`);
  s += valueAxis(yTicks, Y, left, 'left', yTitle, { from: left, to: left + plotW }, top, axisBottom, 0);
  s += `<line x1="${f(left)}" y1="${f(axisBottom)}" x2="${f(left + plotW)}" y2="${f(axisBottom)}" stroke="#444"/>`;
  const cx = (i: number) => left + (i + 0.5) * bw;
  categories.forEach((c, i) => {
    const v = bars[i];
    if (Number.isFinite(v)) {
      const top = Y(Math.min(Math.max(v, y0), y1));
      s += `<rect x="${f(left + i * bw + bw * 0.15)}" y="${f(top)}" width="${f(bw * 0.7)}" height="${f(axisBottom - top)}" fill="${opts.barColor?.(i) ?? PALETTE[0]}"><title>${esc(`${c}: ${fmt(v)}`)}</title></rect>`;
    }
    if (i % layout.step === 0) s += `<line x1="${f(cx(i))}" y1="${f(axisBottom)}" x2="${f(cx(i))}" y2="${f(axisBottom + 3)}" stroke="#444"/>`;
  });
  s += categoryLabels(categories, cx, axisBottom, layout);
  const shown = layout.step > 1 ? ` (${everyNth(layout.step)} label shown)` : '';
  s += text(left + plotW / 2, labelsBottom + 4 + ASCENT * FONT, `${opts.xLabel}${shown}`, `text-anchor="middle" class="${X_TITLE}"`);
  if (opts.line && lineTicks) {
    const { values } = opts.line;
    const Z = (v: number) => axisBottom - ((tr(v) - l0) / (l1 - l0)) * PLOT_H;
    // Tick positions are in the transformed space; labels show the raw values.
    s += valueAxis(lineTicks, (t) => axisBottom - ((t - l0) / (l1 - l0)) * PLOT_H, left + plotW, 'right', lineTitle, null, top, axisBottom, width);
    const pts = values.map((v, i) => [cx(i), Z(v)]);
    s += `<polyline fill="none" stroke="${PALETTE[1]}" stroke-width="2" points="${pts.map(([a, b]) => `${f(a)},${f(b)}`).join(' ')}"/>`;
    if (n <= 40) for (const [a, b] of pts) s += `<circle cx="${f(a)}" cy="${f(b)}" r="3" fill="${PALETTE[1]}"/>`;
  }
  s += drawLegend(leg.rows, PAD, labelsBottom + 4 + lineHeight() + 6);
  return `${s}</svg>`;
}

// ---------------------------------------------------------------------------------------------------
// Heatmap

/** Diverging colour for v in [-1, 1]: blue (−1) – white (0) – red (+1). */
function divergingColor(v: number): string {
  if (!Number.isFinite(v)) return '#bbbbbb';
  const t = Math.max(-1, Math.min(1, v));
  const [r, g, b] = t >= 0 ? [255, 255 - 180 * t, 255 - 200 * t] : [255 + 220 * t, 255 + 150 * t, 255];
  return `rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})`;
}

/** Sequential colour for v in [0, 1]: white (0) to dark blue (1). */
function sequentialRgb(v: number): [number, number, number] {
  const t = Math.max(0, Math.min(1, v));
  const stops: [number, number, number][] = [[255, 255, 255], [158, 202, 225], [49, 130, 189], [8, 48, 107]];
  const p = t * (stops.length - 1);
  const i = Math.min(Math.floor(p), stops.length - 2);
  const u = p - i;
  return stops[i].map((c, j) => c + (stops[i + 1][j] - c) * u) as [number, number, number];
}

function sequentialColor(v: number): string {
  if (!Number.isFinite(v)) return '#bbbbbb';
  return `rgb(${sequentialRgb(v).map(Math.round).join(',')})`;
}

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  /** 'diverging' (default): values in [−1, 1]; 'sequential': values in [0, 1] (shares, rates). */
  scale?: 'diverging' | 'sequential';
  /** Title of the colour scale, e.g. "cosine". */
  legend: string;
  /** Axis titles of the rows (left) and the columns (bottom). */
  rowTitle: string;
  colTitle: string;
  /** Tooltip of cell (i, j) (default "row·column: value"). */
  cellTitle?: (i: number, j: number) => string;
}

/** Side of a heatmap cell: the matrix about 340 px wide, cells 6 to 56 px. */
const cellSize = (k: number) => Math.max(6, Math.min(56, Math.floor(340 / Math.max(k, 1))));

/**
 * Square heatmap of `m` with row/column labels, axis titles, a title and a colour scale. Values are
 * written in the cells when they fit (about twelve classes or fewer).
 */
export function heatmap(m: number[][], labels: string[], title: string, opts: HeatmapOptions): string {
  const k = m.length;
  const names = Array.from({ length: k }, (_, i) => labels[i] ?? String(i));
  const sequential = opts.scale === 'sequential';
  const color = sequential ? sequentialColor : divergingColor;
  const cell = cellSize(k);
  const lh = lineHeight();
  // Row labels: every step-th when the cells are lower than a line of text.
  const rowStep = Math.ceil(lh / cell);
  const rowNames = names.filter((_, i) => i % rowStep === 0);
  const cols = categoryLayout(names, cell);
  const side = k * cell;
  const shown = (step: number) => (step > 1 ? ` (${everyNth(step)} label shown)` : '');
  const rowTitle = wrap(`${opts.rowTitle}${shown(rowStep)}`, Math.max(side, 60));
  const left = Math.max(PAD + rowTitle.length * lh + 4 + maxWidth(rowNames) + 6, cols.overhang - cell / 2 + PAD);
  const top = PAD + lineHeight(12) + 6;
  // Colour scale: a bar right of the matrix, its ticks and its turned title.
  const scaleTicks = sequential ? ['1', '0.5', '0'] : ['+1', '0', '−1'];
  const barX = left + side + 12;
  const barH = Math.max(side, 120);
  const scaleTitle = wrap(opts.legend, barH);
  const right = barX + 12 + 4 + 3 + maxWidth(scaleTicks) + 6 + scaleTitle.length * lh + PAD;
  const colTitle = `${opts.colTitle}${shown(cols.step)}`;
  // The column title is centred under the matrix, as far as the chart's edges allow.
  const colTitleX = Math.max(left + side / 2, PAD + textWidth(colTitle) / 2);
  const width = Math.max(right, PAD + textWidth(title, 12, true) + PAD, colTitleX + textWidth(colTitle) / 2 + PAD);
  const labelsBottom = top + side + 4 + cols.height;
  const height = Math.max(labelsBottom + 4 + lh + PAD, top + barH + PAD);
  let s = open(width, height, title) + text(PAD, PAD + ASCENT * 12, title, 'font-weight="bold" font-size="12"');
  // Values: two decimals, in 9 px text, when the widest fits a cell with 3 px to spare.
  const value = (v: number) => (Number.isFinite(v) ? (Math.abs(v) < 0.005 ? '0' : v.toFixed(2).replace('-', '−')) : '');
  const showValues = cell >= lineHeight(9) + 4 && m.every((row) => row.every((v) => textWidth(value(v), 9) + 6 <= cell));
  for (let i = 0; i < k; i++) {
    if (i % rowStep === 0) s += text(left - 6, top + (i + 0.5) * cell, names[i], 'dy="0.35em" text-anchor="end"');
    for (let j = 0; j < k; j++) {
      const v = m[i][j];
      const tip = opts.cellTitle?.(i, j) ?? `${names[i]}·${names[j]}: ${fmt(v)}`;
      s += `<rect x="${f(left + j * cell)}" y="${f(top + i * cell)}" width="${cell}" height="${cell}" fill="${color(v)}"><title>${esc(tip)}</title></rect>`;
      if (showValues && value(v)) {
        // White on dark cells (the sequential scale past 0.55, the diverging one past ±0.75),
        // and zeros in grey, so that the non-zero cells stand out.
        const dark = sequential ? v > 0.55 : Math.abs(v) > 0.75;
        const ink = dark ? '#fff' : value(v) === '0' ? '#999' : '#222';
        s += text(left + (j + 0.5) * cell, top + (i + 0.5) * cell, value(v), `dy="0.35em" text-anchor="middle" font-size="9" fill="${ink}" class="cell-value"`);
      }
    }
  }
  s += `<rect x="${f(left)}" y="${f(top)}" width="${f(side)}" height="${f(side)}" fill="none" stroke="#888"/>`;
  s += categoryLabels(names, (j) => left + (j + 0.5) * cell, top + side, cols);
  s += text(colTitleX, labelsBottom + 4 + ASCENT * FONT, colTitle, `text-anchor="middle" class="${X_TITLE}"`);
  s += uprightTitle(rowTitle, PAD, top + side / 2, Y_TITLE);
  // Colour bar from the top value (1 or +1) down to the bottom one (0 or −1).
  s += '<g class="colour-scale">';
  const steps = 24;
  for (let i = 0; i < steps; i++) {
    const u = (i + 0.5) / steps;
    s += `<rect x="${f(barX)}" y="${f(top + i * (barH / steps))}" width="12" height="${f(barH / steps + 0.5)}" fill="${color(sequential ? 1 - u : 1 - 2 * u)}"/>`;
  }
  s += `<rect x="${f(barX)}" y="${f(top)}" width="12" height="${f(barH)}" fill="none" stroke="#888"/>`;
  scaleTicks.forEach((t, i) => {
    const y = top + (i * barH) / (scaleTicks.length - 1);
    s += `<line x1="${f(barX + 12)}" y1="${f(y)}" x2="${f(barX + 16)}" y2="${f(y)}" stroke="#444"/>`;
    s += text(barX + 19, y, t, 'dy="0.35em"');
  });
  s += `${uprightTitle(scaleTitle, right - PAD - scaleTitle.length * lh, top + barH / 2, SCALE_TITLE)}</g>`;
  return `${s}</svg>`;
}

// ---------------------------------------------------------------------------------------------------
// Scatter

/**
 * Scatter of 2-D points coloured by label. With `circle`, points are directions drawn on the unit
 * circle (2-D normalised features); otherwise the axes are fitted to the data, keeping the aspect ratio.
 * The class legend sits under the plot and wraps.
 */
export function scatter(points: { x: number; y: number; label: number }[], labels: string[], opts: { circle: boolean; title: string; xLabel: string; yLabel: string }): string {
  const size = 300;
  const lh = lineHeight();
  const left = PAD + lh + 4;
  const top = PAD + lineHeight(12) + 6;
  const c = { x: left + size / 2, y: top + size / 2 };
  const r = size / 2 - 12;
  const ext = opts.circle ? 1 : Math.max(1e-12, ...points.map((p) => Math.max(Math.abs(p.x), Math.abs(p.y))).filter(Number.isFinite));
  const present = [...new Set(points.map((p) => p.label))].sort((a, b) => a - b);
  const items: LegendItem[] = present.map((l) => ({ name: labels[l] ?? String(l), color: classColor(l, labels.length), kind: 'dot' }));
  // Many classes: a wider chart, so that the legend takes fewer rows.
  const width = Math.max(left + size + PAD + 8, items.length > 12 ? W : 0, textWidth(opts.title, 12, true) + 2 * PAD);
  const leg = legendLayout(items, width - 2 * PAD);
  const plotBottom = top + size;
  const height = plotBottom + 4 + lh + 6 + leg.height + PAD;
  let s = open(width, height, opts.title) + text(PAD, PAD + ASCENT * 12, opts.title, 'font-weight="bold" font-size="12"');
  s += `<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#ccc"/>`;
  if (opts.circle) s += `<circle cx="${c.x}" cy="${c.y}" r="${r}" fill="none" stroke="#999"/>`;
  s += `<line x1="${c.x - r}" y1="${c.y}" x2="${c.x + r}" y2="${c.y}" stroke="#ddd"/><line x1="${c.x}" y1="${c.y - r}" x2="${c.x}" y2="${c.y + r}" stroke="#ddd"/>`;
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    s += `<circle cx="${f(c.x + (p.x / ext) * r)}" cy="${f(c.y - (p.y / ext) * r)}" r="2.2" fill="${classColor(p.label, labels.length)}" fill-opacity="0.6"/>`;
  }
  s += text(c.x, plotBottom + 4 + ASCENT * FONT, opts.xLabel, `text-anchor="middle" class="${X_TITLE}"`);
  s += uprightTitle([opts.yLabel], PAD, c.y, Y_TITLE);
  s += drawLegend(leg.rows, PAD, plotBottom + 4 + lh + 6);
  return `${s}</svg>`;
}
