// The run report and the comparison of runs as one self-contained HTML page each: inline CSS and inline
// SVG, no script and nothing fetched, so it opens offline, prints, and can be attached to an issue.
// Pure functions of RunData; every figure whose data is missing is replaced by a one-line note.
import { balancedAccuracy, confusionMatrix } from '../metrics/evaluation.js';
import { classGeometry, type ClassGeometry } from '../metrics/geometry.js';
import { etfGram, headToTail, learnedAgainstOptimal, projectEmbeddings } from './analysis.js';
import { barChart, esc, fmt, heatmap, lineChart, PALETTE, scatter, type HeatmapOptions, type Series } from './svg.js';
import type { EpochRecord, RunData, ThresholdCurves } from './types.js';

const CSS = `body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1150px;color:#222;padding:0 16px}
h1{font-size:22px}h3{font-size:15px;margin-top:18px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.best{font-weight:bold}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.note{color:#8a5a00;background:#fff8e6;padding:4px 8px;border-left:3px solid #e69f00}
.cap{font-size:12px;color:#555;max-width:1000px}svg{background:#fff}`;

/** Wraps `body` into a complete HTML document (the report's style). */
export function page(title: string, body: string): string {
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

/** Accuracy as a percentage for the charts (the records hold fractions). */
const percent = (v: number) => 100 * v;

/** Every epoch record has a finite step: epochs can then be placed on a step axis. */
const stepsKnown = (run: RunData) => run.epochs.length > 0 && run.epochs.every((e) => Number.isFinite(e.step));

/**
 * The training loss of one run on a step axis: one point per logged step (the step records), with the
 * epoch records' losses as dots at the step where each epoch ended and dashed guides at those steps.
 * Without step records the epoch records are the curve; without steps in them either, x is the epoch.
 */
function lossChart(run: RunData): string {
  const epochSeries = (name: string, style: Series['style']): Series => ({ name, x: run.epochs.map((e) => e.step), y: run.epochs.map((e) => e.loss), color: PALETTE[1], style });
  const guides = stepsKnown(run) ? { title: 'end of epoch', at: run.epochs.map((e) => e.step), labels: run.epochs.map((e) => String(e.epoch)), legend: 'end of an epoch' } : undefined;
  if (run.steps.length) {
    const series: Series[] = [{ name: 'loss per logged step', x: run.steps.map((s) => s.step), y: run.steps.map((s) => s.loss), color: PALETTE[5], style: 'line' }];
    if (stepsKnown(run)) series.push(epochSeries("epoch record's loss", run.epochs.length <= 60 ? 'dots' : 'line'));
    return lineChart(series, { xLabel: 'training step (batches)', yLabel: 'training loss', guides });
  }
  if (stepsKnown(run)) return lineChart([epochSeries('loss of each epoch record', 'both')], { xLabel: 'training step (batches)', yLabel: 'training loss', guides });
  return lineChart([{ name: 'loss of each epoch record', x: run.epochs.map((e) => e.epoch), y: run.epochs.map((e) => e.loss), color: PALETTE[1], style: 'both' }], { xLabel: 'epoch', yLabel: 'training loss' });
}

/** Loss (per logged step) and accuracy (per epoch) curves of one run. */
function curves(run: RunData): string {
  if (!run.epochs.length && !run.steps.length) return note('No training curves: log.jsonl has no step or epoch records.');
  const out: string[] = [lossChart(run)];
  if (run.epochs.length) {
    const x = run.epochs.map((e) => e.epoch);
    const acc: Series[] = (['top1', 'classAverage', 'many', 'medium', 'few'] as const).map((k, i) => ({
      name: k === 'top1' ? 'top-1' : k === 'classAverage' ? 'class-avg' : k,
      x,
      y: run.epochs.map((e) => percent(e[k])),
      dashed: i >= 2,
      color: PALETTE[i],
    }));
    out.push(lineChart(acc.filter((s) => s.y.some(Number.isFinite)), { xLabel: 'epoch', yLabel: 'test accuracy (%)', yRange: [0, 100] }));
  } else out.push(note('No per-epoch evaluation records: accuracy curves omitted.'));
  const what = run.steps.length
    ? "Left: the training loss of each step record of log.jsonl; dots: each epoch record's loss, at the step where that epoch ended."
    : 'Left: no per-step records in log.jsonl, so the loss of each epoch record is drawn.';
  return `<div class="row">${out.join('')}</div>` + caption(`${what} Right: test accuracy after each epoch.`);
}

/** Per-class accuracy ordered head → tail with the training frequency as a line. */
function perClass(run: RunData): string {
  const acc = finalEval(run)?.perClass;
  if (!acc?.length) return note('No per-class accuracy in the log.');
  const counts = trainCounts(run);
  const order = counts && counts.length === acc.length ? headToTail(counts) : acc.map((_, c) => c);
  const ordered = counts && counts.length === acc.length;
  const chart = barChart(order.map((c) => className(run, c)), order.map((c) => percent(acc[c])), {
    xLabel: ordered ? 'class, head → tail' : 'class (label order)',
    yLabel: 'test accuracy (%)',
    yRange: [0, 100],
    line: ordered ? { name: 'training images per class', values: order.map((c) => counts[c]), log: true } : undefined,
  });
  const cap = counts ? 'Classes ordered from head (most training images) to tail; the line is the training count per class (log scale).' : 'No trainCounts in the summary: classes in label order, no frequency line.';
  return chart + caption(cap);
}

/** Options of the class-mean Gram heatmaps: cosines on the diverging −1…1 scale, classes head → tail when the counts are known. */
function cosineAxes(run: RunData): HeatmapOptions {
  const order = trainCounts(run) ? ' (head → tail)' : '';
  return { legend: 'cosine', rowTitle: `class i${order}`, colTitle: `class j${order}` };
}

/** Trained class-mean cosines beside the ETF; then the learned geometry against the solver's optimum. */
function geometrySection(run: RunData, geo: ClassGeometry | undefined): string {
  if (!geo) return note('No embeddings (embeddings.safetensors) with two or more classes: class-mean geometry omitted.');
  const counts = trainCounts(run);
  const order = counts ? headToTail(counts).filter((c) => geo.classes.includes(c)) : geo.classes;
  const slot = new Map(geo.classes.map((c, i) => [c, i]));
  const reorder = (m: number[][], idx: (c: number) => number) => order.map((a) => order.map((b) => m[idx(a)][idx(b)]));
  const labels = order.map((c) => className(run, c));
  const axes = cosineAxes(run);
  const maps = [heatmap(reorder(geo.gram, (c) => slot.get(c)!), labels, 'trained: cos(μ_i, μ_j)', axes), heatmap(etfGram(order.length), labels, 'ideal simplex (ETF)', axes)];
  const collapse = geo.minorityCollapse ? 'yes: two minority class means are closer than 30°' : 'no';
  return `<div class="row">${maps.join('')}</div>` + caption(
    `Cosines of the centred class means of the embeddings (head → tail). ETF distance ‖G − G_ETF‖/‖G_ETF‖ = ${fmt(geo.etfDistance)}, ` +
      `smallest angle ${fmt(geo.minAngle)}°, mean angle ${fmt(geo.meanAngle)}°, minority collapse: ${collapse}.`,
  ) + learnedVsOptimal(run, order, labels);
}

/**
 * The learned Gram matrix (normalised, uncentred class means of the unit rows of the contrastive space)
 * beside the solver's optimum for the run's loss, τ, N and class proportions, and their difference.
 */
function learnedVsOptimal(run: RunData, order: number[], labels: string[]): string {
  const head = '<h3>Learned vs optimal geometry</h3>';
  const got = learnedAgainstOptimal(run);
  if (got === null) return '';
  if (typeof got === 'string') return head + note(got);
  const { space, comparison: cmp, optimal } = got;
  const pick = (m: number[][]) => order.map((a) => order.map((b) => m[a][b]));
  const diff = got.learned.map((r, i) => r.map((v, j) => v - optimal.gram[i][j]));
  const axes = cosineAxes(run);
  const maps = [
    heatmap(pick(got.learned), labels, `learned (${space})`, axes),
    heatmap(pick(optimal.gram), labels, `optimal: ${optimal.objective}`, axes),
    heatmap(pick(diff), labels, 'learned − optimal', { ...axes, legend: 'difference of cosines (clipped to ±1)' }),
  ];
  const worst = cmp.pairs.reduce((a, b) => (Math.abs(b.difference) > Math.abs(a.difference) ? b : a), cmp.pairs[0]);
  const groups = (g: number[][]) => (g.length ? g.map((x) => `{${x.map((c) => className(run, c)).join(', ')}}`).join(' ') : 'none');
  return head + `<div class="row">${maps.join('')}</div>` + caption(
    `G = [μ_i·μ_j] of the normalised class means of the L2-normalised ${space}, against the Gram matrix that minimises the population loss at the run's training proportions` +
      `${optimal.note ? ` (${optimal.note})` : ''}. Frobenius distance ‖G_learned − G_optimal‖ = ${fmt(cmp.distance)}` +
      `${worst ? `; largest angle difference ${fmt(worst.difference)}° (${className(run, worst.i)}–${className(run, worst.j)}: ${fmt(worst.learned)}° learned, ${fmt(worst.optimal)}° optimal)` : ''}. ` +
      `Collapsed groups: learned (means < 30° apart) ${groups(cmp.learnedGroups)}; optimal ${groups(cmp.optimalGroups)}. The difference saturates at ±1 in colour; cell titles give values. ` +
      'npm run geometry -- --run DIR prints the same comparison.',
  );
}

/**
 * ρ*(N) curves of a threshold sweep, one per τ, on log-log axes; `marks` adds the run's N (vertical) and
 * imbalance ratio (horizontal) as dashed lines. Shared by the run report and `geometry --sweep --html`.
 */
export function thresholdChart(curves: ThresholdCurves, marks: { negatives?: number; ratio?: number } = {}): string {
  const taus = [...new Set(curves.rows.map((r) => r.tau))];
  const series: Series[] = taus.map((tau, i) => {
    const rows = curves.rows.filter((r) => r.tau === tau);
    return { name: `τ = ${tau}${rows.every((r) => r.converged) ? '' : ' (?)'}`, x: rows.map((r) => r.negatives), y: rows.map((r) => r.ratio), color: PALETTE[i % PALETTE.length] };
  });
  const xs = curves.rows.map((r) => r.negatives);
  const ys = curves.rows.map((r) => r.ratio).filter(Number.isFinite);
  const [xLo, xHi] = [Math.min(...xs), Math.max(...xs, marks.negatives ?? 0)];
  const [yLo, yHi] = [Math.min(...ys, marks.ratio ?? Infinity), Math.max(...ys, marks.ratio ?? 0)];
  if (marks.negatives !== undefined && ys.length) series.push({ name: `run's N = ${marks.negatives}`, x: [marks.negatives, marks.negatives], y: [yLo, yHi], dashed: true, color: PALETTE[7] });
  if (marks.ratio !== undefined && marks.ratio > 1) series.push({ name: `run's n_max/n_min = ${fmt(marks.ratio)}`, x: [xLo, xHi], y: [marks.ratio, marks.ratio], dashed: true, color: PALETTE[4] });
  return lineChart(series, { xLabel: 'negatives N per anchor', yLabel: 'threshold ρ* = p_maj/p_min', logX: true, logY: true });
}

/** What the threshold curves show, for their caption. */
function thresholdCaption(c: ThresholdCurves): string {
  const none = c.rows.filter((r) => !Number.isFinite(r.ratio)).length;
  return `Minority-collapse threshold of the ${c.loss} population loss for ${c.classes} classes, ${c.majority} of them majority classes of share p_maj and the rest minority classes of share p_min: ` +
    'past ρ* = p_maj/p_min the optimal minority class means coincide (exact KKT criterion, src/geometry/analysis.ts).' +
    (c.loss === 'supcon' ? '' : ` The ${c.loss} loss does not depend on N: one threshold per τ, drawn flat.`) +
    (none ? ` ${none} point(s) without collapse up to ρ = 1e8 are left out.` : '') +
    (c.rows.some((r) => !r.converged) ? ' (?): a solve behind that curve stopped short of its tolerance; treat it as indicative.' : '');
}

function thresholdSection(run: RunData): string {
  const c = run.thresholds;
  if (!c) return note('No threshold curves (solver skipped by --no-optimal, or no embeddings and training counts).');
  const counts = trainCounts(run)?.filter((n) => n > 0);
  const ratio = counts?.length ? Math.max(...counts) / Math.min(...counts) : undefined;
  return thresholdChart(c, { negatives: c.loss === 'supcon' ? run.optimal?.negatives : undefined, ratio }) + caption(
    thresholdCaption(c) + ' The dashed lines place the run (its imbalance profile is not two-level, so only roughly). ' +
      'npm run geometry -- --sweep --html FILE draws the full sweep for any K, m, τ and N.',
  );
}

/** The page of `npm run geometry -- --sweep --html FILE`: the threshold curves and their table. */
export function renderSweep(c: ThresholdCurves): string {
  const ns = [...new Set(c.rows.map((r) => r.negatives))];
  const taus = [...new Set(c.rows.map((r) => r.tau))];
  let table = `<table><tr><th>τ \\ N</th>${ns.map((n) => `<th>${n}</th>`).join('')}</tr>`;
  for (const t of taus) {
    table += `<tr><td>${t}</td>${ns.map((n) => c.rows.find((r) => r.tau === t && r.negatives === n)).map((r) => `<td>${r && Number.isFinite(r.ratio) ? fmt(r.ratio) : '–'}${r && !r.converged ? ' ?' : ''}</td>`).join('')}</tr>`;
  }
  const body = [`<h1>Minority-collapse thresholds: ${esc(c.loss)}, K = ${c.classes}, m = ${c.majority}</h1>`, thresholdChart(c), caption(thresholdCaption(c)), `${table}</table>`];
  return page(`thresholds: ${c.loss}`, body.join('\n'));
}

/** Classifier weight norms and the per-class mean gradient norm at the classifier, side by side. */
function classifierNorms(run: RunData): string {
  const norms = run.classifierNorms;
  const grads = run.metrics?.gradientNorms;
  const counts = trainCounts(run);
  const k = norms?.length ?? grads?.perClass.length ?? 0;
  const order = counts && counts.length === k ? headToTail(counts) : Array.from({ length: k }, (_, c) => c);
  const names = order.map((c) => className(run, c));
  const xLabel = counts && counts.length === k ? 'class, head → tail' : 'class (label order)';
  const out: string[] = [];
  if (norms?.length) {
    out.push(barChart(names, order.map((c) => norms[c]), { xLabel, yLabel: 'weight norm ‖w_c‖', barColor: () => PALETTE[2] }));
  } else out.push(note('No classifier weights (fc.weight in checkpoint.safetensors): norm bars omitted.'));
  if (grads?.perClass.length === k) {
    out.push(barChart(names, order.map((c) => grads.perClass[c] ?? NaN), { xLabel, yLabel: 'mean ‖∂CE_i/∂W‖ per image', barColor: () => PALETTE[1] }));
  } else out.push(note('No gradient norms (metrics.json "gradientNorms"): gradient bars omitted.'));
  const gradText = grads
    ? ` Right: the mean over training images of each class (${grads.samples.join(', ')} images) of the norm of the per-sample cross-entropy gradient at the ${grads.classifier === 'probe' ? 'linear probe' : `${grads.classifier} classifier`} (Reb-SupCon Fig. 2); tail classes with larger gradients are the ones the loss still pulls on.`
    : '';
  return `<div class="row">${out.join('')}</div>` + caption(`Left: norm of each class's classifier weight vector, head → tail; tail classes with smaller norms are the classic long-tail bias.${gradText}`);
}

function embeddingView(run: RunData): string {
  if (!run.embeddings || run.embeddings.n === 0) return note('No embeddings (embeddings.safetensors): 2-D view omitted.');
  const spaces = [{ name: 'embeddings', emb: run.embeddings }, ...(run.projections ? [{ name: 'projections', emb: run.projections }] : [])];
  const views = spaces.map(({ name, emb }) => {
    const p = projectEmbeddings(emb);
    const k = Math.max(trainCounts(run)?.length ?? 0, ...p.points.map((q) => q.label + 1));
    const names = Array.from({ length: k }, (_, c) => className(run, c));
    const axes = p.method === 'circle' ? { xLabel: 'x₁ / ‖x‖', yLabel: 'x₂ / ‖x‖' } : { xLabel: 'principal direction 1 of the class means', yLabel: 'principal direction 2' };
    return { p, name, d: emb.d, svg: scatter(p.points, names, { circle: p.method === 'circle', title: name, ...axes }) };
  });
  const side = (i: number) => (views.length > 1 ? (i ? 'Right: the' : 'Left: the') : 'The');
  const text = views.map(({ p, name, d }, i) => (p.method === 'circle'
    ? `${side(i)} ${name} are 2-D: each point is its feature direction on the unit circle.`
    : `${side(i)} ${name} are ${d}-D: projected onto the top-2 principal directions of the centred class means (not of the samples), so the view shows how classes separate.`));
  if (run.projections) text.push('Embeddings: the backbone features the classifier sees; projections: the head output the contrastive loss sees.');
  return `<div class="row">${views.map((v) => v.svg).join('')}</div>` + caption(text.join(' '));
}

function twoClassesTable(run: RunData): string {
  const t = run.metrics?.twoClasses;
  if (!t?.classes.length) return note('No Two-Classes metrics (metrics.json "twoClasses"): table omitted.');
  let s = `<table><tr><th>class</th><th>samples</th><th>SAD</th><th>SAA</th><th>CAD</th><th>CAC</th><th>uniformity</th></tr>`;
  for (const r of t.classes) {
    s += `<tr><td>${esc(className(run, r.label))}</td><td>${r.samples ?? '–'}</td>${[r.sad, r.saa, r.cad, r.cac, r.uniformity].map((v) => `<td>${fmt(v)}</td>`).join('')}</tr>`;
  }
  const what = [t.space && `space: ${t.space}`, t.views].filter(Boolean).join('; ');
  return `${s}</table>${caption(`Mean SAD over samples ${fmt(t.sadMean)}${t.m !== undefined ? `; CAC neighbourhood m = ${t.m}` : ''}${what ? `; ${what}` : ''}.`)}`;
}

function confusion(run: RunData): string {
  const p = run.metrics?.predictions;
  if (!p) return '';
  const k = classCount(run, p);
  const m = confusionMatrix(p.predicted, p.labels, k);
  // Row-normalised (recall per true class), so that tail rows are as readable as head rows.
  const totals = m.map((row) => row.reduce((a, b) => a + b, 0));
  const norm = m.map((row, i) => row.map((v) => (totals[i] ? v / totals[i] : NaN)));
  const labels = Array.from({ length: k }, (_, c) => className(run, c));
  const map = heatmap(norm, labels, 'test predictions, row-normalised', {
    scale: 'sequential',
    legend: 'share of the true class',
    rowTitle: 'true class',
    colTitle: 'predicted class',
    cellTitle: (i, j) => `true ${labels[i]}, predicted ${labels[j]}: ${m[i][j]} of ${totals[i]} (${pct(norm[i][j])})`,
  });
  return `<h2>Confusion matrix</h2>${map}` + caption(
    "Each row is a true class and sums to 1: the share of its test images predicted as each class (the diagonal is the class's recall); cell titles give the counts. Grey rows: no test image of that class.",
  );
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
    '<h2>Minority-collapse thresholds</h2>', thresholdSection(run),
    '<h2>Classifier norms and gradient norms</h2>', classifierNorms(run),
    '<h2>Embeddings</h2>', embeddingView(run),
    '<h2>Two-Classes metrics</h2>', twoClassesTable(run),
    confusion(run),
  ];
  return page(`report: ${run.name}`, body.join('\n'));
}

