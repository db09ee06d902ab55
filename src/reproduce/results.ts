// A grid's finished cells reduced to numbers: the metrics each cell's summary.json and metrics.json hold,
// aggregated per group over seeds (mean ± sd, 95 % interval), and the claims judged on them.

import type { ClaimData, Verdict } from './claims.js';
import { interval, pairedDifference, type Interval } from './stats.js';
import type { Group, Suite } from './suites.js';

/** What one finished cell left in its run folder (the parts read here). */
export interface CellFiles {
  summary: {
    final: { top1: number; perClass: (number | null)[]; classAverage: number; many: number | null; medium: number | null; few: number | null; auc?: number; loss: number };
    trainCounts: number[];
    classNames: string[];
    wallSeconds?: number;
    adapter?: string;
    peer?: string;
  };
  metrics?: {
    balancedAccuracy?: number;
    rocAuc?: number;
    twoClasses?: { classes: { label: number; sad: number; saa: number; cad: number; cac: number; uniformity: number }[] };
  };
  /** Learned vs optimal geometry, when the geometry suite has analysed the run. */
  geometry?: { space: string; distance: number; learnedGroups: number[][]; optimalGroups: number[][] };
}

/** A metric a table can show: how to read it from a cell, its label and unit. */
export interface MetricSpec {
  label: string;
  /** '%' values are in percent; '' plain numbers. */
  unit: '%' | '';
  get(c: CellFiles): number | undefined;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? undefined : 100 * x);
const twoClass = (c: CellFiles, label: number, key: 'sad' | 'saa' | 'cad' | 'cac' | 'uniformity') =>
  c.metrics?.twoClasses?.classes.find((r) => r.label === label)?.[key];
const both = (c: CellFiles, key: 'saa' | 'cac') => {
  const a = twoClass(c, 0, key);
  const b = twoClass(c, 1, key);
  return a === undefined || b === undefined ? undefined : (a + b) / 2;
};

/** Every metric a claim or a table may name. Two-classes: _maj = label 0, _min = label 1 (the minority). */
export const METRICS: Record<string, MetricSpec> = {
  top1: { label: 'top-1', unit: '%', get: (c) => pct(c.summary.final.top1) },
  balacc: { label: 'balanced acc.', unit: '%', get: (c) => pct(c.metrics?.balancedAccuracy ?? c.summary.final.classAverage) },
  auc: { label: 'ROC AUC', unit: '', get: (c) => c.metrics?.rocAuc ?? c.summary.final.auc },
  many: { label: 'many', unit: '%', get: (c) => pct(c.summary.final.many) },
  medium: { label: 'medium', unit: '%', get: (c) => pct(c.summary.final.medium) },
  few: { label: 'few', unit: '%', get: (c) => pct(c.summary.final.few) },
  saa: { label: 'SAA (mean of classes)', unit: '%', get: (c) => both(c, 'saa') },
  cac: { label: 'CAC (mean of classes)', unit: '%', get: (c) => both(c, 'cac') },
  saa_maj: { label: 'SAA maj.', unit: '%', get: (c) => twoClass(c, 0, 'saa') },
  saa_min: { label: 'SAA min.', unit: '%', get: (c) => twoClass(c, 1, 'saa') },
  cac_maj: { label: 'CAC maj.', unit: '%', get: (c) => twoClass(c, 0, 'cac') },
  cac_min: { label: 'CAC min.', unit: '%', get: (c) => twoClass(c, 1, 'cac') },
  sad_maj: { label: 'SAD maj.', unit: '', get: (c) => twoClass(c, 0, 'sad') },
  sad_min: { label: 'SAD min.', unit: '', get: (c) => twoClass(c, 1, 'sad') },
  cad_maj: { label: 'CAD maj.', unit: '', get: (c) => twoClass(c, 0, 'cad') },
  cad_min: { label: 'CAD min.', unit: '', get: (c) => twoClass(c, 1, 'cad') },
  unif_maj: { label: 'uniformity maj.', unit: '', get: (c) => twoClass(c, 0, 'uniformity') },
  unif_min: { label: 'uniformity min.', unit: '', get: (c) => twoClass(c, 1, 'uniformity') },
  geo_distance: { label: '‖G_learned − G_optimal‖', unit: '', get: (c) => c.geometry?.distance },
};

/** The finished cells of one group, by seed. */
export type GroupCells = Map<number, CellFiles>;

/** One group's aggregate: each metric's interval over seeds, and per-class accuracy head → tail. */
export interface GroupResult {
  group: Group;
  seeds: number[];
  metrics: Record<string, Interval>;
  /** Per-class accuracy in percent, index = label (mean and sd over seeds). */
  perClass: { mean: number; sd: number }[];
  trainCounts: number[];
  classNames: string[];
  wallSeconds: number;
}

/** Aggregates the finished cells of every group that has any (others are left out). */
export function aggregate(groups: readonly Group[], cells: ReadonlyMap<string, GroupCells>): GroupResult[] {
  const out: GroupResult[] = [];
  for (const group of groups) {
    const runs = cells.get(group.id);
    if (!runs?.size) continue;
    const seeds = [...runs.keys()].sort((a, b) => a - b);
    const metrics: Record<string, Interval> = {};
    for (const [id, spec] of Object.entries(METRICS)) {
      const values = seeds.map((s) => spec.get(runs.get(s)!));
      if (values.every((v) => v !== undefined && Number.isFinite(v))) metrics[id] = interval(values as number[]);
    }
    const first = runs.get(seeds[0])!.summary;
    const perClass = first.final.perClass.map((_, k) => {
      const v = seeds.map((s) => runs.get(s)!.summary.final.perClass[k]).filter((x): x is number => x !== null).map((x) => 100 * x);
      if (v.length === 0) return { mean: NaN, sd: NaN };
      const iv = interval(v);
      return { mean: iv.mean, sd: iv.sd };
    });
    out.push({
      group, seeds, metrics, perClass, trainCounts: first.trainCounts, classNames: first.classNames,
      wallSeconds: seeds.reduce((a, s) => a + (runs.get(s)!.summary.wallSeconds ?? 0), 0),
    });
  }
  return out;
}

/** The claims' view of a grid: per-seed values read through {@link METRICS}. */
export function claimData(cells: ReadonlyMap<string, GroupCells>): ClaimData {
  const values = (metric: string, group: string): Map<number, number> => {
    const spec = METRICS[metric];
    if (!spec) throw new Error(`claims: unknown metric '${metric}' (known: ${Object.keys(METRICS).join(', ')})`);
    const m = new Map<number, number>();
    for (const [seed, c] of cells.get(group) ?? []) {
      const v = spec.get(c);
      if (v !== undefined && Number.isFinite(v)) m.set(seed, v);
    }
    return m;
  };
  return {
    values,
    summary: (metric, group) => {
      const v = values(metric, group);
      return v.size ? interval([...v.values()]) : null;
    },
    difference: (a, b) => {
      const va = values(a.metric, a.group);
      const vb = values(b.metric, b.group);
      return [...va.keys()].some((s) => vb.has(s)) ? pairedDifference(va, vb) : null;
    },
  };
}

/** Everything `results.json` holds for one suite. */
export interface SuiteResults {
  suite: Omit<Suite, 'groups'> & { groups: Group[] };
  machine: string;
  adapter: string;
  seeds: number[];
  /** Wall time of the cells run, summed (seconds). */
  wallSeconds: number;
  groups: GroupResult[];
  /** The same groups run by the PyTorch peer, when asked for. */
  peer?: { name: string; groups: GroupResult[] };
  verdicts: Verdict[];
}
