// Dataset loaders on the CPU: CIFAR-10/100 binary files, the ZIP / .npy / .npz readers and MedMNIST, all on
// small files written here (and, when a Python with NumPy is installed, .npz files NumPy writes). No GPU.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 as zlibCrc32, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CIFAR10_FILES, crc32, listZip, MEDMNIST_URL, medmnistClassesFor, parseCifar, parseNpy, parseNpz, streamInflateRaw, type ImageSplit,
} from '../src/index.js';
import { loadCifar10, loadCifar100, loadMedMnist, loadNpz, nodeInflateRaw } from '../src/node.js';
import { cifarRecords, i4, i8, npy, pixel, u1, zip, PIXELS, type Member } from './fixtures/dataset-files.js';
import { useTempDirs } from './helpers.js';
import { numpyPython, runPython } from './reference/python.js';

const tempDir = useTempDirs('wgc-loaders-');

function writeFiles(dir: string, files: Record<string, Uint8Array>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

// ---- CIFAR ----

/** The five CIFAR-10 training batches of 2 records each (seeds 0..9, labels i % 10) and a test batch of 3. */
function cifar10Files(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  CIFAR10_FILES.train.forEach((name, b) => {
    files[name] = cifarRecords([[(2 * b) % 10], [(2 * b + 1) % 10]], 2 * b);
  });
  files['test_batch.bin'] = cifarRecords([[9], [0], [5]], 100);
  return files;
}

function expectPixels(split: ImageSplit, firstSeed: number) {
  for (let i = 0; i < split.count; i++) {
    const image = split.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    expect(Array.from(image)).toEqual(Array.from({ length: PIXELS }, (_, j) => pixel(firstSeed + i, j)));
  }
}

describe('CIFAR binary', () => {
  it('CIFAR-10: reads the five batches in order and the test batch, pixels as CHW planes', async () => {
    const dir = writeFiles(tempDir(), cifar10Files());
    const { train, test } = await loadCifar10(dir, { standardCounts: false });
    expect(train).toMatchObject({ count: 10, channels: 3, height: 32, width: 32 });
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectPixels(train, 0);
    expect(test.count).toBe(3);
    expect(Array.from(test.labels)).toEqual([9, 0, 5]);
    expectPixels(test, 100);
  });

  it('CIFAR-10: the file is R, G, B planes of 32 × 32, which stay planes (NCHW)', () => {
    const record = new Uint8Array(1 + PIXELS);
    record[0] = 3;
    record.fill(10, 1, 1 + 1024); // R
    record.fill(20, 1 + 1024, 1 + 2048); // G
    record.fill(30, 1 + 2048); // B
    record[1 + 1024 + 32 * 5 + 7] = 99; // G at y 5, x 7
    const split = parseCifar(record, 'cifar10', 'one.bin');
    expect([split.images[0], split.images[1023], split.images[1024], split.images[2047], split.images[2048], split.images[3071]]).toEqual([10, 10, 20, 20, 30, 30]);
    expect(split.images[1024 + 5 * 32 + 7]).toBe(99);
    expect(Array.from(split.labels)).toEqual([3]);
  });

  it('CIFAR-10: finds the unpacked cifar-10-batches-bin folder and $CIFAR10_DIR, and reads gzipped files', async () => {
    const parent = tempDir();
    const files = cifar10Files();
    files['data_batch_2.bin.gz'] = gzipSync(files['data_batch_2.bin']);
    delete files['data_batch_2.bin'];
    writeFiles(join(parent, 'cifar-10-batches-bin'), files);
    expect((await loadCifar10(parent, { standardCounts: false })).train.count).toBe(10);
    const saved = process.env.CIFAR10_DIR;
    process.env.CIFAR10_DIR = join(parent, 'cifar-10-batches-bin');
    try {
      const { train } = await loadCifar10(undefined, { standardCounts: false });
      expectPixels(train, 0);
      delete process.env.CIFAR10_DIR;
      await expect(loadCifar10()).rejects.toThrow('loadCifar10: no directory given and CIFAR10_DIR is not set. Download the binary version https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
    } finally {
      if (saved === undefined) delete process.env.CIFAR10_DIR;
      else process.env.CIFAR10_DIR = saved;
    }
  });

  it('CIFAR-10: refuses a standard file of the wrong size, a truncated file and a label ≥ 10', async () => {
    const small = writeFiles(tempDir(), cifar10Files());
    await expect(loadCifar10(small)).rejects.toThrow(`CIFAR-10 ${join(small, 'data_batch_1.bin')}: expected 10000 records (30730000 bytes), found 2 (6146 bytes)`);

    const files = cifar10Files();
    files['data_batch_3.bin'] = files['data_batch_3.bin'].subarray(0, 6145);
    const cut = writeFiles(tempDir(), files);
    await expect(loadCifar10(cut, { standardCounts: false })).rejects.toThrow(
      `CIFAR-10 ${join(cut, 'data_batch_3.bin')}: truncated: 6145 bytes is not a whole number of 3073-byte records`);

    const bad = cifar10Files();
    bad['test_batch.bin'] = cifarRecords([[1], [10]]);
    const dir = writeFiles(tempDir(), bad);
    await expect(loadCifar10(dir, { standardCounts: false })).rejects.toThrow(
      `CIFAR-10 ${join(dir, 'test_batch.bin')}: label 10 of item 1 is out of range (expected 0..9)`);
  });

  it('CIFAR-10: a missing file or directory names the path and where to download the data', async () => {
    const files = cifar10Files();
    delete files['test_batch.bin'];
    const dir = writeFiles(tempDir(), files);
    await expect(loadCifar10(dir, { standardCounts: false })).rejects.toThrow(
      `${dir} has neither test_batch.bin.gz nor test_batch.bin. Download the binary version https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz`);
    const nowhere = join(dir, 'nowhere');
    await expect(loadCifar10(nowhere)).rejects.toThrow(`directory ${nowhere} does not exist (looking for data_batch_1.bin.gz or data_batch_1.bin)`);
  });

  it('CIFAR-100: fine or coarse labels, both range-checked; standard counts of train.bin and test.bin', async () => {
    const trainLabels = [[0, 99], [19, 5], [7, 42], [3, 0]];
    const dir = writeFiles(tempDir(), { 'train.bin': cifarRecords(trainLabels), 'test.bin': cifarRecords([[4, 17], [11, 88]], 50) });
    const fine = await loadCifar100(dir, { standardCounts: false });
    expect(fine.train).toMatchObject({ count: 4, channels: 3, height: 32, width: 32 });
    expect(Array.from(fine.train.labels)).toEqual([99, 5, 42, 0]);
    expect(Array.from(fine.test.labels)).toEqual([17, 88]);
    expectPixels(fine.train, 0);
    expectPixels(fine.test, 50);
    const coarse = await loadCifar100(dir, { standardCounts: false, labels: 'coarse' });
    expect(Array.from(coarse.train.labels)).toEqual([0, 19, 7, 3]);
    expect(Array.from(coarse.test.labels)).toEqual([4, 11]);

    await expect(loadCifar100(dir)).rejects.toThrow(`CIFAR-100 ${join(dir, 'train.bin')}: expected 50000 records (153700000 bytes), found 4 (12296 bytes)`);
    expect(() => parseCifar(cifarRecords([[1, 2], [20, 3]]), 'cifar100', 'c.bin', { labels: 'fine' })).toThrow(
      'CIFAR-100 c.bin: coarse label 20 of item 1 is out of range (expected 0..19)');
    expect(() => parseCifar(cifarRecords([[1, 100]]), 'cifar100', 'f.bin', { labels: 'coarse' })).toThrow(
      'CIFAR-100 f.bin: fine label 100 of item 0 is out of range (expected 0..99)');
    expect(() => parseCifar(new Uint8Array(3074 * 2 + 1), 'cifar100', 't.bin')).toThrow(
      'CIFAR-100 t.bin: truncated: 6149 bytes is not a whole number of 3074-byte records');
    expect(() => parseCifar(new Uint8Array(3074 * 2), 'cifar100', 'n.bin', { expectedRecords: 3 })).toThrow('CIFAR-100 n.bin: expected 3 records');
    await expect(loadCifar100(join(dir, 'none'))).rejects.toThrow('https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz');
  });
});

// ---- ZIP, .npy, .npz ----

/** A grey BreastMNIST-like set: train 3, val 2, test 2 images of 4 × 5, binary labels, every label dtype and both methods. */
function breastMembers(over: Record<string, Partial<Member>> = {}): Member[] {
  const members: Member[] = [
    { name: 'train_images.npy', data: u1([3, 4, 5], (i) => (i * 3) & 0xff) },
    { name: 'train_labels.npy', data: i8([1, 0, 1]), deflate: true },
    { name: 'val_images.npy', data: u1([2, 4, 5], (i) => 200 - i), deflate: true },
    { name: 'val_labels.npy', data: i4([0, 1]) },
    { name: 'test_images.npy', data: npy('|u1', [2, 4, 5], Uint8Array.from({ length: 40 }, (_, i) => i), { version: 3 }), deflate: true },
    { name: 'test_labels.npy', data: u1([2, 1], (i) => 1 - i) },
  ];
  return members.map((m) => ({ ...m, ...over[m.name] }));
}

describe('ZIP, .npy and .npz', () => {
  it('CRC-32: the check value of "123456789", and agreement with node:zlib, whole and in pieces', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24);
    expect(crc32(data)).toBe(zlibCrc32(data));
    expect(crc32(data.subarray(1234), crc32(data.subarray(0, 1234)))).toBe(zlibCrc32(data));
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('reads stored and deflated members, plain and ZIP64, and .npy versions 1, 2 and 3', async () => {
    for (const zip64 of [false, true]) {
      const bytes = zip(breastMembers(), zip64);
      expect(listZip(bytes, 'a.npz').map((e) => [e.name, e.method])).toEqual([
        ['train_images.npy', 0], ['train_labels.npy', 8], ['val_images.npy', 8], ['val_labels.npy', 0], ['test_images.npy', 8], ['test_labels.npy', 0],
      ]);
      const arrays = await parseNpz(bytes, 'a.npz', nodeInflateRaw);
      expect([...arrays.keys()]).toEqual(['train_images', 'train_labels', 'val_images', 'val_labels', 'test_images', 'test_labels']);
      expect(arrays.get('train_labels')).toMatchObject({ dtype: '<i8', shape: [3, 1] });
      expect(arrays.get('val_labels')).toMatchObject({ dtype: '<i4', shape: [2] });
      expect(arrays.get('test_images')).toMatchObject({ dtype: '|u1', shape: [2, 4, 5] });
    }
  });

  it("inflates with the web platform's DecompressionStream as well as node:zlib", async () => {
    const bytes = zip(breastMembers());
    const [web, node] = await Promise.all([parseNpz(bytes, 'a.npz', streamInflateRaw), parseNpz(bytes, 'a.npz', nodeInflateRaw)]);
    for (const [name, a] of node) expect(Array.from(web.get(name)!.data), name).toEqual(Array.from(a.data));
    const cut = zip([{ name: 'x.npy', data: u1([64], (i) => i), deflate: true }]);
    const e = listZip(cut, 'c.zip')[0];
    cut.fill(0xff, e.localOffset + 30 + e.name.length, e.localOffset + 30 + e.name.length + e.compressedSize);
    await expect(parseNpz(cut, 'c.zip', streamInflateRaw)).rejects.toThrow("c.zip: ZIP member 'x.npy': cannot inflate (");
  });

  it('MedMNIST: grey images round-trip with labels of each dtype, classes from the file name', async () => {
    const path = join(tempDir(), 'breastmnist.npz');
    writeFileSync(path, zip(breastMembers()));
    const d = await loadMedMnist(path);
    expect(d.train).toMatchObject({ count: 3, channels: 1, height: 4, width: 5 });
    expect(Array.from(d.train.images)).toEqual(Array.from({ length: 60 }, (_, i) => (i * 3) & 0xff));
    expect(Array.from(d.train.labels)).toEqual([1, 0, 1]);
    expect(Array.from(d.val.images)).toEqual(Array.from({ length: 40 }, (_, i) => 200 - i));
    expect(Array.from(d.val.labels)).toEqual([0, 1]);
    expect(Array.from(d.test.images)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(Array.from(d.test.labels)).toEqual([1, 0]);
    expect((await loadNpz(path)).get('val_labels')?.dtype).toBe('<i4');
    expect([medmnistClassesFor('/x/BloodMNIST_64.npz'), medmnistClassesFor('organcmnist.npz'), medmnistClassesFor('chestmnist.npz')]).toEqual([8, 11, undefined]);
  });

  it('MedMNIST: colour images (N, H, W, 3) come out as NCHW planes', async () => {
    // Pixel (n, y, x, c) = 100 n + 10 c + (3 y + x): the plane of channel c holds 100 n + 10 c + position.
    const [n, h, w, c] = [2, 2, 3, 3];
    const image = u1([n, h, w, c], (i) => 100 * Math.floor(i / (h * w * c)) + 10 * (i % c) + (Math.floor(i / c) % (h * w)));
    const labels = u1([n, 1], (i) => 7 - i);
    const members = ['train', 'val', 'test'].flatMap((s) => [
      { name: `${s}_images.npy`, data: image, deflate: s !== 'val' },
      { name: `${s}_labels.npy`, data: labels },
    ]);
    const path = join(tempDir(), 'bloodmnist.npz');
    writeFileSync(path, zip(members));
    const d = await loadMedMnist(path);
    expect(d.val).toMatchObject({ count: 2, channels: 3, height: 2, width: 3 });
    const expected = Array.from({ length: n * c * h * w }, (_, i) => 100 * Math.floor(i / (c * h * w)) + 10 * (Math.floor(i / (h * w)) % c) + (i % (h * w)));
    expect(Array.from(d.train.images)).toEqual(expected);
    expect(Array.from(d.val.images)).toEqual(expected);
    expect(Array.from(d.test.labels)).toEqual([7, 6]);
  });

  it('refuses a corrupt CRC, a truncated archive, a corrupt deflate stream and a missing member', async () => {
    const bad = zip(breastMembers({ 'val_labels.npy': { crc: 0x12345678 } }));
    await expect(parseNpz(bad, 'x.npz', nodeInflateRaw)).rejects.toThrow(/^x\.npz: ZIP member 'val_labels\.npy': CRC-32 mismatch: stored 0x12345678, computed 0x[0-9a-f]{8} \(corrupt\)$/);
    const good = zip(breastMembers());
    await expect(parseNpz(good.subarray(0, good.length - 30), 'x.npz', nodeInflateRaw)).rejects.toThrow(
      `x.npz: no ZIP end-of-central-directory record in ${good.length - 30} bytes: not a ZIP file, or truncated`);
    // A flipped byte inside a stored member's data.
    const flipped = good.slice();
    flipped[30 + 'train_images.npy'.length + 128 + 7] ^= 0xff;
    await expect(parseNpz(flipped, 'x.npz', nodeInflateRaw)).rejects.toThrow("x.npz: ZIP member 'train_images.npy': CRC-32 mismatch");
    // A deflate stream cut short, the directory still consistent: inflate fails or the size check does.
    const deflated = listZip(good, 'x.npz').find((e) => e.method === 8)!;
    const garbage = good.slice();
    garbage.fill(0xff, deflated.localOffset + 30 + deflated.name.length, deflated.localOffset + 30 + deflated.name.length + deflated.compressedSize);
    await expect(parseNpz(garbage, 'x.npz', nodeInflateRaw)).rejects.toThrow(`x.npz: ZIP member '${deflated.name}': cannot inflate (`);

    const path = join(tempDir(), 'pneumoniamnist.npz');
    writeFileSync(path, zip(breastMembers().filter((m) => m.name !== 'val_images.npy')));
    await expect(loadMedMnist(path)).rejects.toThrow(`MedMNIST ${path}: no array 'val_images' (it holds train_images, train_labels, val_labels, test_images, test_labels)`);
  });

  it('refuses a bad .npy magic, Fortran order, unsupported and big-endian dtypes, and a wrong data length', () => {
    const data = new Uint8Array(32);
    const good = npy('|u1', [2, 4, 4], data);
    const badMagic = good.slice();
    badMagic[1] = 0x4d;
    expect(() => parseNpy(badMagic, 'm.npy')).toThrow('m.npy: not a .npy file: the magic string \\x93NUMPY is missing');
    expect(() => parseNpy(npy('|u1', [2, 4, 4], data, { fortran: 'True' }), 'f.npy')).toThrow('f.npy: fortran_order is True: Fortran-ordered arrays are not supported');
    expect(() => parseNpy(npy('<f4', [2, 4], data), 'd.npy')).toThrow("d.npy: unsupported dtype '<f4' (expected |u1, <i4 or <i8)");
    const noDescr = new TextDecoder('latin1').decode(good).replace("'descr'", "'dtype'");
    expect(() => parseNpy(Uint8Array.from(noDescr, (ch) => ch.charCodeAt(0)), 'n.npy')).toThrow("n.npy: the .npy header has no 'descr'");
    expect(() => parseNpy(npy('>i8', [4], data), 'b.npy')).toThrow("b.npy: big-endian dtype '>i8' is not supported");
    expect(() => parseNpy(npy('|u1', [2, 4, 4], data, { extra: -1 }), 't.npy')).toThrow('t.npy: data length mismatch: shape (2, 4, 4) of |u1 needs 32 bytes, found 31 (truncated)');
    expect(() => parseNpy(npy('|u1', [2, 4, 4], data, { extra: 2 }), 't.npy')).toThrow('found 34 (trailing bytes after the data)');
    expect(() => parseNpy(npy('<i4', [3], new Uint8Array(12), { version: 3 }), 'v3.npy')).not.toThrow();
    const v9 = good.slice();
    v9[6] = 9;
    expect(() => parseNpy(v9, 'v.npy')).toThrow('v.npy: .npy version 9.0 is not supported');
  });

  it('a member that inflates past its declared size is refused as soon as it does, in Node and with the stream decoder', async () => {
    // 64 MiB of zeros deflate to ~64 KiB; the directory claims 1000 bytes.
    const bomb = zip([{ name: 'train_images.npy', data: new Uint8Array(64 << 20), deflate: true, size: 1000 }]);
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    for (const inflate of [nodeInflateRaw, streamInflateRaw]) {
      await expect(parseNpz(bomb, 'bomb.npz', inflate)).rejects.toThrow(/^bomb\.npz: ZIP member 'train_images\.npy': cannot inflate \(it inflates to more than 1001 bytes\): corrupt or truncated$/);
    }
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 << 20);
  });

  it('MedMNIST: refuses each of those inside an .npz, labels out of range, multi-label and 3D arrays', async () => {
    const dir = tempDir();
    const load = (members: Member[], name = 'breastmnist.npz') => {
      const path = join(dir, name);
      writeFileSync(path, zip(members));
      return { path, promise: loadMedMnist(path) };
    };
    let t = load(breastMembers({ 'val_images.npy': { data: npy('|u1', [2, 4, 5], new Uint8Array(40), { fortran: 'True' }) } }));
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: val_images.npy: fortran_order is True`);
    t = load(breastMembers({ 'test_labels.npy': { data: npy('<f8', [2, 1], new Uint8Array(16)) } }));
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: test_labels.npy: unsupported dtype '<f8'`);
    const noMagic = u1([3, 4, 5], () => 0);
    noMagic[0] = 0;
    t = load(breastMembers({ 'train_images.npy': { data: noMagic } }));
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: train_images.npy: not a .npy file`);
    t = load(breastMembers({ 'train_labels.npy': { data: i8([1, 2, 0]) } }));
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: train_labels: label 2 of item 1 is out of range (expected 0..1)`);
    t = load(breastMembers({ 'val_labels.npy': { data: i4([0, -1]) } }));
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: val_labels: label -1 of item 1 is out of range (expected 0..1)`);
    t = load(breastMembers({ 'train_labels.npy': { data: i8([1, 0]) } }));
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: train_labels: count mismatch: 2 labels for 3 images`);
    t = load(breastMembers({ 'test_labels.npy': { data: u1([2, 14], () => 0) } }));
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: test_labels: labels of shape (2, 14): expected (N) or (N, 1)`);
    t = load(breastMembers({ 'test_images.npy': { data: u1([2, 4, 4, 5], () => 0) } }));
    await expect(t.promise).rejects.toThrow('the last dimension 5 is not a channel count (1 to 4); 3D volumes are not supported');
    t = load(breastMembers({ 'train_images.npy': { data: i4([1, 2, 3], [3, 1, 1]) } }));
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: train_images: images must be unsigned bytes (|u1), found <i4`);
    t = load(breastMembers(), 'mystery.npz');
    await expect(t.promise).rejects.toThrow(`MedMNIST ${t.path}: unknown dataset 'mystery.npz'`);
    expect((await loadMedMnist(t.path, { numClasses: 2 })).train.count).toBe(3);
    await expect(loadMedMnist(t.path, { numClasses: 300 })).rejects.toThrow('train_labels: numClasses 300 is not 1..256');
  });

  it('MedMNIST: a missing file names the path and where to download it', async () => {
    const path = join(tempDir(), 'pneumoniamnist.npz');
    await expect(loadMedMnist(path)).rejects.toThrow(`MedMNIST: ${path} does not exist. Download pneumoniamnist.npz (MedMNIST v2) from ${MEDMNIST_URL}`);
    expect(MEDMNIST_URL).toBe('https://zenodo.org/records/10519652');
  });

  const skipNumpy = 'python' in numpyPython ? '' : ` (skipped: ${numpyPython.missing})`;
  it.skipIf(!!skipNumpy)(`reads what NumPy's savez_compressed and savez write${skipNumpy}`, async () => {
    const dir = tempDir();
    // Pixels and labels follow formulas that the checks below recompute.
    runPython(String.raw`
import sys, numpy as np
d = sys.argv[1]
def grey(n, seed): return ((np.arange(n * 28 * 28).reshape(n, 28, 28) * 7 + seed) % 256).astype(np.uint8)
def colour(n): return ((np.arange(n * 28 * 28 * 3).reshape(n, 28, 28, 3) * 5) % 256).astype(np.uint8)
np.savez_compressed(d + '/pneumoniamnist.npz',
    train_images=grey(5, 0), train_labels=(np.arange(5) % 2).reshape(5, 1).astype(np.uint8),
    val_images=grey(3, 1), val_labels=np.array([[1], [0], [1]], dtype=np.int64),
    test_images=grey(2, 2), test_labels=np.array([0, 1], dtype=np.int32))
np.savez(d + '/dermamnist.npz',
    train_images=colour(4), train_labels=np.array([[6], [0], [3], [1]], dtype=np.uint8),
    val_images=colour(1), val_labels=np.array([[2]], dtype=np.int64),
    test_images=colour(2), test_labels=np.array([[5], [4]], dtype=np.uint8))
`, [dir], numpyPython);
    const p = await loadMedMnist(join(dir, 'pneumoniamnist.npz'));
    expect(p.train).toMatchObject({ count: 5, channels: 1, height: 28, width: 28 });
    expect(Array.from(p.train.images)).toEqual(Array.from({ length: 5 * 784 }, (_, i) => (i * 7) % 256));
    expect(Array.from(p.val.images)).toEqual(Array.from({ length: 3 * 784 }, (_, i) => (i * 7 + 1) % 256));
    expect([Array.from(p.train.labels), Array.from(p.val.labels), Array.from(p.test.labels)]).toEqual([[0, 1, 0, 1, 0], [1, 0, 1], [0, 1]]);

    const zipped = listZip(new Uint8Array(readFileSync(join(dir, 'dermamnist.npz'))), 'dermamnist.npz');
    expect(new Set(zipped.map((e) => e.method))).toEqual(new Set([0]));
    const d = await loadMedMnist(join(dir, 'dermamnist.npz'));
    expect(d.train).toMatchObject({ count: 4, channels: 3, height: 28, width: 28 });
    // NHWC element (n, y, x, c) is index ((n * 784 + y * 28 + x) * 3 + c); NCHW puts it at (n * 3 + c) * 784 + y * 28 + x.
    const nchw = Array.from({ length: 4 * 3 * 784 }, (_, i) => {
      const n = Math.floor(i / (3 * 784)), c = Math.floor(i / 784) % 3, p = i % 784;
      return (((n * 784 + p) * 3 + c) * 5) % 256;
    });
    expect(Array.from(d.train.images)).toEqual(nchw);
    expect([Array.from(d.train.labels), Array.from(d.val.labels), Array.from(d.test.labels)]).toEqual([[6, 0, 3, 1], [2], [5, 4]]);
  });
});
