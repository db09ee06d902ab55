// npm run reproduce without training: statistics over seeds on fixed numbers, the claims table's parsing,
// verdicts on fixed grids (holds, does not hold, not resolved, not run, unmet premise), aggregation of
// cells, the results pages, and the repository's own claims table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeClaims, parseCheck, parseClaims } from '../src/reproduce/claims.js';
import { CLAIMS_FILE } from '../src/reproduce/node/reproduce.js';
import { renderHtml, renderMarkdown } from '../src/reproduce/render.js';
import { aggregate, claimData, METRICS, type CellFiles, type GroupCells } from '../src/reproduce/results.js';
import { interval, pairedDifference, t975, unpairedDifference } from '../src/reproduce/stats.js';
import { suite, SUITE_NAMES, SCALES } from '../src/reproduce/suites.js';
import { parseReproduceArgs } from '../src/cli/reproduce.js';

describe('statistics over seeds', () => {
  it('mean, sample sd and the Student-t 95 % interval on fixed numbers', () => {
    const iv = interval([1, 2, 3, 4]);
    expect(iv.mean).toBe(2.5);
    expect(iv.sd).toBeCloseTo(Math.sqrt(5 / 3), 12);
    // t_{0.975,3} = 3.1824: half-width 3.1824 · sd / 2.
    expect(iv.hi - iv.mean).toBeCloseTo((3.1824 * Math.sqrt(5 / 3)) / 2, 4);
    expect(iv.mean - iv.lo).toBeCloseTo(iv.hi - iv.mean, 12);
    const three = interval([70, 72, 77]);
    expect(three.sd).toBeCloseTo(Math.sqrt(((-3) ** 2 + (-1) ** 2 + 4 ** 2) / 2), 12);
    expect(three.hi - three.mean).toBeCloseTo((4.3027 * three.sd) / Math.sqrt(3), 4);
  });

  it('t quantiles: small samples widen the interval; large ones approach 1.96', () => {
    expect(t975(1)).toBeCloseTo(12.706, 3);
    expect(t975(2)).toBeCloseTo(4.303, 3);
    expect(t975(9)).toBeCloseTo(2.262, 3);
    expect(t975(30)).toBeCloseTo(2.042, 3);
    expect(t975(200)).toBe(1.96);
    expect(() => t975(0)).toThrow(/positive integer/);
  });

  it('unpaired differences (ours against a peer with other random streams): Welch standard error, conservative df', () => {
    const a = interval([10, 12, 14]);
    const b = interval([11, 11.5, 12, 12.5]);
    const d = unpairedDifference(a, b);
    expect(d.mean).toBeCloseTo(12 - 11.75, 12);
    const se = Math.sqrt(4 / 3 + b.sd ** 2 / 4);
    expect(d.sd).toBeCloseTo(se, 12);
    // df = min(3, 4) − 1 = 2: t = 4.303.
    expect(d.hi - d.mean).toBeCloseTo(4.3027 * se, 3);
    expect(unpairedDifference(interval([1]), b).lo).toBeNaN();
  });

  it('one value has a mean but no interval; no value or a NaN is an error', () => {
    const one = interval([5]);
    expect(one.mean).toBe(5);
    expect(one.sd).toBeNaN();
    expect(one.lo).toBeNaN();
    expect(() => interval([])).toThrow(/no values/);
    expect(() => interval([1, NaN])).toThrow(/non-finite/);
  });

  it('pairs differences by seed: only common seeds count, and pairing removes the shared seed effect', () => {
    // Seed effects of ±10 shared by both methods; the method effect is a constant 1.
    const a = new Map([[0, 61], [1, 71], [2, 51], [5, 99]]);
    const b = new Map([[0, 60], [1, 70], [2, 50], [7, 0]]);
    const d = pairedDifference(a, b);
    expect(d.seeds).toEqual([0, 1, 2]);
    expect(d.mean).toBe(1);
    expect(d.sd).toBe(0);
    expect([d.lo, d.hi]).toEqual([1, 1]);
    // Unpaired, the same numbers would not separate: the group intervals overlap.
    const ia = interval([61, 71, 51]);
    const ib = interval([60, 70, 50]);
    expect(ia.lo).toBeLessThan(ib.hi);
    expect(() => pairedDifference(new Map([[0, 1]]), new Map([[1, 1]]))).toThrow(/no seed in common/);
  });
});

