// Data pipeline on the CPU: IDX parsing and loading (small files written here, and the real Fashion-MNIST),
// long-tailed and balanced subsets, shot splits, and seeded mini-batches. No GPU.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  balancedSubset, batchCount, batches, classCounts, epochOrder, FASHION_MNIST_FILES, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC,
  imageSplit, longTailCounts, longTailSubset, parseIdx, shotSplit,
} from '../src/index.js';
import { FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from '../src/node.js';
import { useTempDirs } from './helpers.js';

/** An IDX file of unsigned bytes: magic, big-endian dimensions, data. */
function idx(magic: number, dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** count images of h × w whose pixels encode (image, position), and labels i % classes. */
function tinySplit(count: number, h: number, w: number, classes = 10) {
  const pixels = Uint8Array.from({ length: count * h * w }, (_, i) => (i * 7) & 0xff);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % classes);
  return { images: idx(IDX_IMAGES_MAGIC, [count, h, w], pixels), labels: idx(IDX_LABELS_MAGIC, [count], labels), pixels, labelData: labels };
}

const tempDir = useTempDirs('wgc-data-');

/** A Fashion-MNIST-shaped directory: train gzipped, test raw, unless `files` overrides a file's bytes. */
function writeDataset(files: Partial<Record<string, Uint8Array>> = {}): string {
  const dir = tempDir();
  const train = tinySplit(12, 4, 3);
  const test = tinySplit(5, 4, 3);
  const all: Record<string, Uint8Array> = {
    [`${FASHION_MNIST_FILES.train.images}.gz`]: gzipSync(train.images),
    [`${FASHION_MNIST_FILES.train.labels}.gz`]: gzipSync(train.labels),
    [FASHION_MNIST_FILES.test.images]: test.images,
    [FASHION_MNIST_FILES.test.labels]: test.labels,
    ...files,
  } as Record<string, Uint8Array>;
  for (const [name, bytes] of Object.entries(all)) writeFileSync(join(dir, name), bytes);
  return dir;
}

describe('IDX parsing', () => {
  it('parses images and labels and checks them against each other', () => {
    const s = tinySplit(6, 2, 5);
    const split = imageSplit(s.images, s.labels, 10);
    expect(split).toMatchObject({ count: 6, channels: 1, height: 2, width: 5 });
    expect(Array.from(split.images)).toEqual(Array.from(s.pixels));
    expect(Array.from(split.labels)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(parseIdx(s.images).dims).toEqual([6, 2, 5]);
  });

  it('refuses a wrong magic, another element type, truncation, trailing bytes, a count mismatch and a label out of range', () => {
    const s = tinySplit(6, 2, 5);
    const src = { images: 'img.idx', labels: 'lab.idx' };
    expect(() => imageSplit(s.labels, s.labels, 10, src)).toThrow('img.idx: wrong magic number 0x00000801, expected 0x00000803');
    expect(() => parseIdx(Uint8Array.of(1, 2, 8, 1, 0, 0, 0, 0), 'x')).toThrow('x: wrong magic number 0x01020801: not an IDX file');
    expect(() => parseIdx(idx(0x00000d01, [1], [0, 0, 0, 0]), 'f')).toThrow('f: IDX element type 0x0d is not supported');
    expect(() => imageSplit(s.images.subarray(0, s.images.length - 1), s.labels, 10, src)).toThrow(
      'img.idx: size mismatch: dimensions [6, 2, 5] need 76 bytes, the file has 75 (truncated)',
    );
    expect(() => parseIdx(s.images.subarray(0, 10), 'h')).toThrow('h: 10 bytes, too short for the header of 3 dimensions');
    expect(() => imageSplit(Uint8Array.from([...s.images, 0]), s.labels, 10, src)).toThrow('(trailing bytes after the data)');
    expect(() => imageSplit(s.images, tinySplit(5, 2, 5).labels, 10, src)).toThrow('lab.idx: count mismatch: 5 labels for 6 images in img.idx');
    expect(() => imageSplit(s.images, s.labels, 5, src)).toThrow('lab.idx: label 5 of item 5 is out of range (expected 0..4)');
  });
});

describe('Fashion-MNIST loader', () => {
  it('reads gzipped and raw IDX files from a directory given as an argument or by FASHION_MNIST_DIR', async () => {
    const dir = writeDataset();
    const data = await loadFashionMnist(dir);
    expect(data.train).toMatchObject({ count: 12, height: 4, width: 3 });
    expect(data.test).toMatchObject({ count: 5, height: 4, width: 3 });
    expect(Array.from(data.train.images)).toEqual(Array.from(tinySplit(12, 4, 3).pixels));
    expect(Array.from(data.test.labels)).toEqual([0, 1, 2, 3, 4]);

    const saved = process.env.FASHION_MNIST_DIR;
    process.env.FASHION_MNIST_DIR = dir;
    try {
      expect((await loadFashionMnist()).train.count).toBe(12);
    } finally {
      if (saved === undefined) delete process.env.FASHION_MNIST_DIR;
      else process.env.FASHION_MNIST_DIR = saved;
    }
  });

  it('says what to install, or which file is missing', async () => {
    const nowhere = join(tempDir(), 'nope');
    await expect(loadFashionMnist(nowhere)).rejects.toThrow(`directory ${nowhere} does not exist (looking for train-images-idx3-ubyte.gz or train-images-idx3-ubyte)`);
    await expect(loadFashionMnist(nowhere)).rejects.toThrow('apt-get install dataset-fashion-mnist');
    const dir = tempDir();
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), tinySplit(2, 1, 1).images);
    await expect(loadFashionMnist(dir)).rejects.toThrow(`${dir} has neither train-labels-idx1-ubyte.gz nor train-labels-idx1-ubyte`);
  });

  it('names the file for a bad magic, a truncated file or gzip stream, and a count mismatch', async () => {
    const tl = FASHION_MNIST_FILES.test.labels;
    const swapped = writeDataset({ [FASHION_MNIST_FILES.test.images]: tinySplit(5, 4, 3).labels });
    await expect(loadFashionMnist(swapped)).rejects.toThrow(`${join(swapped, FASHION_MNIST_FILES.test.images)}: wrong magic number`);

    const good = tinySplit(12, 4, 3);
    const cut = writeDataset({ [`${FASHION_MNIST_FILES.train.images}.gz`]: gzipSync(good.images.subarray(0, 100)) });
    await expect(loadFashionMnist(cut)).rejects.toThrow(/train-images-idx3-ubyte\.gz: size mismatch: .* \(truncated\)/);

    const gz = gzipSync(good.images);
    const badGz = writeDataset({ [`${FASHION_MNIST_FILES.train.images}.gz`]: gz.subarray(0, gz.length - 20) });
    await expect(loadFashionMnist(badGz)).rejects.toThrow(/train-images-idx3-ubyte\.gz: cannot gunzip .*corrupt or truncated/);

    const mismatch = writeDataset({ [tl]: tinySplit(4, 4, 3).labels });
    await expect(loadFashionMnist(mismatch)).rejects.toThrow(`${join(mismatch, tl)}: count mismatch: 4 labels for 5 images`);

    const outOfRange = writeDataset({ [tl]: idx(IDX_LABELS_MAGIC, [5], [0, 1, 12, 3, 4]) });
    await expect(loadFashionMnist(outOfRange)).rejects.toThrow(`${join(outOfRange, tl)}: label 12 of item 2 is out of range (expected 0..9)`);
  });

  it(`reads the real Fashion-MNIST from ${FASHION_MNIST_DEFAULT_DIR}`, async () => {
    const { train, test } = await loadFashionMnist(FASHION_MNIST_DEFAULT_DIR);
    expect(train).toMatchObject({ count: 60000, height: 28, width: 28 });
    expect(test).toMatchObject({ count: 10000, height: 28, width: 28 });
    expect(train.images.length).toBe(60000 * 28 * 28);
    expect(classCounts(train.labels, 10)).toEqual(new Array(10).fill(6000));
    expect(classCounts(test.labels, 10)).toEqual(new Array(10).fill(1000));
    // The first training image is an ankle boot (label 9) in every copy of the dataset.
    expect(train.labels[0]).toBe(9);

    const lt = longTailSubset(train.labels, { numClasses: 10, imbalanceFactor: 100, seed: 0 });
    expect(lt.counts[0]).toBe(6000);
    expect(lt.counts[9]).toBe(60);
    expect(classCounts(Array.from(lt.indices, (i) => train.labels[i]), 10)).toEqual(lt.counts);
  });
});

