// The papers' claims as the repository writes them down once (docs/claims.md), parsed from their
// Markdown table, and judged on a grid's results by 95 % intervals over seeds.
//
// A claim's check is one or more comparisons joined by "and":
//   top1[bcl] > top1[supcon-lc] > top1[ce-la]     a chain: every neighbouring pair, paired by seed
//   saa[supcon-1] < 10                             a group's mean against a number
//   balacc[supproto-50] ≈ balacc[supcon-50] ± 2    equal within a tolerance (also against a number)
// A term is metric[group] (metric ids of results.ts, group ids of suites.ts) or a number.
//
// Verdicts: "holds" when every interval lies on the claimed side, "does not hold" when one lies wholly
// on the other side, else "not resolved at this scale" (an interval includes the boundary). A claim
// whose premise (another claim, the `requires` column) does not hold is not resolved either: the
// effect it is about is not visible at this scale.

import type { Interval } from './stats.js';

/** A metric of a group, or a number. */
export type Term = { metric: string; group: string } | { value: number };

export type Comparison =
  | { kind: 'order'; terms: Term[]; op: '>' | '<' }
  | { kind: 'approx'; left: Term; right: Term; tolerance: number };

export interface Claim {
  id: string;
  suite: string;
  /** The claim in words. */
  text: string;
  /** Paper, table or section. */
  source: string;
  /** The paper's numbers the claim rests on. */
  paper: string;
  /** The check as written. */
  check: string;
  comparisons: Comparison[];
  /** Ids of claims that must hold for this one to be judged. */
  requires: string[];
}

export type VerdictKind = 'holds' | 'does not hold' | 'not resolved at this scale' | 'not run';

/** One comparison's evidence: the interval judged and the boundary it was judged against. */
export interface Evidence {
  what: string;
  interval: Interval | null;
  /** The claimed side, e.g. "> 0" or "within ±2". */
  claimed: string;
  verdict: VerdictKind;
}

export interface Verdict {
  claim: Claim;
  verdict: VerdictKind;
  /** Why, in one sentence (premise not met, groups missing, one seed). */
  reason?: string;
  evidence: Evidence[];
}

/** Where a grid's values come from: per-seed values of a metric in a group (empty map when absent). */
export interface ClaimData {
  values(metric: string, group: string): ReadonlyMap<number, number>;
  /** The interval of one group's metric over seeds, or null when no seed has it. */
  summary(metric: string, group: string): Interval | null;
  /** The interval of a − b paired by seed, or null when no seed has both. */
  difference(a: { metric: string; group: string }, b: { metric: string; group: string }): Interval | null;
}

const COLUMNS = ['id', 'suite', 'claim', 'source', 'paper', 'check', 'requires'];

function parseTerm(s: string, where: string): Term {
  const t = s.trim();
  const m = /^([a-z_0-9]+)\[([a-z0-9-]+)\]$/i.exec(t);
  if (m) return { metric: m[1], group: m[2] };
  const v = Number(t);
  if (t === '' || !Number.isFinite(v)) throw new Error(`${where}: '${t}' is neither metric[group] nor a number`);
  return { value: v };
}

/** Parses one check ("a > b > c and d ≈ e ± t"); `where` names it in errors. */
export function parseCheck(check: string, where: string): Comparison[] {
  return check.split(/\s+and\s+/).map((part) => {
    const approx = /^(.*?)(?:≈|~=)(.*?)±(.*)$/.exec(part);
    if (approx) {
      const tolerance = Number(approx[3].trim());
      if (!(tolerance > 0)) throw new Error(`${where}: the tolerance after ± must be a positive number, got '${approx[3].trim()}'`);
      return { kind: 'approx', left: parseTerm(approx[1], where), right: parseTerm(approx[2], where), tolerance };
    }
    const ops = part.match(/[<>]/g) ?? [];
    if (ops.length === 0) throw new Error(`${where}: '${part.trim()}' has no comparison (use >, < or ≈ … ±)`);
    if (new Set(ops).size > 1) throw new Error(`${where}: '${part.trim()}' mixes > and <`);
    const terms = part.split(/[<>]/).map((t) => parseTerm(t, where));
    if (terms.every((t) => 'value' in t)) throw new Error(`${where}: '${part.trim()}' compares numbers only`);
    return { kind: 'order', terms, op: ops[0] as '>' | '<' };
  });
}

/** Splits a Markdown table row into its cells (no escaped pipes in claims). */
const cells = (line: string) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());

/**
 * The claims of a Markdown document: the first table whose header is exactly
 * `| id | suite | claim | source | paper | check | requires |`. Checks may be wrapped in backticks.
 * Throws on a malformed row, naming its line.
 */