const TABLE = `Some prose first.

| id | suite | claim | source | paper | check | requires |
|---|---|---|---|---|---|---|
| premise | s | A separates at 50 % | T1 | 90 | \`cac[a-50] > 60\` | - |
| order | s | A > B > C | T2 | 3 / 2 / 1 | \`top1[a] > top1[b] > top1[c]\` | - |
| small | s | A's SAA is small and CAC near 50 | Fig. 4 | 0, 50 | \`saa[a] < 10 and cac[a] ≈ 50 ± 5\` | premise |
| other | t | another suite | T3 | 1 | \`top1[x] > 1\` | - |

Text after the table.
`;

describe('claims table', () => {
  it('parses ids, suites, sources, checks (backticks dropped) and premises', () => {
    const claims = parseClaims(TABLE, 'claims.md');
    expect(claims.map((c) => c.id)).toEqual(['premise', 'order', 'small', 'other']);
    expect(claims[1]).toMatchObject({ suite: 's', text: 'A > B > C', source: 'T2', paper: '3 / 2 / 1', check: 'top1[a] > top1[b] > top1[c]', requires: [] });
    expect(claims[1].comparisons).toEqual([{ kind: 'order', op: '>', terms: [{ metric: 'top1', group: 'a' }, { metric: 'top1', group: 'b' }, { metric: 'top1', group: 'c' }] }]);
    expect(claims[2].requires).toEqual(['premise']);
    expect(claims[2].comparisons).toEqual([
      { kind: 'order', op: '<', terms: [{ metric: 'saa', group: 'a' }, { value: 10 }] },
      { kind: 'approx', left: { metric: 'cac', group: 'a' }, right: { value: 50 }, tolerance: 5 },
    ]);
  });

  it('refuses malformed rows and checks, naming the line', () => {
    const row = (cells: string) => `| id | suite | claim | source | paper | check | requires |\n|---|---|---|---|---|---|---|\n${cells}\n`;
    expect(() => parseClaims('no table here', 'c.md')).toThrow(/c.md: no claims table/);
    expect(() => parseClaims(row('| x | s | c | src | p | top1[a] > top1[b] |'), 'c.md')).toThrow(/c.md:3: 6 cells, expected 7/);
    expect(() => parseClaims(row('| X Y | s | c | src | p | top1[a] > 1 | - |'), 'c.md')).toThrow(/claim id 'X Y'/);
    expect(() => parseClaims(row('| x | s | c | src | p | top1[a] > 1 | nope |'), 'c.md')).toThrow(/requires unknown claim 'nope'/);
    expect(() => parseClaims(row('| x | s | c | src | p | top1[a] > 1 | - |\n| x | s | c | src | p | top1[a] > 1 | - |'), 'c.md')).toThrow(/c.md:4: claim id 'x' appears twice/);
    expect(() => parseCheck('top1[a] = top1[b]', 'w')).toThrow(/no comparison/);
    expect(() => parseCheck('top1[a] > top1[b] < 3', 'w')).toThrow(/mixes > and </);
    expect(() => parseCheck('top1[a] ≈ 3 ± 0', 'w')).toThrow(/tolerance/);
    expect(() => parseCheck('top1 a > 3', 'w')).toThrow(/'top1 a' is neither metric\[group\] nor a number/);
    expect(() => parseCheck('1 > 2', 'w')).toThrow(/compares numbers only/);
  });

  it("the repository's claims table parses, names only known metrics and groups, and covers every training suite", () => {
    const claims = parseClaims(readFileSync(CLAIMS_FILE, 'utf8'), CLAIMS_FILE);
    const groups = new Map(SUITE_NAMES.map((n) => [n, new Set(suite(n, 'cpu').groups.map((g) => g.id))]));
    for (const c of claims) {
      expect(groups.has(c.suite as never), c.id).toBe(true);
      expect(c.source.length, c.id).toBeGreaterThan(5);
      for (const cmp of c.comparisons) {
        const terms = cmp.kind === 'order' ? cmp.terms : [cmp.left, cmp.right];
        for (const t of terms) {
          if ('value' in t) continue;
          expect(METRICS[t.metric], `${c.id}: ${t.metric}`).toBeDefined();
          expect(groups.get(c.suite as never)!.has(t.group), `${c.id}: ${t.group}`).toBe(true);
        }
      }
    }
    for (const s of ['two-classes', 'long-tail', 'rebsupcon']) expect(claims.filter((c) => c.suite === s).length, s).toBeGreaterThanOrEqual(3);
  });
});

