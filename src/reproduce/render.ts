// A suite's results as results.md (tables and verdicts, for a repository) and results.html (the same
// with plots: per-class accuracy head → tail with error bars, SAA/CAC against the minority share,
// learned vs optimal geometry).

import { headToTail } from '../report/analysis.js';
import { page } from '../report/render.js';
import { barChart, esc, lineChart, type Series } from '../report/svg.js';
import type { Verdict } from './claims.js';
import { METRICS, type GroupResult, type SuiteResults } from './results.js';
import { interval, unpairedDifference, type Interval } from './stats.js';

/** "12.3 ± 0.4" (mean ± sd over seeds), "12.3" for one seed; digits from the metric's unit. */
export function meanSd(iv: Interval | undefined, unit: string): string {
  if (!iv) return '–';
  const d = unit === '%' ? 1 : 3;
  return Number.isFinite(iv.sd) ? `${iv.mean.toFixed(d)} ± ${iv.sd.toFixed(d)}` : iv.mean.toFixed(d);
}

const ivText = (iv: Interval | null, d = 2) => (!iv ? 'no runs' : Number.isFinite(iv.lo) ? `${iv.mean.toFixed(d)} [${iv.lo.toFixed(d)}, ${iv.hi.toFixed(d)}]` : `${iv.mean.toFixed(d)} (one seed)`);

/** The evidence of a verdict in one line: each comparison's mean and 95 % interval against its claimed side. */
export function evidenceText(v: Verdict): string {
  return v.evidence.map((e) => `${e.what}: ${ivText(e.interval)} (${e.claimed})`).join('; ');
}


