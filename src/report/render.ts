// The run report and the comparison of runs as one self-contained HTML page each: inline CSS and inline
// SVG, no script and nothing fetched, so it opens offline, prints, and can be attached to an issue.
// Pure functions of RunData; every figure whose data is missing is replaced by a one-line note.
import { balancedAccuracy, confusionMatrix } from '../metrics/evaluation.js';
import { classGeometry, type ClassGeometry } from '../metrics/geometry.js';
import { etfGram, headToTail, projectEmbeddings } from './analysis.js';
import { barChart, esc, fmt, heatmap, lineChart, PALETTE, scatter, type Series } from './svg.js';
import type { EpochRecord, RunData } from './types.js';

const CSS = `body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1150px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.best{font-weight:bold}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.note{color:#8a5a00;background:#fff8e6;padding:4px 8px;border-left:3px solid #e69f00}
.cap{font-size:12px;color:#555;max-width:1000px}svg{background:#fff}`;

/** Wraps `body` into a complete HTML document. */
function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><link rel="icon" href="data:,">
<style>${CSS}</style></head><body>\n${body}\n</body></html>\n`;
}

const note = (text: string) => `<p class="note">${esc(text)}</p>`;
const caption = (text: string) => `<p class="cap">${esc(text)}</p>`;
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(1)} %`);

/** Name of class `c` for labels. */
const className = (run: RunData, c: number) => run.classNames?.[c] ?? String(c);

/** The last evaluation: the last per-epoch record, else the summary's `final`. */
function finalEval(run: RunData): Partial<EpochRecord> | undefined {
  return run.epochs.at(-1) ?? run.summary?.final;
}

function trainCounts(run: RunData): number[] | undefined {
  return run.trainCounts ?? run.summary?.trainCounts;
}

/** Class-mean geometry of the run's embeddings, or undefined without embeddings (or with one class). */
function geometryOf(run: RunData): ClassGeometry | undefined {
  const e = run.embeddings;
  if (!e || e.n === 0) return undefined;
  const g = classGeometry(e.data, e.n, e.d, e.labels, { minorityCounts: trainCounts(run) });
  return g.classes.length > 1 ? g : undefined;
}

/** One metric column: header, how to read a run, and whether larger is better (for bolding the best). */
interface Column {
  name: string;
  value: (run: RunData, geo: ClassGeometry | undefined) => number | undefined;
  higher: boolean;
  percent: boolean;
}

const twoMean = (run: RunData, key: 'sad' | 'saa' | 'cad' | 'cac' | 'uniformity') => {
  const rows = run.metrics?.twoClasses?.classes;
  return rows?.length ? rows.reduce((s, r) => s + r[key], 0) / rows.length : undefined;
};

/** Number of classes for predictions: the training classes, widened to any larger label seen. */
function classCount(run: RunData, p: { predicted: number[]; labels: number[] }): number {
  const top = (xs: number[]) => xs.reduce((m, v) => Math.max(m, v + 1), 0);
  return Math.max(trainCounts(run)?.length ?? 0, top(p.labels), top(p.predicted));
}

/**
 * Balanced accuracy: as given in metrics.json, else from the saved predictions. Without either it is
 * left empty rather than copied from class-average accuracy, which is the same number by definition
 * (mean recall over present classes) and already a column.
 */
function balanced(run: RunData): number | undefined {
  const m = run.metrics;
  if (m?.balancedAccuracy !== undefined) return m.balancedAccuracy;
  if (m?.predictions) return balancedAccuracy(m.predictions.predicted, m.predictions.labels, classCount(run, m.predictions));
  return undefined;
}

