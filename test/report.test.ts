// The run report (issue 7): a fake run directory written here is loaded, rendered to one self-contained
// HTML page and opened in headless Chromium (Debian's /usr/bin/chromium, as test/browser.test.ts), which
// must log no error and paint a non-blank page; plus compare, and the errors for bad run directories.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSafetensors } from '../src/io/node/safetensors.js';
import { loadRun, writeComparison, writeReport } from '../src/report/node/load-run.js';
import { projectEmbeddings } from '../src/report/analysis.js';
import { renderComparison, renderReport, renderSweep } from '../src/report/render.js';
import { textWidth } from '../src/report/svg.js';
import type { RunData } from '../src/report/types.js';
import { CHROMIUM_ARGS, CIFAR100, FASHION_MNIST, LAYOUT_PROBLEMS, syntheticRun } from './fixtures/report-runs.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const K = 4;
const COUNTS = [500, 120, 40, 8];

/** Per-epoch records like the trainer's, accuracy rising with epoch and falling towards the tail. */
function epochLines(epochs: number, scale: number): string[] {
  return Array.from({ length: epochs }, (_, e) => {
    const perClass = COUNTS.map((_, c) => Math.min(1, (0.3 + 0.15 * e) * scale * (1 - 0.2 * c)));
    const mean = perClass.reduce((a, b) => a + b, 0) / K;
    return JSON.stringify({ epoch: e + 1, step: 10 * (e + 1), loss: 2 / (e + 1), lr: 0.05, top1: perClass[0] * 0.9, perClass, classAverage: mean, many: perClass[0], medium: (perClass[1] + perClass[2]) / 2, few: perClass[3] });
  });
}

/** Embeddings of `d` dims: class c around direction c (one-hot in the first K dims), with noise. */
function embeddings(n: number, d: number): { data: Float32Array; labels: Int32Array } {
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  for (let i = 0; i < n; i++) {
    labels[i] = i % K;
    for (let j = 0; j < d; j++) data[i * d + j] = 0.3 * rnd();
    if (d === 2) {
      data[i * d] += Math.cos((2 * Math.PI * labels[i]) / K);
      data[i * d + 1] += Math.sin((2 * Math.PI * labels[i]) / K);
    } else data[i * d + labels[i]] += 1;
  }
  return { data, labels };
}

let root = '';
let full = '';
let bare = '';

/** A complete run (log with steps, epochs, a bad line and the summary; embeddings; checkpoint; metrics) and a bare one. */
async function writeRuns(): Promise<void> {
  root = await mkdtemp(join(tmpdir(), 'report-test-'));
  full = join(root, 'full');
  bare = join(root, 'bare');
  await mkdir(full);
  await mkdir(bare);
  const steps = Array.from({ length: 30 }, (_, i) => JSON.stringify({ step: i + 1, loss: 2.3 / Math.sqrt(i + 1), lr: 0.05 }));
  const summary = JSON.stringify({ config: { dataset: 'synthetic', imbalance: 62.5, model: 'small-cnn', recipe: 'supcon', temperature: 0.1, batchSize: 128, epochs: 3, classifier: 'linear' }, adapter: 'test adapter', trainCounts: COUNTS, final: { top1: 0.5 }, wallSeconds: 12.5, imagesPerSecond: 800 });
  await writeFile(join(full, 'log.jsonl'), [...steps, ...epochLines(3, 1), '{"epoch": 4, "trunc', summary].join('\n') + '\n');
  const { data, labels } = embeddings(200, 8);
  const weights = new Float32Array(K * 8).map((_, i) => (i % 8 === Math.floor(i / 8) ? 1 / (1 + Math.floor(i / 8)) : 0));
  // Projections: the embeddings' first 4 dims, i.e. a class-c row near e_c (unit rows as the head makes them).
  const proj = Float32Array.from({ length: 200 * 4 }, (_, i) => data[Math.floor(i / 4) * 8 + (i % 4)]);
  await saveSafetensors(join(full, 'embeddings.safetensors'), { embeddings: { data, shape: [200, 8] }, labels: { data: labels, shape: [200] }, projections: { data: proj, shape: [200, 4] } });
  await saveSafetensors(join(full, 'checkpoint.safetensors'), { 'fc.weight': { data: weights, shape: [K, 8] } });
  const predicted = Array.from(labels, (y, i) => (i % 5 === 0 ? 0 : y));
  await writeFile(join(full, 'metrics.json'), JSON.stringify({
    classNames: ['cat', 'dog', 'fox', 'owl'],
    predictions: { predicted, labels: Array.from(labels) },
    gradientNorms: { perClass: [0.1, 0.3, 0.6, 0.9], samples: [256, 120, 40, 8], classifier: 'linear' },
    twoClasses: { sadMean: 0.4, m: 10, space: 'projections', views: '2 SimAugment views of 200 test images', classes: COUNTS.map((n, c) => ({ label: c, samples: n, sad: 0.4, saa: 80 - c, cad: 1.1, cac: 70, uniformity: -2 })) },
  }));
  await writeFile(join(bare, 'log.jsonl'), `${epochLines(2, 0.8).join('\n')}\n`);
}