/**
 * The runs' training losses on one axis: per logged step where every run has step records (or epoch
 * records with steps), else per epoch record against the epoch.
 */
function lossOverlay(runs: RunData[]): string {
  const withLoss = runs.filter((r) => r.steps.length || r.epochs.length);
  if (!withLoss.length) return '';
  const bySteps = withLoss.every((r) => r.steps.length || stepsKnown(r));
  const series = withLoss.map((r) => {
    const color = PALETTE[runs.indexOf(r) % PALETTE.length];
    if (bySteps && r.steps.length) return { name: r.name, x: r.steps.map((s) => s.step), y: r.steps.map((s) => s.loss), color, style: 'line' as const };
    return { name: r.name, x: r.epochs.map((e) => (bySteps ? e.step : e.epoch)), y: r.epochs.map((e) => e.loss), color, style: 'both' as const };
  });
  return lineChart(series, { xLabel: bySteps ? 'training step (batches)' : 'epoch', yLabel: 'training loss' });
}

/** One table of all runs (rows) and metrics (columns), and their curves overlaid. */
export function renderComparison(runs: RunData[]): string {
  if (!runs.length) throw new Error('renderComparison: no runs given');
  const geos = runs.map(geometryOf);
  const overlay = (pick: (e: EpochRecord) => number, yLabel: string, yRange?: [number, number]) => {
    // A run keeps its colour in every chart, whichever runs a chart leaves out.
    const series = runs.filter((r) => r.epochs.length).map((r) => ({ name: r.name, x: r.epochs.map((e) => e.epoch), y: r.epochs.map(pick), color: PALETTE[runs.indexOf(r) % PALETTE.length] }));
    return series.length ? lineChart(series, { xLabel: 'epoch', yLabel, yRange }) : '';
  };
  const charts = [
    overlay((e) => percent(e.classAverage), 'class-avg accuracy (%)', [0, 100]),
    overlay((e) => percent(e.top1), 'top-1 accuracy (%)', [0, 100]),
    overlay((e) => percent(e.few), 'few-shot accuracy (%)', [0, 100]),
    lossOverlay(runs),
  ].filter(Boolean);
  const notes = runs.flatMap((r) => (r.notes ?? []).map((n) => `${r.name}: ${n}`));
  const body = [
    `<h1>Comparison of ${runs.length} runs</h1>`,
    ...notes.map(note),
    '<h2>Metrics</h2>', metricTable(runs, geos), caption('Final evaluation of each run; the best value of each column is in bold.'),
    '<h2>Curves</h2>', charts.length ? `<div class="row">${charts.join('')}</div>` : note('No run has per-epoch records.'),
  ];
  return page(`compare: ${runs.map((r) => r.name).join(', ')}`, body.join('\n'));
}
