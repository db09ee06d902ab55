// Imbalance protocols on the real Fashion-MNIST labels (long-tailed, binary and probe subsets), the
// samplers, and the prefetching epoch iterator (with a fake upload, then with GPU tensors).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import {
  batches, binaryCounts, binarySubset, classCounts, longTailCounts, longTailSubset, prefetch, probePerClass, probeSubset,
  sampleBatches, samplerBatchCount, type SamplerOptions,
} from '../src/index.js';
import { FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from '../src/node.js';
import { loadSafetensors } from '../src/io/node/safetensors.js';
import { defaultConfig, type TrainConfig } from '../src/train/config.js';
import { train as trainRun } from '../src/train/node/trainer.js';

let train: Uint8Array; // the 60 000 Fashion-MNIST training labels, 6000 per class
let splits: Awaited<ReturnType<typeof loadFashionMnist>>;
beforeAll(async () => {
  splits = await loadFashionMnist(FASHION_MNIST_DEFAULT_DIR);
  train = splits.train.labels;
});

const sum = (a: readonly number[]) => a.reduce((x, y) => x + y, 0);
const ascendingUnique = (a: Int32Array) => a.every((v, i) => i === 0 || v > a[i - 1]);

describe('long-tailed Fashion-MNIST', () => {
  it('IF 100 / 50 / 10, exp profile: 6000 · IF^(−c/9) floored, exactly', () => {
    const expected: Record<number, number[]> = {
      100: [6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60],
      50: [6000, 3884, 2515, 1628, 1054, 682, 442, 286, 185, 120],
      10: [6000, 4645, 3596, 2784, 2156, 1669, 1292, 1000, 774, 600],
    };
    for (const f of [100, 50, 10]) {
      expect(expected[f]).toEqual(Array.from({ length: 10 }, (_, c) => Math.floor(6000 * f ** (-c / 9))));
      const lt = longTailSubset(train, { numClasses: 10, imbalanceFactor: f, seed: 3 });
      expect(lt.counts).toEqual(expected[f]);
      expect(classCounts(Array.from(lt.indices, (i) => train[i]), 10)).toEqual(expected[f]);
      expect(lt.indices.length).toBe({ 100: 14886, 50: 16796, 10: 24516 }[f]);
      expect(ascendingUnique(lt.indices)).toBe(true);
    }
  });

  it('step profile: 6000 for classes 0-4, 6000 / IF for 5-9', () => {
    for (const [f, tail] of [[100, 60], [50, 120], [10, 600]]) {
      const lt = longTailSubset(train, { numClasses: 10, imbalanceFactor: f, seed: 3, profile: 'step' });
      expect(classCounts(Array.from(lt.indices, (i) => train[i]), 10)).toEqual([6000, 6000, 6000, 6000, 6000, tail, tail, tail, tail, tail]);
    }
    expect(longTailCounts(6000, 10, 100, 'step')).toEqual([6000, 6000, 6000, 6000, 6000, 60, 60, 60, 60, 60]);
  });
});

describe('binary imbalanced subsets', () => {
  const labelsOf = (idx: Int32Array) => Array.from(idx, (i) => train[i]);

  it('50 % / 5 % / 1 % of two classes keep the total of the 50/50 subset, with exact counts', () => {
    const totals: number[] = [];
    for (const [share, counts] of [[0.5, [3000, 3000]], [0.05, [5700, 300]], [0.01, [5940, 60]]] as const) {
      const s = binarySubset(train, { numClasses: 10, groups: [[0], [6]], minorityShare: share, seed: 11 });
      expect(s.counts).toEqual(counts);
      totals.push(s.indices.length);
      expect(ascendingUnique(s.indices)).toBe(true);
      expect(labelsOf(s.indices).every((y) => y === 0 || y === 6)).toBe(true);
      // The binary labels follow the groups, and the per-class report matches them.
      expect(Array.from(s.labels)).toEqual(labelsOf(s.indices).map((y) => (y === 6 ? 1 : 0)));
      expect(s.classCounts).toEqual(classCounts(labelsOf(s.indices), 10));
      expect([s.classCounts[0], s.classCounts[6]]).toEqual(counts);
    }
    expect(totals).toEqual([6000, 6000, 6000]);
    // The minority can be label 0, and the total can be set.
    expect(binarySubset(train, { numClasses: 10, groups: [[0], [6]], minorityShare: 0.05, minority: 0, seed: 11 }).counts).toEqual([300, 5700]);
    expect(binarySubset(train, { numClasses: 10, groups: [[0], [6]], minorityShare: 0.01, total: 1000, seed: 11 }).counts).toEqual([990, 10]);
  });

  it('rounds the minority down from total · share, the majority takes the rest', () => {
    expect(binaryCounts(6000, 0.05)).toEqual([5700, 300]);
    expect(binaryCounts(101, 0.5)).toEqual([51, 50]);
    expect(binaryCounts(150, 0.01)).toEqual([149, 1]);
    expect(binaryCounts(100, 0.29)).toEqual([71, 29]); // 100 · 0.29 = 28.999999999999996 in doubles
    expect(binaryCounts(1999, 0.05, 0)).toEqual([99, 1900]);
  });

  it('groups of classes are relabelled 0 / 1; pooled draws from the union, even splits a group equally', () => {
    const groups = [[0, 2, 4], [1, 3]] as const;
    const pooled = binarySubset(train, { numClasses: 10, groups: [[...groups[0]], [...groups[1]]], minorityShare: 0.05, seed: 5 });
    // The smaller group has 12 000 samples: total 12 000, 11 400 / 600.
    expect(pooled.counts).toEqual([11400, 600]);
    expect(sum(pooled.classCounts)).toBe(12000);
    expect([0, 2, 4].map((c) => pooled.classCounts[c]).reduce((a, b) => a + b)).toBe(11400);
    expect([1, 3].map((c) => pooled.classCounts[c]).reduce((a, b) => a + b)).toBe(600);
    expect([5, 6, 7, 8, 9].map((c) => pooled.classCounts[c])).toEqual([0, 0, 0, 0, 0]);
    // Classes of equal size are drawn about equally (3800 expected each of the majority).
    for (const c of [0, 2, 4]) expect(Math.abs(pooled.classCounts[c] - 3800)).toBeLessThan(200);
    const labelOf = (y: number) => (y === 1 || y === 3 ? 1 : 0);
    expect(Array.from(pooled.labels)).toEqual(labelsOf(pooled.indices).map(labelOf));

    const even = binarySubset(train, { numClasses: 10, groups: [[0, 2, 4], [1, 3]], minorityShare: 0.05, seed: 5, within: 'even', total: 1001 });
    expect(even.counts).toEqual([951, 50]);
    expect(even.classCounts).toEqual([317, 25, 317, 25, 317, 0, 0, 0, 0, 0]);
    const uneven = binarySubset(train, { numClasses: 10, groups: [[4, 0], [9]], minorityShare: 0.01, seed: 5, within: 'even', total: 1000 });
    expect([uneven.classCounts[4], uneven.classCounts[0], uneven.classCounts[9]]).toEqual([495, 495, 10]);
    const odd = binarySubset(train, { numClasses: 10, groups: [[4, 0, 7], [9]], minorityShare: 0.5, seed: 5, within: 'even', total: 1000 });
    expect([odd.classCounts[4], odd.classCounts[0], odd.classCounts[7]]).toEqual([167, 167, 166]);
  });

  it('is reproducible from the seed; another seed differs; a smaller share keeps a subset of the minority', () => {
    const opts = { numClasses: 10, groups: [[0], [6]] as [number[], number[]], minorityShare: 0.05, seed: 21 };
    const a = binarySubset(train, opts);
    expect(binarySubset(train, opts).indices).toEqual(a.indices);
    const b = binarySubset(train, { ...opts, seed: 22 });
    expect(b.counts).toEqual(a.counts);
    expect(b.indices).not.toEqual(a.indices);
    const minorityA = new Set(Array.from(a.indices).filter((i) => train[i] === 6));
    const rarer = binarySubset(train, { ...opts, minorityShare: 0.01 });
    expect(Array.from(rarer.indices).filter((i) => train[i] === 6).every((i) => minorityA.has(i))).toBe(true);
    const evenA = binarySubset(train, { ...opts, within: 'even' });
    expect(binarySubset(train, { ...opts, within: 'even' }).indices).toEqual(evenA.indices);
  });

  it('refuses bad groups, shares and totals, naming the argument', () => {
    const base = { numClasses: 10, groups: [[0], [6]] as [number[], number[]], minorityShare: 0.05, seed: 1 };
    expect(() => binarySubset(train, { ...base, groups: [[0, 6], [6]] })).toThrow('binarySubset: class 6 appears twice in the groups');
    expect(() => binarySubset(train, { ...base, groups: [[], [6]] })).toThrow('binarySubset: group 0 has no classes');
    expect(() => binarySubset(train, { ...base, groups: [[0], [10]] })).toThrow('binarySubset: class 10 of group 1 is out of range 0..9');
    expect(() => binarySubset(train, { ...base, minorityShare: 0.6 })).toThrow('minorityShare must be in (0, 0.5], got 0.6');
    expect(() => binarySubset(train, { ...base, minorityShare: 0 })).toThrow('minorityShare must be in (0, 0.5]');
    expect(() => binarySubset(train, { ...base, minorityShare: 0.01, total: 50 })).toThrow('leaves the minority empty');
    expect(() => binarySubset(train, { ...base, total: 7000 })).toThrow('binarySubset: group 0 has 6000 samples, 6650 are needed');
    expect(() => binarySubset(train, { ...base, total: 2.5 })).toThrow('binarySubset: total must be an integer ≥ 2, got 2.5');
    expect(() => binarySubset(train, { ...base, within: 'even', groups: [[0, 1], [6]], total: 12000, minorityShare: 0.01, minority: 0 })).toThrow(
      'binarySubset: class 6 has 6000 samples, 11880 are needed',
    );
  });
});

describe('scaled-down protocols (--n-max, --binary-total)', () => {
  const names = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const select = (over: Partial<TrainConfig>) => T.selectData(defaultConfig(over), splits.train, splits.test, 'Fashion-MNIST', names);

  it('--n-max scales the long tail down at the same imbalance factor (not a cap that flattens the head)', () => {
    const sel = select({ imbalance: 100, nMax: 600 });
    expect(sel.trainCounts).toEqual(Array.from({ length: 10 }, (_, c) => Math.floor(600 * 100 ** (-c / 9))));
    expect(sel.trainCounts[0] / sel.trainCounts[9]).toBe(100);
    expect(sel.what).toBe('Fashion-MNIST-LT IF 100 (exp, n_max 600)');
    // The cap of --limit-per-class would have kept 600 of each of the first classes instead.
    expect(select({ imbalance: 100, limitPerClass: 600 }).trainCounts.slice(0, 3)).toEqual([600, 600, 600]);
  });

  it('--binary-total keeps every minority share exact at the smaller total', () => {
    for (const [share, counts] of [[0.5, [1000, 1000]], [0.05, [1900, 100]], [0.01, [1980, 20]]] as const) {
      const sel = select({ binary: [2, 4], minorityShare: share, binaryTotal: 2000 });
      expect(sel.trainCounts).toEqual(counts);
    }
    expect(select({ binary: [2, 4], minorityShare: 0.01 }).trainCounts).toEqual([5940, 60]);
  });

  it('a size the data cannot hold is a usage error naming the flag', () => {
    expect(() => select({ imbalance: 100, nMax: 7000 })).toThrow(T.UsageError);
    expect(() => select({ imbalance: 100, nMax: 7000 })).toThrow(/^--n-max 7000: /);
    expect(() => select({ binary: [2, 4], minorityShare: 0.01, binaryTotal: 9000 })).toThrow(/^--binary-total 9000: /);
  });
});

describe('balanced probe subset', () => {
  it('1 % of the training data split evenly over the classes', () => {
    const s = probeSubset(train, { numClasses: 10, seed: 4 });
    expect(s.counts).toEqual(new Array(10).fill(60));
    expect(classCounts(Array.from(s.indices, (i) => train[i]), 10)).toEqual(s.counts);
    expect(ascendingUnique(s.indices)).toBe(true);
    expect(probeSubset(train, { numClasses: 10, seed: 4 }).indices).toEqual(s.indices);
    expect(probeSubset(train, { numClasses: 10, seed: 5 }).indices).not.toEqual(s.indices);
  });

  it('on a long-tailed or binary training set: balanced, indices into that set', () => {
    const lt = longTailSubset(train, { numClasses: 10, imbalanceFactor: 100, seed: 0 });
    const ltLabels = Array.from(lt.indices, (i) => train[i]);
    const probe = probeSubset(ltLabels, { numClasses: 10, seed: 0 }); // ⌊148.86⌋ = 148 → 14 per class
    expect(probe.counts).toEqual(new Array(10).fill(14));
    expect(classCounts(Array.from(probe.indices, (p) => train[lt.indices[p]]), 10)).toEqual(probe.counts);

    const bin = binarySubset(train, { numClasses: 10, groups: [[0], [6]], minorityShare: 0.01, seed: 0 });
    const binProbe = probeSubset(bin.labels, { numClasses: 2, seed: 0 });
    expect(binProbe.counts).toEqual([30, 30]);
    expect(classCounts(Array.from(binProbe.indices, (p) => bin.labels[p]), 2)).toEqual([30, 30]);
    expect(probePerClass(10, 10, 0.01)).toBe(1); // never empty
    expect(probePerClass(60000, 10, 0.05)).toBe(300);
    expect(() => probeSubset(bin.labels, { numClasses: 2, seed: 0, fraction: 0.5 })).toThrow('probeSubset: class 1 has 60 samples, 1500 are needed');
    expect(() => probePerClass(100, 10, 0)).toThrow('probePerClass: fraction must be in (0, 1], got 0');
  });
});

describe('samplers', () => {
  const lt = () => {
    const s = longTailSubset(train, { numClasses: 10, imbalanceFactor: 100, seed: 0 });
    return Int32Array.from(s.indices, (i) => train[i]);
  };
  const run = (labels: ArrayLike<number>, opts: SamplerOptions) => [...sampleBatches(labels, opts)];
  /** Pearson's χ² of the class frequencies of `batches` against the uniform distribution. */
  const chiSquareUniform = (labels: ArrayLike<number>, bs: Int32Array[], classes: number) => {
    const counts = new Array<number>(classes).fill(0);
    for (const b of bs) for (const p of b) counts[labels[p]]++;
    const expected = sum(counts) / classes;
    return counts.reduce((chi, n) => chi + (n - expected) ** 2 / expected, 0);
  };

  it('shuffled is batches() over positions: every sample once per epoch', () => {
    const labels = lt();
    const opts = { numClasses: 10, batchSize: 128, seed: 1, epoch: 2 };
    const bs = run(labels, opts);
    expect(bs.map((b) => Array.from(b))).toEqual([...batches(labels.map((_, i) => i), opts)].map((b) => Array.from(b)));
    expect(bs.flatMap((b) => Array.from(b)).sort((x, y) => x - y)).toEqual(Array.from(labels, (_, i) => i));
  });

  it('class-balanced: class frequencies pass a χ² test of uniformity that the shuffled sampler fails', () => {
    const labels = lt(); // 14 886 samples, 6000 of class 0 and 60 of class 9
    const opts = { numClasses: 10, batchSize: 128, seed: 7, epoch: 0 };
    const balanced = run(labels, { ...opts, sampler: 'class-balanced' });
    expect(balanced.length).toBe(samplerBatchCount(labels.length, opts));
    expect(sum(balanced.map((b) => b.length))).toBe(labels.length); // an epoch draws n samples
    // χ² with 9 degrees of freedom exceeds 45 with probability < 1e-6 under uniform sampling.
    const chiBalanced = chiSquareUniform(labels, balanced, 10);
    expect(chiBalanced).toBeLessThan(45);
    expect(chiSquareUniform(labels, run(labels, opts), 10)).toBeGreaterThan(10000);
    // Within a class, the cycle uses every sample ⌊k / n_c⌋ or ⌈k / n_c⌉ times.
    const uses = new Map<number, number>();
    for (const b of balanced) for (const p of b) uses.set(p, (uses.get(p) ?? 0) + 1);
    const tail = Array.from(labels.keys()).filter((p) => labels[p] === 9).map((p) => uses.get(p) ?? 0);
    expect(Math.max(...tail) - Math.min(...tail)).toBeLessThanOrEqual(1);
    expect(sum(tail)).toBeGreaterThan(1300); // ≈ 1489 draws of a class of 60
  });

  it('every-class: every batch holds perClass distinct samples of every class, full size', () => {
    const labels = lt();
    for (const perClass of [1, 3]) {
      const bs = run(labels, { numClasses: 10, batchSize: 32, seed: 9, epoch: 1, sampler: 'every-class', perClass });
      expect(bs.length).toBe(Math.ceil(labels.length / 32));
      for (const b of bs) {
        expect(b.length).toBe(32);
        expect(new Set(b).size).toBe(32);
        const counts = classCounts(Array.from(b, (p) => labels[p]), 10);
        expect(Math.min(...counts)).toBeGreaterThanOrEqual(perClass);
      }
    }
    // A tiny set: batchSize = n, the order wraps, batches still distinct and complete.
    const tiny = [0, 1, 2, 0, 1, 2, 0];
    for (const b of run(tiny, { numClasses: 3, batchSize: 7, seed: 1, sampler: 'every-class', perClass: 2 })) {
      expect(Array.from(b).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
  });

  it('is deterministic per (seed, epoch) for every sampler', () => {
    const labels = lt();
    for (const sampler of ['shuffled', 'class-balanced', 'every-class'] as const) {
      const at = (seed: number, epoch: number) => run(labels, { sampler, numClasses: 10, batchSize: 64, seed, epoch, dropLast: true }).map((b) => Array.from(b));
      const a = at(3, 4);
      expect(a.length).toBe(Math.floor(labels.length / 64));
      expect(at(3, 4)).toEqual(a);
      expect(at(3, 5)).not.toEqual(a);
      expect(at(4, 4)).not.toEqual(a);
    }
  });

  it('refuses bad options at the call, naming the argument', () => {
    const labels = lt();
    const ok = { numClasses: 10, batchSize: 32, seed: 1 };
    expect(() => sampleBatches(labels, { ...ok, sampler: 'every-class', batchSize: 8 })).toThrow(
      'sampleBatches: batchSize 8 is smaller than perClass 1 × 10 classes, so not every class can be in every batch',
    );
    expect(() => sampleBatches(labels, { ...ok, sampler: 'every-class', perClass: 4 })).toThrow('batchSize 32 is smaller than perClass 4 × 10 classes');
    expect(() => sampleBatches(labels, { ...ok, sampler: 'every-class', perClass: 0 })).toThrow('sampleBatches: perClass must be a positive integer, got 0');
    expect(() => sampleBatches([0, 1], { ...ok, numClasses: 2, sampler: 'every-class', batchSize: 3 })).toThrow('batchSize 3 exceeds the 2 samples');
    expect(() => sampleBatches([0, 1, 1, 1], { ...ok, numClasses: 2, sampler: 'every-class', batchSize: 4, perClass: 2 })).toThrow(
      'sampleBatches: class 0 has 1 samples, fewer than perClass 2',
    );
    expect(() => sampleBatches([0, 0, 2], { ...ok, numClasses: 3, sampler: 'class-balanced' })).toThrow('sampleBatches: class 1 has no samples');
    expect(() => sampleBatches(labels, { ...ok, sampler: 'weighted' as never })).toThrow("sampleBatches: unknown sampler 'weighted'");
    expect(() => sampleBatches(labels, { ...ok, batchSize: 0 })).toThrow('sampleBatches: batchSize must be a positive integer, got 0');
    expect(() => sampleBatches(labels, { ...ok, epoch: -1 })).toThrow('sampleBatches: epoch must be a non-negative integer');
    expect(() => sampleBatches(labels, { ...ok, seed: 2 ** 32 })).toThrow('sampleBatches: seed must be an integer in [0, 2^32)');
    expect(() => sampleBatches([0, 12], ok)).toThrow('sampleBatches: label 12 at index 1 is out of range 0..9');
  });
});

describe('prefetch', () => {
  const source = () => [...batches(Int32Array.from({ length: 50 }, (_, i) => i), { batchSize: 8, seed: 2, epoch: 1 })];

  /** A fake upload: records its calls and the frees of what it made. */
  function fakeUpload(log: string[]) {
    return (b: Int32Array, i: number) => ({ data: Array.from(b), index: i, dispose: () => log.push(`free ${i}`) });
  }

  it('yields the synchronous batches in order, preparing the next one before the step on the current', async () => {
    const log: string[] = [];
    const upload = fakeUpload(log);
    const seen: number[][] = [];
    for await (const item of prefetch(source(), (b, i) => (log.push(`upload ${i}`), upload(b, i)), { dispose: (x) => x.dispose() })) {
      log.push(`step ${item.index}`);
      seen.push(item.data);
      await new Promise((r) => setTimeout(r, 1)); // the step's own awaits
    }
    expect(seen).toEqual(source().map((b) => Array.from(b)));
    const n = seen.length;
    const expected = ['upload 0'];
    for (let i = 0; i < n; i++) {
      if (i + 1 < n) expected.push(`upload ${i + 1}`);
      expected.push(`step ${i}`);
      expected.push(`free ${i}`);
    }
    expect(log).toEqual(expected);
  });

  it('breaking out early frees the current and the prefetched item, and closes the source', async () => {
    const log: string[] = [];
    let closed = false;
    function* gen() {
      try {
        yield* source();
      } finally {
        closed = true;
      }
    }
    const upload = fakeUpload(log);
    for await (const item of prefetch(gen(), async (b, i) => upload(b, i), { dispose: (x) => x.dispose() })) {
      if (item.index === 2) break;
    }
    expect(closed).toBe(true);
    expect(log.sort()).toEqual(['free 0', 'free 1', 'free 2', 'free 3']);
  });

  it('throws a failed preparation where its item would come, after freeing what it holds', async () => {
    const log: string[] = [];
    const upload = fakeUpload(log);
    const it = prefetch(source(), (b, i) => {
      if (i === 2) throw new Error('upload failed');
      return upload(b, i);
    }, { dispose: (x) => x.dispose() });
    expect((await it.next()).value?.index).toBe(0);
    expect((await it.next()).value?.index).toBe(1);
    await expect(it.next()).rejects.toThrow('upload failed');
    expect(log).toEqual(['free 0', 'free 1']);
    expect((await it.next()).done).toBe(true);
  });

  describe('with GPU tensors', () => {
    beforeAll(async () => {
      await T.init({ log: false });
    });

    it('uploads index tensors ahead, and leaks none on a full run or an early break', async () => {
      const e = T.engine();
      const before = e.memory().liveTensors;
      const upload = (b: Int32Array) => T.tensor(b, [b.length], 'i32');
      const read: number[][] = [];
      const live: number[] = [];
      for await (const t of prefetch(source(), upload)) {
        live.push(e.memory().liveTensors - before);
        read.push(Array.from((await t.read()) as Int32Array));
      }
      expect(read).toEqual(source().map((b) => Array.from(b)));
      // The current batch and the next one, then the last alone.
      expect(live).toEqual([...new Array<number>(read.length - 1).fill(2), 1]);
      expect(e.memory().liveTensors).toBe(before);

      let steps = 0;
      for await (const t of prefetch(source(), upload)) {
        T.scope(() => void T.sum(T.toFloat(t))); // a step that uses the batch
        if (++steps === 3) break;
      }
      expect(e.memory().liveTensors).toBe(before);

      // Plans and labels together, as a training step needs them; created inside a scope, still owned.
      let count = 0;
      const both = (b: Int32Array) => T.scope(() => ({ plan: T.tensor(T.gatherPlan(b), [b.length, 4], 'i32'), labels: upload(b) }));
      for await (const item of prefetch(source(), both)) {
        expect(item.plan.shape).toEqual([item.labels.shape[0], 4]);
        if (++count === 2) break;
      }
      expect(e.memory().liveTensors).toBe(before);
    });
  });
});

describe('trainer --sampler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgc-protocols-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tiny = (out: string, over: Partial<TrainConfig> = {}): TrainConfig => defaultConfig({
    widths: [4, 4, 4], epochs: 2, warmupEpochs: 0, batchSize: 32, limitPerClass: 20, testPerClass: 10,
    logEvery: 100, imbalance: 10, sampler: 'every-class', out: join(dir, out), ...over,
  });
  const quiet = { log: () => {} };

  it('an every-class run resumed after epoch 1 reproduces the uninterrupted run exactly', async () => {
    const whole = await trainRun(tiny('whole'), quiet);
    expect(whole.steps).toBe(2 * Math.floor(sum(whole.trainCounts) / 32));
    await trainRun(tiny('split', { epochs: 1 }), quiet);
    const resumed = await trainRun(tiny('split'), { ...quiet, resume: true });
    expect(resumed.final).toEqual(whole.final);
    const [a, b] = await Promise.all(['whole', 'split'].map((d) => loadSafetensors(join(dir, d, 'checkpoint.safetensors'))));
    for (const [name, t] of a.tensors) expect(Array.from(b.tensors.get(name)!.data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
    // Another sampler gives other weights from the same seed.
    await trainRun(tiny('balanced', { sampler: 'class-balanced' }), quiet);
    const c = await loadSafetensors(join(dir, 'balanced', 'checkpoint.safetensors'));
    const weight = (f: typeof c) => Array.from(f.tensors.get('fc.weight')!.data as Float32Array);
    expect(weight(c)).not.toEqual(weight(a));
  }, 300_000);
});