describe('long-tailed subsets', () => {
  it('counts follow n_max · IF^(−c/(C−1)) exactly, as the CIFAR-LT reference code', () => {
    const counts = longTailCounts(6000, 10, 100);
    expect(counts).toEqual([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60]);
    expect(counts).toEqual(Array.from({ length: 10 }, (_, c) => Math.floor(6000 * 100 ** (-c / 9))));
    // The published sizes of CIFAR-10-LT and CIFAR-100-LT (Cao et al. 2019).
    const total = (n: number, c: number, f: number) => longTailCounts(n, c, f).reduce((a, b) => a + b, 0);
    expect([100, 50, 10].map((f) => total(5000, 10, f))).toEqual([12406, 13996, 20431]);
    expect([100, 50, 10].map((f) => total(500, 100, f))).toEqual([10847, 12608, 19573]);
    expect(longTailCounts(7, 3, 1)).toEqual([7, 7, 7]);
  });

  it('the step profile keeps n_max for the first half and n_max / IF for the rest', () => {
    expect(longTailCounts(6000, 10, 100, 'step')).toEqual([6000, 6000, 6000, 6000, 6000, 60, 60, 60, 60, 60]);
    expect(longTailCounts(500, 5, 10, 'step')).toEqual([500, 500, 50, 50, 50]);
  });

  const labels = Uint8Array.from({ length: 60000 }, (_, i) => (i * 7) % 10); // 6000 per class, interleaved

  it('picks exactly the counted samples, reproducibly with a seed and differently with another', () => {
    const a = longTailSubset(labels, { numClasses: 10, imbalanceFactor: 100, seed: 42 });
    expect(a.counts).toEqual(longTailCounts(6000, 10, 100));
    expect(a.indices.length).toBe(a.counts.reduce((x, y) => x + y, 0));
    expect(classCounts(Array.from(a.indices, (i) => labels[i]), 10)).toEqual(a.counts);
    expect(a.indices.every((v, i) => i === 0 || v > a.indices[i - 1])).toBe(true); // ascending, no repeats

    expect(longTailSubset(labels, { numClasses: 10, imbalanceFactor: 100, seed: 42 }).indices).toEqual(a.indices);
    const b = longTailSubset(labels, { numClasses: 10, imbalanceFactor: 100, seed: 43 });
    expect(b.counts).toEqual(a.counts);
    expect(b.indices).not.toEqual(a.indices);
    const tailA = Array.from(a.indices).filter((i) => labels[i] === 9);
    const tailB = new Set(Array.from(b.indices).filter((i) => labels[i] === 9));
    expect(tailA.filter((i) => tailB.has(i)).length).toBeLessThan(10); // 60 of 6000 each: ~0.6 shared by chance

    // Each class draws from its own stream: a milder imbalance keeps the harsher one's picks.
    const mild = new Set(longTailSubset(labels, { numClasses: 10, imbalanceFactor: 10, seed: 42 }).indices);
    expect(Array.from(a.indices).every((i) => mild.has(i))).toBe(true);

    const step = longTailSubset(labels, { numClasses: 10, imbalanceFactor: 10, seed: 1, profile: 'step', nMax: 1000 });
    expect(step.counts).toEqual([1000, 1000, 1000, 1000, 1000, 100, 100, 100, 100, 100]);
  });

  it('balanced subsets hold n per class; bad options and small classes are refused', () => {
    const s = balancedSubset(labels, 100, { numClasses: 10, seed: 5 });
    expect(s.counts).toEqual(new Array(10).fill(100));
    expect(classCounts(Array.from(s.indices, (i) => labels[i]), 10)).toEqual(s.counts);
    expect(balancedSubset(labels, 100, { numClasses: 10, seed: 5 }).indices).toEqual(s.indices);

    expect(() => balancedSubset(labels, 6001, { numClasses: 10, seed: 5 })).toThrow('balancedSubset: class 0 has 6000 samples, 6001 are needed');
    expect(() => longTailSubset(labels, { numClasses: 10, imbalanceFactor: 10, seed: 1, nMax: 7000 })).toThrow('class 0 has 6000 samples, 7000 are needed');
    expect(() => longTailSubset(labels, { numClasses: 5, imbalanceFactor: 10, seed: 1 })).toThrow('longTailSubset: label 7 at index 1 is out of range 0..4');
    expect(() => longTailSubset(labels, { numClasses: 10, imbalanceFactor: 0.5, seed: 1 })).toThrow('imbalance factor must be a finite number ≥ 1');
    expect(() => longTailSubset(labels, { numClasses: 10, imbalanceFactor: 10, seed: -1 })).toThrow('seed must be an integer in [0, 2^32)');
    expect(() => longTailCounts(100, 1, 10)).toThrow('a long tail needs an integer number of classes ≥ 2');
  });

  it('splits classes into many (> 100), medium (20..100) and few (< 20) shots', () => {
    expect(shotSplit([500, 101, 100, 20, 19, 0])).toEqual({ many: [0, 1], medium: [2, 3], few: [4, 5] });
    const cifar100 = shotSplit(longTailCounts(500, 100, 100));
    expect([cifar100.many.length, cifar100.medium.length, cifar100.few.length]).toEqual([35, 35, 30]);
  });
});

