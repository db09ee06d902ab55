// What every demo page shares: bringing up WebGPU (or saying clearly that the browser has none), the
// adapter line, Fashion-MNIST fetched from the site's own data/ folder, a small canvas line chart, the
// longest frame the training loop caused, and a checkpoint download.
import * as W from '../src/index.js';

/** Starts the engine; on failure replaces the page's <main> with the reason and rethrows. */
export async function startEngine(): Promise<W.Engine> {
  try {
    const e = await W.init({ log: false });
    const a = e.adapter;
    setText('adapter', `WebGPU adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') || 'unnamed'}${a.isFallbackAdapter ? ' (CPU fallback: slow, but correct)' : ''}`);
    return e;
  } catch (err) {
    const main = document.querySelector('main');
    if (main) {
      main.innerHTML = `<div class="no-webgpu"><h2>This page needs WebGPU</h2><p>${escapeHtml((err as Error).message)}</p>
<p>Use a browser with WebGPU: Chrome or Edge 113 or later; Firefox 141 or later on Windows; Safari 26.
On Linux, start Chromium with <code>--enable-unsafe-webgpu</code>.</p></div>`;
    }
    setText('adapter', 'no WebGPU');
    throw err;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function setText(id: string, text: string): void {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
}

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

let data: Promise<W.FashionMnist> | null = null;
/** Fashion-MNIST from data/fashion-mnist/ beside the page (fetched once per page). */
export function fashionMnist(): Promise<W.FashionMnist> {
  data ??= W.fetchFashionMnist(new URL('data/fashion-mnist/', location.href).href);
  return data;
}

/**
 * The longest gap between animation frames, in ms, since `reset()`: how long the training loop kept the
 * page from drawing (the loop yields to the event loop after every step).
 */
export class FrameWatch {
  longest = 0;
  private last = performance.now();
  private running = true;
  constructor() {
    const tick = (t: number) => {
      this.longest = Math.max(this.longest, t - this.last);
      this.last = t;
      if (this.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
  reset(): void {
    this.longest = 0;
    this.last = performance.now();
  }
  stop(): void {
    this.running = false;
  }
}

/**
 * A line chart on a 2-D canvas: series of (x, y) points, axes with ticks and titles. The y axis starts
 * at 0 unless `fromZero` is false (then it spans the data: a loss that falls from 71 to 63 stays visible).
 */
export class LineChart {
  private readonly series = new Map<string, { color: string; points: [number, number][] }>();
  constructor(
    private readonly canvas: HTMLCanvasElement, private readonly xTitle: string, private readonly yTitle: string,
    private readonly opts: { fromZero?: boolean } = {},
  ) {}

  add(name: string, color: string, x: number, y: number): void {
    let s = this.series.get(name);
    if (!s) this.series.set(name, (s = { color, points: [] }));
    s.points.push([x, y]);
    this.draw();
  }

  clear(): void {
    this.series.clear();
    this.draw();
  }

  private draw(): void {
    const c = this.canvas;
    const g = c.getContext('2d')!;
    const [w, h] = [c.width, c.height];
    const pad = { l: 52, r: 12, t: 12, b: 40 };
    g.clearRect(0, 0, w, h);
    const all = [...this.series.values()].flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
    g.fillStyle = '#333';
    g.font = '12px sans-serif';
    g.textAlign = 'center';
    g.fillText(this.xTitle, pad.l + (w - pad.l - pad.r) / 2, h - 6);
    g.save();
    g.translate(14, pad.t + (h - pad.t - pad.b) / 2);
    g.rotate(-Math.PI / 2);
    g.fillText(this.yTitle, 0, 0);
    g.restore();
    g.strokeStyle = '#999';
    g.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
    if (!all.length) return;
    const xs = all.map(([x]) => x);
    const ys = all.map(([, y]) => y);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
    let [y0, y1] = [Math.min(0, ...ys), Math.max(...ys) * 1.05 || 1];
    if (this.opts.fromZero === false) {
      const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
      const margin = (hi - lo) * 0.05 || Math.abs(hi) * 0.01 || 1;
      [y0, y1] = [lo - margin, hi + margin];
    }
    const px = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (w - pad.l - pad.r);
    const py = (y: number) => h - pad.b - ((y - y0) / (y1 - y0)) * (h - pad.t - pad.b);
    g.textAlign = 'right';
    for (let k = 0; k <= 4; k++) {
      const y = y0 + ((y1 - y0) * k) / 4;
      g.fillText(y.toPrecision(3), pad.l - 4, py(y) + 4);
    }
    g.textAlign = 'center';
    for (let k = 0; k <= 4; k++) {
      const x = x0 + ((x1 - x0) * k) / 4;
      g.fillText(String(Math.round(x)), px(x), h - pad.b + 14);
    }
    let legend = pad.l + 6;
    for (const [name, s] of this.series) {
      g.strokeStyle = s.color;
      g.lineWidth = 1.5;
      g.beginPath();
      s.points.filter(([, y]) => Number.isFinite(y)).forEach(([x, y], i) => (i ? g.lineTo(px(x), py(y)) : g.moveTo(px(x), py(y))));
      g.stroke();
      g.fillStyle = s.color;
      g.textAlign = 'left';
      g.fillText(name, legend, pad.t + 14);
      legend += g.measureText(name).width + 16;
    }
  }
}

/** Offers `bytes` as a file download named `name`. */
export function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