beforeAll(writeRuns);
// KEEP_REPORT_TMP=1 keeps the fake runs and their report.html for a look in a browser.
afterAll(async () => {
  if (root && !process.env.KEEP_REPORT_TMP) await rm(root, { recursive: true, force: true });
});

describe('loadRun', () => {
  it('reads steps, epochs, summary, embeddings, norms and metrics, noting the broken line', async () => {
    const run = await loadRun(full);
    expect(run.name).toBe('full');
    expect(run.steps).toHaveLength(30);
    expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(run.trainCounts).toEqual(COUNTS);
    expect(run.embeddings).toMatchObject({ n: 200, d: 8 });
    expect(run.projections).toMatchObject({ n: 200, d: 4 });
    expect(run.optimal).toMatchObject({ objective: 'supcon(tau=0.1, N=254)', negatives: 254, note: expect.stringMatching(/^supcon: SupCon/) });
    expect(run.thresholds).toMatchObject({ loss: 'supcon', classes: 4, majority: 2 });
    expect(run.thresholds!.rows).toHaveLength(18);
    expect(run.classifierNorms!.map((v) => v.toFixed(3))).toEqual(['1.000', '0.500', '0.333', '0.250']);
    expect(run.classNames).toEqual(['cat', 'dog', 'fox', 'owl']);
    expect(run.optimal?.gram).toHaveLength(K);
    expect(run.notes!.join()).toMatch(/line 34 is not JSON/);
  });

  it('fails clearly on a missing, non-run or empty directory', async () => {
    await expect(loadRun(join(root, 'nope'))).rejects.toThrow(/run directory '.*nope' does not exist/);
    await mkdir(join(root, 'empty-dir'));
    await expect(loadRun(join(root, 'empty-dir'))).rejects.toThrow(/holds no log\.jsonl/);
    await mkdir(join(root, 'empty-log'));
    await writeFile(join(root, 'empty-log', 'log.jsonl'), '');
    await expect(loadRun(join(root, 'empty-log'))).rejects.toThrow(/empty log/);
    await expect(loadRun(join(full, 'log.jsonl'))).rejects.toThrow(/is not a directory/);
  });

  it('the geometry CLI writes the threshold curves as a page (--sweep --html)', async () => {
    const out = join(root, 'sweep.html');
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/geometry.ts', '--sweep', '--taus', '0.5,1', '--negatives-list', '1,16,255', '--html', out]);
    expect(stdout).toContain(`wrote ${out}`);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('Minority-collapse thresholds: supcon, K = 4, m = 2');
    expect(html.match(/<polyline /g)).toHaveLength(2);
  });

  it('the CLI exits 1 with one line for a missing run directory', async () => {
    const run = promisify(execFile)('npx', ['tsx', 'src/cli/report.ts', 'report', join(root, 'missing')]);
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/\[report\] report: run directory .* does not exist/) });
  });
});