describe('mini-batches', () => {
  const indices = Int32Array.from({ length: 103 }, (_, i) => 1000 + i);

  it('cover every index once per epoch, in batches of the given size', () => {
    const bs = [...batches(indices, { batchSize: 10, seed: 7, epoch: 3 })];
    expect(bs.map((b) => b.length)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    expect(bs.length).toBe(batchCount(103, 10));
    expect(bs.flatMap((b) => Array.from(b)).sort((x, y) => x - y)).toEqual(Array.from(indices));
    const dropped = [...batches(indices, { batchSize: 10, seed: 7, epoch: 3, dropLast: true })];
    expect(dropped.length).toBe(batchCount(103, 10, true));
    expect(dropped.map((b) => Array.from(b))).toEqual(bs.slice(0, 10).map((b) => Array.from(b)));
  });

  it('give the same order for the same seed and epoch, another for another epoch or seed, and no shuffle without a seed', () => {
    const order = (seed: number, epoch: number) => Array.from(epochOrder(indices, seed, epoch));
    expect(order(7, 3)).toEqual(order(7, 3));
    expect(order(7, 4)).not.toEqual(order(7, 3));
    expect(order(8, 3)).not.toEqual(order(7, 3));
    expect([...batches(indices, { batchSize: 10, seed: 7, epoch: 3 })].flatMap((b) => Array.from(b))).toEqual(order(7, 3));
    expect([...batches(indices, { batchSize: 50 })].flatMap((b) => Array.from(b))).toEqual(Array.from(indices));
    expect([...batches([], { batchSize: 4, seed: 1 })]).toEqual([]);
  });

  it('refuse bad options at the call', () => {
    expect(() => batches(indices, { batchSize: 0 })).toThrow('batchSize must be a positive integer');
    expect(() => batches(indices, { batchSize: 4, epoch: 1 })).toThrow('an epoch without a seed');
    expect(() => batches([1, 2.5], { batchSize: 4, seed: 1 })).toThrow('index 2.5 at position 1 is not an integer');
    expect(() => epochOrder(indices, 1, -1)).toThrow('epoch must be a non-negative integer');
  });
});