function mdTable(head: string[], rows: string[][]): string {
  const line = (r: string[]) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const hms = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

/** The rows of the main table: one per group (and per peer group below it). */
function mainRows(r: SuiteResults): { head: string[]; rows: string[][] } {
  const head = ['group', 'seeds', ...r.suite.columns.map((c) => `${METRICS[c].label}${METRICS[c].unit ? ` (${METRICS[c].unit})` : ''}`)];
  const row = (g: GroupResult, who: string) => [`${g.group.label}${who}`, String(g.seeds.length), ...r.suite.columns.map((c) => meanSd(g.metrics[c], METRICS[c].unit))];
  const rows: string[][] = [];
  for (const g of r.groups) {
    rows.push(row(g, ''));
    const p = r.peer?.groups.find((x) => x.group.id === g.group.id);
    if (p) rows.push(row(p, ` (${r.peer!.name})`));
  }
  return { head, rows };
}

/**
 * Ours against the peer, group by group, on the suite's first four columns: the difference of means
 * with its 95 % interval (unpaired: the two implementations draw different random streams), and
 * whether they agree within the seed spread (the interval includes 0).
 */
function peerRows(r: SuiteResults): { head: string[]; rows: string[][] } | null {
  if (!r.peer) return null;
  const cols = r.suite.columns.slice(0, 4);
  const rows = r.groups.flatMap((g) => {
    const p = r.peer!.groups.find((x) => x.group.id === g.group.id);
    if (!p) return [];
    return [[g.group.label, ...cols.map((c) => {
      if (!g.metrics[c] || !p.metrics[c]) return '–';
      const d = unpairedDifference(g.metrics[c], p.metrics[c]);
      const agree = !Number.isFinite(d.lo) ? 'one seed' : d.lo <= 0 && d.hi >= 0 ? 'agree' : 'DIFFER';
      return `${ivText(d, METRICS[c].unit === '%' ? 1 : 3)} ${agree}`;
    })]];
  });
  return { head: ['group', ...cols.map((c) => `${METRICS[c].label}: ours − ${r.peer!.name}`)], rows };
}

/** Per-class accuracy head → tail (mean ± sd), long-tail suites only. */
function perClassRows(r: SuiteResults): { head: string[]; rows: string[][] } | null {
  const g0 = r.groups[0];
  if (!g0 || g0.trainCounts.length <= 2) return null;
  const order = headToTail(g0.trainCounts);
  const head = ['group', ...order.map((k) => `${g0.classNames[k] ?? k} (${g0.trainCounts[k]})`)];
  return { head, rows: r.groups.map((g) => [g.group.label, ...order.map((k) => (Number.isFinite(g.perClass[k].mean) ? `${g.perClass[k].mean.toFixed(1)} ± ${(g.perClass[k].sd || 0).toFixed(1)}` : '–'))]) };
}

/** The geometry table: learned vs optimal distance and collapse groups, when analysed. */
function geometryRows(geometry: GeometryRow[] | undefined): { head: string[]; rows: string[][] } | null {
  if (!geometry?.length) return null;
  return {
    head: ['suite / group', 'runs', '‖G_learned − G_optimal‖ (mean ± sd)', 'runs with learned collapse', 'optimal groups'],
    rows: [...new Set(geometry.map((g) => `${g.suite}/${g.group}`))].map((key) => {
      const rs = geometry.filter((g) => `${g.suite}/${g.group}` === key);
      const d = rs.map((g) => g.distance);
      return [key, String(rs.length), meanSd(interval(d), ''), `${rs.filter((g) => g.learnedGroups.length).length} of ${rs.length}`, [...new Set(rs.map((g) => groupsText(g.optimalGroups)))].join('; ')];
    }),
  };
}

function geometryRunRows(geometry: GeometryRow[] | undefined): { head: string[]; rows: string[][] } | null {
  if (!geometry?.length) return null;
  return {
    head: ['run', 'space', '‖G_learned − G_optimal‖', 'learned groups (< 30°)', 'optimal groups'],
    rows: geometry.map((g) => [g.run, g.space, g.distance.toFixed(3), groupsText(g.learnedGroups), groupsText(g.optimalGroups)]),
  };
}

const groupsText = (g: number[][]) => (g.length ? g.map((x) => `{${x.join(', ')}}`).join(' ') : 'none');

/** One analysed run of the geometry suite. */
export interface GeometryRow {
  /** `<suite>/<group>/seed-<s>`. */
  run: string;
  suite: string;
  group: string;
  space: string;
  distance: number;
  learnedGroups: number[][];
  optimalGroups: number[][];
}

function verdictRows(verdicts: Verdict[]): string[][] {
  return verdicts.map((v) => [v.claim.id, v.claim.text, v.claim.source, v.claim.paper, evidenceText(v), `**${v.verdict}**${v.reason ? ` (${v.reason})` : ''}`]);
}

const header = (r: SuiteResults) => r.suite.name === 'geometry' ? [
  `Scale **${r.suite.scale}**, seeds ${r.seeds.join(', ')}: every finished run of the training suites under this folder. Machine: ${r.machine}.`,
  "G_learned = [μ_i·μ_j] of the normalised class means of the run's L2-normalised projections (embeddings for recipes without a head), on its test set; G_optimal = the Gram matrix that minimises the population loss of the run's own objective (loss, τ, negatives) at its training proportions, from the convex solver. Learned collapse: two class means less than 30° apart; optimal groups: classes whose optimal means coincide (minority collapse).",
] : [
  `Scale **${r.suite.scale}**: ${r.suite.scaleNote}.`,
  `Seeds ${r.seeds.join(', ')}; ${r.groups.reduce((a, g) => a + g.seeds.length, 0)} finished runs; training wall time ${hms(r.wallSeconds)} (sum over cells); machine: ${r.machine}; adapter: ${r.adapter}.`,
  `Every cell is an ordinary run folder (\`npm run train\` flags: \`${r.suite.common.join(' ')}\` plus the group's); numbers are mean ± standard deviation over seeds, and a claim's evidence is the mean and 95 % Student-t interval of each compared difference, paired by seed.`,
];

/** results.md of a suite. */
export function renderMarkdown(r: SuiteResults, geometry?: GeometryRow[]): string {
  const parts = [`# ${r.suite.title}`, '', ...header(r), ''];
  if (r.verdicts.length) {
    parts.push('## Claims', '', mdTable(['id', 'claim', 'source', 'paper', 'ours: mean [95 % interval]', 'verdict'], verdictRows(r.verdicts)), '');
  }
  if (r.groups.length) {
    const m = mainRows(r);
    parts.push('## Results', '', mdTable(m.head, m.rows), '');
  }
  const peer = peerRows(r);
  if (peer) parts.push(`## Ours against the ${r.peer!.name} peer`, '', 'Difference of the means [95 % interval, unpaired]; *agree* when the interval includes 0, i.e. the two implementations agree within the seed-to-seed spread.', '', mdTable(peer.head, peer.rows), '');
  const pc = perClassRows(r);
  if (pc) parts.push('## Per-class accuracy (%), head → tail (training images in brackets)', '', mdTable(pc.head, pc.rows), '');
  const geo = geometryRows(geometry);
  const runs = geometryRunRows(geometry);
  if (geo && runs) parts.push('## Learned vs optimal geometry', '', mdTable(geo.head, geo.rows), '', '### Every run', '', mdTable(runs.head, runs.rows), '');
  return `${parts.join('\n')}\n`;
}

/** An HTML table; text cells are left-aligned (numbers stay right-aligned), **bold** as in Markdown. */
function htmlTable(head: string[], rows: string[][]): string {
  const cell = (c: string) => {
    const text = esc(c).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>');
    return /^[-−–\d]/.test(c) ? `<td>${text}</td>` : `<td style="text-align:left">${text}</td>`;
  };
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</table>`;
}

/** SAA and CAC of the minority against the minority share, one series per loss (two-classes suites). */
function collapsePlots(r: SuiteResults): string {
  const shared = r.groups.filter((g) => g.group.share !== undefined);
  if (!shared.length) return '';
  const methods = [...new Set(shared.map((g) => g.group.method))];
  const plot = (metric: string) => {
    const series: Series[] = methods.map((m) => {
      const gs = shared.filter((g) => g.group.method === m && g.metrics[metric]).sort((a, b) => a.group.share! - b.group.share!);
      return { name: gs[0]?.group.label.split(',')[0] ?? m, x: gs.map((g) => g.group.share!), y: gs.map((g) => g.metrics[metric].mean), errors: gs.map((g) => g.metrics[metric].sd || 0) };
    });
    return lineChart(series, { xLabel: 'minority share (%)', yLabel: `${METRICS[metric].label} (%)`, logX: true, width: 420 });
  };
  return `<h2>Collapse against the minority share</h2><div class="row">${['saa_min', 'cac_min', 'balacc'].map(plot).join('')}</div>` +
    '<p class="cap">Mean over seeds, bars ± one standard deviation. SAA near 0 and CAC near 50 % mean a collapsed representation.</p>';
}

/** Per-class accuracy head → tail, one series per group, with ± sd bars. */
function perClassPlot(r: SuiteResults): string {
  const g0 = r.groups[0];
  if (!g0 || g0.trainCounts.length <= 2) return '';
  const order = headToTail(g0.trainCounts);
  const series: Series[] = r.groups.map((g) => ({
    name: g.group.label, x: order.map((_, i) => i + 1), y: order.map((k) => g.perClass[k].mean), errors: order.map((k) => g.perClass[k].sd || 0),
  }));
  return `<h2>Per-class accuracy, head → tail</h2>${lineChart(series, { xLabel: 'class rank by training images (1 = head)', yLabel: 'test accuracy (%)', width: 900 })}` +
    `<p class="cap">Classes ordered by training images: ${order.map((k) => `${esc(g0.classNames[k] ?? String(k))} (${g0.trainCounts[k]})`).join(', ')}. Bars ± one standard deviation over seeds.</p>`;
}

/** results.html of a suite: the tables of results.md and the plots. */
export function renderHtml(r: SuiteResults, geometry?: GeometryRow[]): string {
  let body = `<h1>${esc(r.suite.title)}</h1>${header(r).map((l) => `<p>${esc(l.replace(/\*\*|`/g, ''))}</p>`).join('')}`;
  if (r.verdicts.length) body += `<h2>Claims</h2>${htmlTable(['id', 'claim', 'source', 'paper', 'ours: mean [95 % interval]', 'verdict'], verdictRows(r.verdicts))}`;
  if (r.groups.length) {
    const m = mainRows(r);
    body += `<h2>Results</h2>${htmlTable(m.head, m.rows)}`;
  }
  const peer = peerRows(r);
  if (peer) body += `<h2>Ours against the ${esc(r.peer!.name)} peer</h2><p class="cap">Difference of the means [95 % interval, unpaired]; agree when the interval includes 0.</p>${htmlTable(peer.head, peer.rows)}`;
  body += collapsePlots(r) + perClassPlot(r);
  const pc = perClassRows(r);
  if (pc) body += `<h3>Per-class accuracy (%)</h3>${htmlTable(pc.head, pc.rows)}`;
  const geo = geometryRows(geometry);
  const runs = geometryRunRows(geometry);
  if (geo && runs && geometry) {
    body += `<h2>Learned vs optimal geometry</h2>${htmlTable(geo.head, geo.rows)}${barChart(geometry.map((g) => g.run), geometry.map((g) => g.distance), { xLabel: 'run', yLabel: '‖G_learned − G_optimal‖_F' })}<h3>Every run</h3>${htmlTable(runs.head, runs.rows)}`;
  }
  return page(r.suite.title, body);
}