/** A finished cell with the given metrics (fractions as the trainer writes them; SAA/CAC in %). */
function cell(top1: number, opts: { saa?: number; cac?: number; perClass?: number[]; few?: number } = {}): CellFiles {
  const perClass = opts.perClass ?? [top1, top1];
  return {
    summary: {
      final: { top1, perClass, classAverage: top1, many: top1, medium: null, few: opts.few ?? null, loss: 1 },
      trainCounts: perClass.map((_, i) => 100 >> i), classNames: perClass.map((_, i) => `c${i}`), wallSeconds: 10,
    },
    metrics: opts.saa === undefined ? undefined : {
      balancedAccuracy: top1,
      twoClasses: { classes: [0, 1].map((label) => ({ label, sad: 0.1, saa: opts.saa!, cad: 0.2, cac: opts.cac!, uniformity: -1 })) },
    },
  };
}
const grid = (groups: Record<string, number[] | CellFiles[]>) => new Map(Object.entries(groups).map(([g, vs]) =>
  [g, new Map(vs.map((v, seed) => [seed, typeof v === 'number' ? cell(v) : v])) as GroupCells]));

describe('verdicts', () => {
  const claims = parseClaims(TABLE);
  const verdict = (cells: ReturnType<typeof grid>, id: string) => judgeClaims(claims, claimData(cells)).find((v) => v.claim.id === id)!;

  it('holds when every paired interval is on the claimed side; the evidence gives mean and interval', () => {
    const v = verdict(grid({ a: [0.6, 0.7, 0.5], b: [0.59, 0.69, 0.49], c: [0.58, 0.68, 0.48] }), 'order');
    expect(v.verdict).toBe('holds');
    expect(v.evidence).toHaveLength(2);
    expect(v.evidence[0].interval!.mean).toBeCloseTo(1, 9);
    expect(v.evidence[0].claimed).toBe('difference > 0');
  });

  it('does not hold when an interval lies wholly on the other side, whatever the other pairs', () => {
    expect(verdict(grid({ a: [0.6, 0.7, 0.5], b: [0.65, 0.74, 0.56], c: [0.1, 0.1, 0.1] }), 'order').verdict).toBe('does not hold');
  });

  it('is not resolved when an interval includes 0, or with one seed', () => {
    expect(verdict(grid({ a: [0.6, 0.7, 0.5], b: [0.61, 0.69, 0.5], c: [0.1, 0.1, 0.1] }), 'order').verdict).toBe('not resolved at this scale');
    const one = verdict(grid({ a: [0.6], b: [0.5], c: [0.4] }), 'order');
    expect(one.verdict).toBe('not resolved at this scale');
    expect(one.reason).toMatch(/one seed/);
  });

  it('is not run when a group it names has no finished cell', () => {
    const v = verdict(grid({ a: [0.6, 0.7], b: [0.5, 0.6] }), 'order');
    expect(v.verdict).toBe('not run');
    expect(v.reason).toMatch(/no finished run/);
  });

  it('thresholds and tolerances on a group mean; an unmet premise leaves the claim unresolved', () => {
    const collapsed = [cell(0.5, { saa: 1, cac: 49 }), cell(0.5, { saa: 2, cac: 51 }), cell(0.5, { saa: 1.5, cac: 50 })];
    const separated = (cac: number) => [cell(0.9, { saa: 60, cac }), cell(0.9, { saa: 61, cac }), cell(0.9, { saa: 62, cac })];
    // a-50 separates (CAC 90 > 60): the premise holds, and a's SAA < 10, CAC within 50 ± 5.
    expect(verdict(grid({ a: collapsed, 'a-50': separated(90) }), 'small').verdict).toBe('holds');
    // A CAC of 70 ± 0 lies wholly outside 50 ± 5.
    const far = [cell(0.5, { saa: 1, cac: 70 }), cell(0.5, { saa: 2, cac: 70 }), cell(0.5, { saa: 1.5, cac: 70 })];
    expect(verdict(grid({ a: far, 'a-50': separated(90) }), 'small').verdict).toBe('does not hold');
    // The premise fails (CAC 55 at 50 %): the collapse claim cannot be judged at this scale.
    const v = verdict(grid({ a: collapsed, 'a-50': separated(55) }), 'small');
    expect(v.verdict).toBe('not resolved at this scale');
    expect(v.reason).toMatch(/premise 'premise' \(does not hold\)/);
  });

  it('a claim that requires itself is refused', () => {
    const loop = parseClaims('| id | suite | claim | source | paper | check | requires |\n|---|---|---|---|---|---|---|\n| a | s | c | src | p | top1[x] > 1 | b |\n| b | s | c | src | p | top1[x] > 1 | a |\n');
    expect(() => judgeClaims(loop, claimData(grid({ x: [0.5, 0.6] })))).toThrow(/requires itself through a → b → a/);
  });
});