const COLUMNS: Column[] = [
  { name: 'top-1', value: (r) => finalEval(r)?.top1, higher: true, percent: true },
  { name: 'class-avg', value: (r) => finalEval(r)?.classAverage, higher: true, percent: true },
  { name: 'many', value: (r) => finalEval(r)?.many, higher: true, percent: true },
  { name: 'medium', value: (r) => finalEval(r)?.medium, higher: true, percent: true },
  { name: 'few', value: (r) => finalEval(r)?.few, higher: true, percent: true },
  { name: 'balanced acc.', value: balanced, higher: true, percent: true },
  { name: 'ROC AUC', value: (r) => r.metrics?.rocAuc, higher: true, percent: false },
  { name: 'final loss', value: (r) => finalEval(r)?.loss, higher: false, percent: false },
  { name: 'ETF distance', value: (_, g) => g?.etfDistance, higher: false, percent: false },
  { name: 'min angle (°)', value: (_, g) => g?.minAngle, higher: true, percent: false },
  { name: 'SAD', value: (r) => r.metrics?.twoClasses?.sadMean, higher: false, percent: false },
  { name: 'SAA', value: (r) => twoMean(r, 'saa'), higher: true, percent: false },
  { name: 'CAD', value: (r) => twoMean(r, 'cad'), higher: false, percent: false },
  { name: 'CAC', value: (r) => twoMean(r, 'cac'), higher: true, percent: false },
  { name: 'uniformity', value: (r) => twoMean(r, 'uniformity'), higher: false, percent: false },
];

/** Rows = runs, columns = the metrics at least one run has; the best of each column in bold. */
function metricTable(runs: RunData[], geos: (ClassGeometry | undefined)[]): string {
  const values = COLUMNS.map((c) => runs.map((r, i) => c.value(r, geos[i])));
  const shown = COLUMNS.map((_, j) => j).filter((j) => values[j].some((v) => v !== undefined && Number.isFinite(v)));
  if (!shown.length) return note('No evaluation found: the run has no per-epoch record and no final summary.');
  let s = `<table><tr><th>run</th>${shown.map((j) => `<th>${esc(COLUMNS[j].name)}</th>`).join('')}</tr>`;
  runs.forEach((r, i) => {
    s += `<tr><td>${esc(r.name)}</td>`;
    for (const j of shown) {
      const col = COLUMNS[j];
      const finite = values[j].filter((v): v is number => v !== undefined && Number.isFinite(v));
      const best = col.higher ? Math.max(...finite) : Math.min(...finite);
      const v = values[j][i];
      const text = v === undefined ? '–' : col.percent ? pct(v) : fmt(v);
      s += `<td${runs.length > 1 && v === best ? ' class="best"' : ''}>${text}</td>`;
    }
    s += '</tr>';
  });
  return `${s}</table>`;
}

/** Loss (and per-step loss when logged) and accuracy curves of one run. */
function curves(run: RunData): string {
  if (!run.epochs.length && !run.steps.length) return note('No training curves: log.jsonl has no step or epoch records.');
  const out: string[] = [];
  const loss: Series[] = [];
  if (run.steps.length) loss.push({ name: 'loss (per step)', x: run.steps.map((s) => s.step), y: run.steps.map((s) => s.loss), color: PALETTE[5] });
  if (run.epochs.length) loss.push({ name: 'loss (epoch)', x: run.epochs.map((e) => e.step), y: run.epochs.map((e) => e.loss), color: PALETTE[1] });
  out.push(lineChart(loss, { xLabel: 'step', yLabel: 'training loss' }));
  if (run.epochs.length) {
    const x = run.epochs.map((e) => e.epoch);
    const acc: Series[] = (['top1', 'classAverage', 'many', 'medium', 'few'] as const).map((k, i) => ({
      name: k === 'top1' ? 'top-1' : k === 'classAverage' ? 'class-avg' : k,
      x,
      y: run.epochs.map((e) => e[k]),
      dashed: i >= 2,
      color: PALETTE[i],
    }));
    out.push(lineChart(acc.filter((s) => s.y.some(Number.isFinite)), { xLabel: 'epoch', yLabel: 'test accuracy', yRange: [0, 1] }));
  } else out.push(note('No per-epoch evaluation records: accuracy curves omitted.'));
  return `<div class="row">${out.join('')}</div>`;
}

/** Per-class accuracy ordered head → tail with the training frequency as a line. */
function perClass(run: RunData): string {
  const acc = finalEval(run)?.perClass;
  if (!acc?.length) return note('No per-class accuracy in the log.');
  const counts = trainCounts(run);
  const order = counts && counts.length === acc.length ? headToTail(counts) : acc.map((_, c) => c);
  const chart = barChart(order.map((c) => className(run, c)), order.map((c) => acc[c]), {
    yLabel: 'test accuracy',
    yRange: [0, 1],
    line: counts && counts.length === acc.length ? { name: 'training images', values: order.map((c) => counts[c]), log: true } : undefined,
  });
  const cap = counts ? 'Classes ordered from head (most training images) to tail; the line is the training count per class (log scale).' : 'No trainCounts in the summary: classes in label order, no frequency line.';
  return chart + caption(cap);
}