export function parseClaims(markdown: string, file = 'claims'): Claim[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim().startsWith('|') && cells(l).join(',').toLowerCase() === COLUMNS.join(','));
  if (start < 0) throw new Error(`${file}: no claims table (header | ${COLUMNS.join(' | ')} |)`);
  const claims: Claim[] = [];
  for (let i = start + 2; i < lines.length && lines[i].trim().startsWith('|'); i++) {
    const where = `${file}:${i + 1}`;
    const c = cells(lines[i]);
    if (c.length !== COLUMNS.length) throw new Error(`${where}: ${c.length} cells, expected ${COLUMNS.length}`);
    const [id, suite, text, source, paper, check, requires] = c;
    if (!/^[a-z0-9-]+$/.test(id)) throw new Error(`${where}: claim id '${id}' must be lower-case letters, digits and dashes`);
    if (claims.some((x) => x.id === id)) throw new Error(`${where}: claim id '${id}' appears twice`);
    const bare = check.replace(/`/g, '');
    claims.push({
      id, suite, text, source, paper, check: bare, comparisons: parseCheck(bare, `${where} (${id})`),
      requires: requires === '' || requires === '-' || requires === '—' ? [] : requires.split(',').map((r) => r.trim()),
    });
  }
  for (const cl of claims) {
    for (const r of cl.requires) if (!claims.some((x) => x.id === r)) throw new Error(`${file}: claim '${cl.id}' requires unknown claim '${r}'`);
  }
  return claims;
}

const show = (t: Term) => ('value' in t ? String(t.value) : `${t.metric}[${t.group}]`);

/** Judges one interval against the claimed side `> 0` (sign 1) or `< 0` (sign −1) of a boundary. */
function side(iv: Interval | null, boundary: number, sign: 1 | -1): VerdictKind {
  if (!iv) return 'not run';
  if (!Number.isFinite(iv.lo)) return 'not resolved at this scale';
  const lo = sign * (iv.lo - boundary);
  const hi = sign * (iv.hi - boundary);
  if (Math.min(lo, hi) > 0) return 'holds';
  if (Math.max(lo, hi) < 0) return 'does not hold';
  return 'not resolved at this scale';
}

/** The interval of left − right (paired by seed), or of left against a number (then the boundary is it). */
function gap(data: ClaimData, left: Term, right: Term): { iv: Interval | null; boundary: number } {
  if ('value' in left && 'value' in right) throw new Error('gap: two numbers');
  if ('value' in right) return { iv: data.summary((left as { metric: string }).metric, (left as { group: string }).group), boundary: right.value };
  if ('value' in left) {
    const s = data.summary(right.metric, right.group);
    // left − right = −(right − left): flip the interval around the number.
    return { iv: s && { ...s, mean: -s.mean, lo: -s.hi, hi: -s.lo }, boundary: -left.value };
  }
  return { iv: data.difference(left, right), boundary: 0 };
}

function combine(verdicts: VerdictKind[]): VerdictKind {
  if (verdicts.includes('not run')) return 'not run';
  if (verdicts.includes('does not hold')) return 'does not hold';
  if (verdicts.every((v) => v === 'holds')) return 'holds';
  return 'not resolved at this scale';
}

function judgeComparison(c: Comparison, data: ClaimData): Evidence[] {
  if (c.kind === 'order') {
    const out: Evidence[] = [];
    for (let i = 0; i + 1 < c.terms.length; i++) {
      const { iv, boundary } = gap(data, c.terms[i], c.terms[i + 1]);
      const sign = c.op === '>' ? 1 : -1;
      const what = `${show(c.terms[i])} ${c.op} ${show(c.terms[i + 1])}`;
      const claimed = 'value' in c.terms[i + 1] || 'value' in c.terms[i] ? `${c.op} ${boundary}` : `difference ${c.op} 0`;
      out.push({ what, interval: iv, claimed, verdict: side(iv, boundary, sign) });
    }
    return out;
  }
  const { iv, boundary } = gap(data, c.left, c.right);
  const what = `${show(c.left)} ≈ ${show(c.right)} ± ${c.tolerance}`;
  let verdict: VerdictKind;
  if (!iv) verdict = 'not run';
  else if (!Number.isFinite(iv.lo)) verdict = 'not resolved at this scale';
  else if (iv.lo >= boundary - c.tolerance && iv.hi <= boundary + c.tolerance) verdict = 'holds';
  else if (iv.hi < boundary - c.tolerance || iv.lo > boundary + c.tolerance) verdict = 'does not hold';
  else verdict = 'not resolved at this scale';
  return [{ what, interval: iv, claimed: `within ${boundary} ± ${c.tolerance}`, verdict }];
}

/** The verdict of every claim (in order), premises first whatever their order in the table. */
export function judgeClaims(claims: readonly Claim[], data: ClaimData): Verdict[] {
  const done = new Map<string, Verdict>();
  const judge = (cl: Claim, path: string[]): Verdict => {
    const seen = done.get(cl.id);
    if (seen) return seen;
    if (path.includes(cl.id)) throw new Error(`claims: '${cl.id}' requires itself through ${[...path, cl.id].join(' → ')}`);
    const evidence = cl.comparisons.flatMap((c) => judgeComparison(c, data));
    let verdict = combine(evidence.map((e) => e.verdict));
    let reason: string | undefined;
    if (verdict === 'not run') reason = 'a group it compares has no finished run';
    else if (evidence.some((e) => e.interval && e.interval.n < 2)) reason = 'one seed: no interval';
    const unmet = cl.requires.map((r) => judge(claims.find((x) => x.id === r)!, [...path, cl.id])).filter((v) => v.verdict !== 'holds');
    if (verdict !== 'not run' && unmet.length) {
      verdict = 'not resolved at this scale';
      reason = `its premise ${unmet.map((u) => `'${u.claim.id}' (${u.verdict})`).join(' and ')} does not hold here, so the effect is not visible at this scale`;
    }
    const v = { claim: cl, verdict, reason, evidence };
    done.set(cl.id, v);
    return v;
  };
  return claims.map((cl) => judge(cl, []));
}