describe('aggregation and pages', () => {
  it('aggregates every metric and per-class accuracy over seeds, leaving out groups without runs', () => {
    const s = suite('long-tail', 'cpu');
    const cells = grid({ ce: [cell(0.5, { perClass: [0.9, 0.1], few: 0.1 }), cell(0.7, { perClass: [0.7, 0.3], few: 0.3 })] });
    const [g, ...rest] = aggregate(s.groups, cells);
    expect(rest).toEqual([]);
    expect(g.group.id).toBe('ce');
    expect(g.seeds).toEqual([0, 1]);
    expect(g.metrics.top1.mean).toBeCloseTo(60, 9);
    expect(g.metrics.top1.sd).toBeCloseTo(Math.sqrt(200), 9);
    expect(g.metrics.few.mean).toBeCloseTo(20, 9);
    expect(g.metrics.medium).toBeUndefined();
    expect(g.perClass[0].mean).toBeCloseTo(80, 9);
    expect(g.perClass[1].sd).toBeCloseTo(Math.sqrt(200), 9);
    expect(g.wallSeconds).toBe(20);
  });

  it('results.md and results.html hold the verdicts, the tables and (two classes) the collapse plots', () => {
    const s = suite('two-classes', 'cpu');
    const good = (saa: number, cac: number) => [0, 1, 2].map((i) => cell(0.8 + i / 100, { saa: saa + i, cac: cac + i }));
    const cells = new Map([['supcon-50', good(60, 90)], ['supcon-1', good(1, 50)], ['supcon-5', good(5, 55)]].map(([g, cs]) => [g as string, new Map((cs as CellFiles[]).map((c, i) => [i, c]))]));
    const claims = parseClaims(readFileSync(CLAIMS_FILE, 'utf8')).filter((c) => c.suite === 'two-classes');
    const r = { suite: s, machine: 'test', adapter: 'test', seeds: [0, 1, 2], wallSeconds: 90, groups: aggregate(s.groups, cells), verdicts: judgeClaims(claims, claimData(cells)) };
    const md = renderMarkdown(r);
    expect(md).toContain('| tc-collapse |');
    expect(md).toMatch(/SupCon, 50 % \| 3 \| 81\.0 ± 1\.0/);
    expect(md).toContain('not run');
    const html = renderHtml(r);
    expect(html).toContain('<svg');
    expect(html).toContain('Collapse against the minority share');
    expect(html).not.toContain('NaN');
  });
});

describe('command line', () => {
  it('checks every flag and every cell before any training, one line each', () => {
    const bad = (argv: string[], msg: RegExp) => expect(() => parseReproduceArgs(argv)).toThrow(msg);
    bad([], /--suite is required: two-classes, long-tail, rebsupcon, geometry, all/);
    bad(['--suite', 'nope'], /--suite must be one of/);
    bad(['--suite', 'long-tail', '--scale', 'huge'], /--scale must be one of cpu, paper, smoke/);
    bad(['--suite', 'long-tail', '--seeds', '0,x'], /--seeds must be a comma-separated list/);
    bad(['--suite', 'long-tail', '--seeds', '1,1'], /lists a seed twice/);
    bad(['--suite', 'long-tail', '--only', 'bcl,foo'], /--only: no group foo in long-tail/);
    bad(['--suite', 'two-classes', '--dataset', 'mnist'], /give the pair of classes with --binary A,B/);
    bad(['--suite', 'two-classes', '--binary', '1'], /--binary takes two classes/);
    bad(['--suite', 'two-classes', '--dataset', 'medmnist', '--data-dir', 'x', '--binary', '0,1'], /--data-dir does not apply to --dataset medmnist/);
    bad(['--suite', 'long-tail', '--bogus'], /Unknown option '--bogus'/);
    const ok = parseReproduceArgs(['--suite', 'all', '--scale', 'smoke', '--seeds', '3']);
    expect(ok).toMatchObject({ suites: [...SUITE_NAMES], scale: 'smoke', seeds: [3], out: 'runs/reproduce-smoke' });
    for (const scale of SCALES) for (const n of ['two-classes', 'long-tail', 'rebsupcon'] as const) expect(parseReproduceArgs(['--suite', n, '--scale', scale])).not.toBe('help');
  });
});