/** Trained class-mean cosines beside the ETF and, if solved, the optimal geometry; plus the figures. */
function geometrySection(run: RunData, geo: ClassGeometry | undefined): string {
  if (!geo) return note('No embeddings (embeddings.safetensors) with two or more classes: class-mean geometry omitted.');
  const counts = trainCounts(run);
  const order = counts ? headToTail(counts).filter((c) => geo.classes.includes(c)) : geo.classes;
  const slot = new Map(geo.classes.map((c, i) => [c, i]));
  const reorder = (m: number[][], idx: (c: number) => number) => order.map((a) => order.map((b) => m[idx(a)][idx(b)]));
  const labels = order.map((c) => className(run, c));
  const maps = [heatmap(reorder(geo.gram, (c) => slot.get(c)!), labels, 'trained: cos(μ_i, μ_j)'), heatmap(etfGram(order.length), labels, 'ideal simplex (ETF)')];
  if (run.optimal && run.optimal.gram.length === (counts?.length ?? -1)) {
    maps.push(heatmap(reorder(run.optimal.gram, (c) => c), labels, `optimal: ${run.optimal.objective}`));
  }
  const collapse = geo.minorityCollapse ? 'yes: two minority class means are closer than 30°' : 'no';
  return `<div class="row">${maps.join('')}</div>` + caption(
    `Cosines of the centred class means of the embeddings (head → tail). ETF distance ‖G − G_ETF‖/‖G_ETF‖ = ${fmt(geo.etfDistance)}, ` +
      `smallest angle ${fmt(geo.minAngle)}°, mean angle ${fmt(geo.meanAngle)}°, minority collapse: ${collapse}.` +
      (run.optimal ? ' The optimal Gram matrix is the solver\'s minimiser of the population loss at the run\'s class proportions.' : ''),
  );
}

function classifierNorms(run: RunData): string {
  const norms = run.classifierNorms;
  if (!norms?.length) return note('No classifier weights (fc.weight in checkpoint.safetensors): norm bars omitted.');
  const counts = trainCounts(run);
  const order = counts && counts.length === norms.length ? headToTail(counts) : norms.map((_, c) => c);
  return barChart(order.map((c) => className(run, c)), order.map((c) => norms[c]), { yLabel: '‖w_c‖', barColor: () => PALETTE[2] }) +
    caption('Norm of each class\'s classifier weight vector, head → tail; tail classes with smaller norms are the classic long-tail bias.');
}

function embeddingView(run: RunData): string {
  if (!run.embeddings || run.embeddings.n === 0) return note('No embeddings (embeddings.safetensors): 2-D view omitted.');
  const p = projectEmbeddings(run.embeddings);
  const k = Math.max(trainCounts(run)?.length ?? 0, ...p.points.map((q) => q.label + 1));
  const names = Array.from({ length: k }, (_, c) => className(run, c));
  const circle = p.method === 'circle';
  return scatter(p.points, names, { circle, title: 'embeddings' }) + caption(circle
    ? 'Features are 2-D: each point is its feature direction on the unit circle.'
    : `Features are ${run.embeddings.d}-D: projected onto the top-2 principal directions of the centred class means (not of the samples), so the view shows how classes separate.`);
}

function twoClassesTable(run: RunData): string {
  const t = run.metrics?.twoClasses;
  if (!t?.classes.length) return note('No Two-Classes metrics (metrics.json "twoClasses"): table omitted.');
  let s = `<table><tr><th>class</th><th>samples</th><th>SAD</th><th>SAA</th><th>CAD</th><th>CAC</th><th>uniformity</th></tr>`;
  for (const r of t.classes) {
    s += `<tr><td>${esc(className(run, r.label))}</td><td>${r.samples ?? '–'}</td>${[r.sad, r.saa, r.cad, r.cac, r.uniformity].map((v) => `<td>${fmt(v)}</td>`).join('')}</tr>`;
  }
  return `${s}</table>${caption(`Mean SAD over samples ${fmt(t.sadMean)}${t.m !== undefined ? `; CAC neighbourhood m = ${t.m}` : ''}.`)}`;
}