describe('renderReport', () => {
  it('has every section, inline SVG only, and nothing fetched', async () => {
    const html = renderReport(await loadRun(full));
    for (const h of ['Metrics', 'Training curves', 'Per-class accuracy', 'Class-mean geometry', 'Minority-collapse thresholds', 'Classifier norms and gradient norms', 'Embeddings', 'Two-Classes metrics', 'Confusion matrix']) {
      expect(html).toContain(`<h2>${h}`);
    }
    expect(html).toContain('ideal simplex (ETF)');
    expect(html).toContain('<h3>Learned vs optimal geometry');
    expect(html).toContain('learned (projections)');
    expect(html).toContain('optimal: supcon(tau=0.1, N=254)');
    expect(html).toContain('learned − optimal');
    expect(html).toMatch(/Frobenius distance ‖G_learned − G_optimal‖ = \d/);
    expect(html).toContain('threshold ρ* = p_maj/p_min');
    expect(html).toContain("run's N = 254");
    expect(html).toContain('mean ‖∂CE_i/∂W‖');
    expect(html).toContain('space: projections');
    expect(html).not.toMatch(/No gradient norms|No threshold curves|No optimal geometry|learned vs optimal omitted/);
    expect(html).toContain('top-2 principal directions of the centred class means');
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(14);
    expect(html.match(/<svg /g)!.length).toBe(html.match(/<\/svg>/g)!.length);
    expect(html).not.toMatch(/<script|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).not.toContain('NaN');
    // The confusion matrix is K×K (cell titles read "true A, predicted B: n of m").
    expect(html.slice(html.indexOf('<h2>Confusion matrix')).match(/<title>true [^<]*, predicted /g)).toHaveLength(K * K);
  });

  it('omits missing pieces with a note instead of failing', async () => {
    const html = renderReport(await loadRun(bare));
    expect(html).toContain('No embeddings');
    expect(html).toContain('No classifier weights');
    expect(html).toContain('No configuration found');
    expect(html).toContain('<h2>Per-class accuracy');
    const empty = renderReport({ name: 'nothing', epochs: [], steps: [] });
    expect(empty).toContain('No training curves');
  });

  it('flags minority collapse from the training counts, not the balanced test counts', () => {
    const { data, labels } = embeddings(200, 8);
    // Classes 2 and 3 (the tail: 40 and 8 training images vs 500) get the same features (labels are i mod K).
    for (let i = 0; i < 200; i += K) for (let j = 0; j < 8; j++) data[(i + 3) * 8 + j] = data[(i + 2) * 8 + j];
    const run = { name: 'collapsed', epochs: [], steps: [], trainCounts: COUNTS, embeddings: { data, n: 200, d: 8, labels } };
    expect(renderReport(run)).toContain('minority collapse: yes');
    expect(renderReport({ ...run, embeddings: { ...embeddings(200, 8), n: 200, d: 8 } })).toContain('minority collapse: no');
  });

  it('shows 2-D features on the unit circle', () => {
    const { data, labels } = embeddings(40, 2);
    const p = projectEmbeddings({ data, n: 40, d: 2, labels });
    expect(p.method).toBe('circle');
    for (const q of p.points) expect(Math.hypot(q.x, q.y)).toBeCloseTo(1, 6);
  });

  it('writes report.html atomically, leaving no temporary file', async () => {
    const path = await writeReport(full);
    expect(path).toBe(join(full, 'report.html'));
    expect((await readFile(path, 'utf8')).startsWith('<!doctype html>')).toBe(true);
    expect((await readdir(full)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

/** The inline SVGs of a page, in order. */
const svgs = (html: string): string[] => html.match(/<svg [\s\S]*?<\/svg>/g) ?? [];
/** The text of the elements of `cls` in `svg` (a wrapped title's lines joined by spaces). */
const texts = (svg: string, cls: string) => [...svg.matchAll(new RegExp(`<text [^>]*class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]).join(' ');
/** The first SVG after the heading `h2`. */
const figureAfter = (html: string, h2: string): string => svgs(html.slice(html.indexOf(`<h2>${h2}`)))[0] ?? '';

describe('report figures', () => {
  const fm = syntheticRun('fm', FASHION_MNIST);
  const pages: [string, RunData][] = [['10 classes', fm], ['100 classes', syntheticRun('c100', CIFAR100, { epochs: 3 })], ['2 classes', syntheticRun('two', ['majority', 'minority'])]];

  it('every chart has a title on each axis, accuracy in %, and every line or bar chart a legend', () => {
    for (const [, run] of pages) {
      const figures = svgs(renderReport(run));
      expect(figures.length).toBeGreaterThanOrEqual(13);
      for (const svg of figures) {
        const label = svg.match(/aria-label="([^"]*)"/)![1];
        expect(texts(svg, 'axis-title x'), label).not.toBe('');
        expect(texts(svg, 'axis-title y'), label).not.toBe('');
        if (svg.includes('class="colour-scale"')) expect(texts(svg, 'axis-title scale'), label).not.toBe('');
        else expect(svg, label).toContain('<g class="legend">');
      }
      const html = renderReport(run);
      expect(texts(figureAfter(html, 'Per-class accuracy'), 'axis-title y')).toBe('test accuracy (%)');
      expect(texts(figureAfter(html, 'Per-class accuracy'), 'axis-title y2')).toBe('training images per class (log scale)');
      expect(texts(figureAfter(html, 'Per-class accuracy'), 'axis-title x')).toMatch(/^class, head → tail/);
    }
  });

  it('draws the loss per logged step, epoch ends on a top axis, and falls back to the epoch records', () => {
    const loss = figureAfter(renderReport(fm), 'Training curves');
    expect(texts(loss, 'axis-title x')).toBe('training step (batches)');
    expect(texts(loss, 'axis-title x2')).toBe('end of epoch');
    expect(texts(loss, 'axis-title y')).toBe('training loss');
    // One vertex per step record (12 epochs × 47 steps), and one dot per epoch record.
    expect(loss.match(/<polyline [^>]*points="([^"]*)"/)![1].split(' ')).toHaveLength(fm.steps.length);
    expect(loss.match(/<circle /g)).toHaveLength(fm.epochs.length + 1);
    expect(loss).toContain("epoch record's loss");
    const epochsOnly = figureAfter(renderReport({ ...fm, steps: [] }), 'Training curves');
    expect(texts(epochsOnly, 'axis-title x')).toBe('training step (batches)');
    expect(epochsOnly).toContain('loss of each epoch record');
    expect(epochsOnly.match(/<polyline [^>]*points="([^"]*)"/)![1].split(' ')).toHaveLength(fm.epochs.length);
    // Epoch records without a step: the epoch is the x axis.
    const noSteps = figureAfter(renderReport({ ...fm, steps: [], epochs: fm.epochs.map((e) => ({ ...e, step: NaN })) }), 'Training curves');
    expect(texts(noSteps, 'axis-title x')).toBe('epoch');
  });

  it('draws the confusion matrix as shares on a 0–1 scale, with the values in the cells when they fit', () => {
    for (const [name, run] of pages) {
      const svg = figureAfter(renderReport(run), 'Confusion matrix');
      const scale = svg.slice(svg.indexOf('<g class="colour-scale">'));
      const ticks = [...scale.matchAll(/<text [^>]*dy="0.35em">([^<]*)<\/text>/g)].map((m) => m[1]);
      expect(ticks, name).toEqual(['1', '0.5', '0']);
      expect(texts(svg, 'axis-title scale'), name).toBe('share of the true class');
      expect(texts(svg, 'axis-title y'), name).toMatch(/^true class/);
      expect(texts(svg, 'axis-title x'), name).toMatch(/^predicted class/);
      const k = run.classNames!.length;
      const values = [...svg.matchAll(/class="cell-value">([^<]*)</g)].map((m) => Number(m[1]));
      if (k <= 10) {
        expect(values, name).toHaveLength(k * k);
        for (const v of values) expect(v >= 0 && v <= 1, name).toBe(true);
      } else expect(values, name).toEqual([]);
    }
  });
});

describe('compare', () => {
  it('tabulates runs as rows and overlays their curves', async () => {
    const runs = [await loadRun(full), await loadRun(bare)];
    const html = renderComparison(runs);
    expect(html).toContain('Comparison of 2 runs');
    expect(html.match(/<tr><td>(full|bare)<\/td>/g)).toHaveLength(2);
    expect(html).toContain('class="best"');
    expect(html).toContain('class-avg accuracy');
    const path = await writeComparison([full, bare], join(root, 'cmp.html'));
    expect(await readFile(path, 'utf8')).toBe(html);
  });
});

describe('in headless Chromium', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the report and the comparison with no console error and a non-blank screenshot', async () => {
    const run = await loadRun(full);
    // The run report, the comparison, and the page of npm run geometry -- --sweep --html.
    for (const html of [renderReport(run), renderComparison([run, await loadRun(bare)]), renderSweep(run.thresholds!)]) {
      const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => !r.url().startsWith('data:') && requests.push(r.url()));
      await page.setContent(html, { waitUntil: 'load' });
      // Every inline SVG must also parse as a stand-alone XML document (well-formed, namespaced).
      const bad = await page.evaluate(() => [...document.querySelectorAll('svg')].filter((s) =>
        new DOMParser().parseFromString(s.outerHTML, 'image/svg+xml').querySelector('parsererror')).length);
      expect(bad).toBe(0);
      const shot = await page.screenshot({ fullPage: true });
      // Decode the PNG in the page itself (no PNG decoder here) and count distinct colours.
      const colours = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext('2d')!;
        ctx.drawImage(img, 0, 0);
        const px = new Uint32Array(ctx.getImageData(0, 0, c.width, c.height).data.buffer);
        const seen = new Set<number>();
        for (let i = 0; i < px.length && seen.size < 64; i += 7) seen.add(px[i]);
        return seen.size;
      }, shot.toString('base64'));
      expect(colours).toBeGreaterThan(8);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      await page.close();
    }
  });

  it('lays every figure out inside its SVG with no overlapping labels, for 10, 100 and 2 classes', async () => {
    const runs = [syntheticRun('fm', FASHION_MNIST), syntheticRun('c100', CIFAR100, { epochs: 3 }), syntheticRun('two', ['majority', 'minority'], { imbalance: 20 })];
    const htmls = [...runs.map(renderReport), renderReport({ ...runs[0], steps: [] }), renderComparison(runs), renderReport(await loadRun(full)), renderSweep(runs[0].thresholds!)];
    const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
    for (const html of htmls) {
      await page.setContent(html, { waitUntil: 'load' });
      expect(await page.evaluate(LAYOUT_PROBLEMS)).toEqual([]);
    }
    await page.close();
  });

  it('estimates text no narrower than Chromium draws it (the margins are sized from the estimate)', async () => {
    const labels = [...FASHION_MNIST, ...CIFAR100, 'threshold ρ* = p_maj/p_min (log scale)', 'mean ‖∂CE_i/∂W‖ per image', 'x₁ / ‖x‖', 'class, head → tail', '−0.15', '0.5', '10000', 'WWW mmm'];
    const page = await browser!.newPage();
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="40" font-family="sans-serif" font-size="11">${labels.map((l) => `<text x="0" y="20">${l}</text>`).join('')}</svg>`;
    await page.setContent(`<!doctype html><html><body>${svg}</body></html>`);
    const drawn = (await page.evaluate('[...document.querySelectorAll("text")].map((t) => t.getBBox().width)')) as number[];
    labels.forEach((l, i) => expect(textWidth(l), l).toBeGreaterThanOrEqual(drawn[i] - 0.5));
    await page.close();
  });
});