function confusion(run: RunData): string {
  const p = run.metrics?.predictions;
  if (!p) return '';
  const k = classCount(run, p);
  const m = confusionMatrix(p.predicted, p.labels, k);
  // Row-normalised (recall per true class), so that tail rows are as readable as head rows.
  const norm = m.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total ? v / total : NaN));
  });
  const labels = Array.from({ length: k }, (_, c) => className(run, c));
  return `<h2>Confusion matrix</h2>${heatmap(norm, labels, 'true (rows) → predicted, row-normalised')}`;
}

function header(run: RunData): string {
  const s = run.summary;
  const cfg = s?.config ?? {};
  const keys = ['dataset', 'imbalance', 'profile', 'model', 'classifier', 'loss', 'tau', 'sampler', 'epochs', 'batchSize', 'lr', 'seed'];
  const shown = keys.filter((k) => cfg[k] !== undefined);
  let h = `<h1>Run report: ${esc(run.name)}</h1>`;
  const facts = [
    s?.adapter && `adapter: ${s.adapter}`,
    run.epochs.length && `${run.epochs.length} epoch records`,
    s?.wallSeconds !== undefined && `wall time ${fmt(s.wallSeconds)} s`,
    s?.imagesPerSecond !== undefined && `${fmt(s.imagesPerSecond)} images/s`,
  ].filter(Boolean);
  if (facts.length) h += `<p>${esc(facts.join(' · '))}</p>`;
  if (shown.length) h += `<table><tr>${shown.map((k) => `<th>${esc(k)}</th>`).join('')}</tr><tr>${shown.map((k) => `<td>${esc(JSON.stringify(cfg[k]))}</td>`).join('')}</tr></table>`;
  else h += note('No configuration found (no summary line in log.jsonl, no summary.json).');
  for (const n of run.notes ?? []) h += note(n);
  return h;
}

/** The full report of one run as a self-contained HTML document. */
export function renderReport(run: RunData): string {
  const geo = geometryOf(run);
  const body = [
    header(run),
    '<h2>Metrics</h2>', metricTable([run], [geo]),
    '<h2>Training curves</h2>', curves(run),
    '<h2>Per-class accuracy against training frequency</h2>', perClass(run),
    '<h2>Class-mean geometry</h2>', geometrySection(run, geo),
    '<h2>Classifier norms</h2>', classifierNorms(run),
    '<h2>Embeddings</h2>', embeddingView(run),
    '<h2>Two-Classes metrics</h2>', twoClassesTable(run),
    confusion(run),
  ];
  return page(`report: ${run.name}`, body.join('\n'));
}

/** One table of all runs (rows) and metrics (columns), and their curves overlaid. */
export function renderComparison(runs: RunData[]): string {
  if (!runs.length) throw new Error('renderComparison: no runs given');
  const geos = runs.map(geometryOf);
  const overlay = (pick: (e: EpochRecord) => number, yLabel: string, yRange?: [number, number]) => {
    const series = runs.filter((r) => r.epochs.length).map((r, i) => ({ name: r.name, x: r.epochs.map((e) => e.epoch), y: r.epochs.map(pick), color: PALETTE[i % PALETTE.length] }));
    return series.length ? lineChart(series, { xLabel: 'epoch', yLabel, yRange }) : '';
  };
  const charts = [overlay((e) => e.classAverage, 'class-avg accuracy', [0, 1]), overlay((e) => e.top1, 'top-1 accuracy', [0, 1]), overlay((e) => e.few, 'few-shot accuracy', [0, 1]), overlay((e) => e.loss, 'training loss')].filter(Boolean);
  const notes = runs.flatMap((r) => (r.notes ?? []).map((n) => `${r.name}: ${n}`));
  const body = [
    `<h1>Comparison of ${runs.length} runs</h1>`,
    ...notes.map(note),
    '<h2>Metrics</h2>', metricTable(runs, geos), caption('Final evaluation of each run; the best value of each column is in bold.'),
    '<h2>Curves</h2>', charts.length ? `<div class="row">${charts.join('')}</div>` : note('No run has per-epoch records.'),
  ];
  return page(`compare: ${runs.map((r) => r.name).join(', ')}`, body.join('\n'));
}
