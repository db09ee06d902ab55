// safetensors: round trips, the bytes of the format, refusal of corrupt files, atomic writes, PyTorch
// reading our files (and we theirs), and engine tensors through a checkpoint (the only part on the GPU).
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as T from '../src/index.js';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafetensorsInput } from '../src/index.js';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '../src/node.js';
import { useTempDirs } from './helpers.js';
import { READ_SAFETENSORS_PY, runPython, torchPython } from './reference/python.js';

const tempDir = useTempDirs('wgc-st-');

const sample = (): Map<string, SafetensorsInput> =>
  new Map<string, SafetensorsInput>([
    ['w', { shape: [2, 3], data: Float32Array.of(1.5, -2, 3.25, 0, 1e-8, -7) }],
    ['idx', { shape: [4], data: Int32Array.of(-1, 0, 7, 2147483647) }],
    ['u', { shape: [2, 2], data: Uint32Array.of(0, 1, 4294967295, 123456789) }],
    ['d', { shape: [3], data: Float64Array.of(Math.PI, -0, 1e300) }],
    ['big', { shape: [2], data: BigInt64Array.of(-(2n ** 40n), 5n) }],
    ['half', { dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0xc100) }],
    ['scalar', { shape: [], data: Float32Array.of(42) }],
    ['empty', { shape: [0, 3], data: new Float32Array(0) }],
  ]);
const META = { epoch: '3', note: 'ünïcode ✓' };

/** A file from a header object and data bytes, laid out by hand (for corrupt variants). */
function rawFile(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors encode/decode', () => {
  it('round-trips every dtype, scalars, empty tensors and metadata', () => {
    const input = sample();
    const file = decodeSafetensors(encodeSafetensors(input, META));
    expect(file.metadata).toEqual(META);
    expect([...file.tensors.keys()]).toEqual([...input.keys()]);
    for (const [name, t] of input) {
      const got = file.tensors.get(name)!;
      expect(got.dtype).toBe(t.dtype ?? { Float32Array: 'F32', Int32Array: 'I32', Uint32Array: 'U32', Float64Array: 'F64', BigInt64Array: 'I64' }[t.data.constructor.name]);
      expect(got.shape).toEqual(t.shape);
      expect(got.data).toEqual(t.data);
      expect(got.data.constructor).toBe(t.data.constructor);
    }
    expect(Object.is(file.tensors.get('d')!.data[1], -0)).toBe(true);
  });

  it('writes the format byte for byte: LE length, JSON header padded with spaces to 8, contiguous LE data in header order', () => {
    const bytes = encodeSafetensors(sample(), META);
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(view.getUint32(4, true)).toBe(0); // high word of the u64
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().length).toBeGreaterThan(n - 8); // at most 7 padding characters
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    const header = JSON.parse(text);
    expect(header.__metadata__).toEqual(META);
    expect(header.w).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header.half).toEqual({ dtype: 'F16', shape: [2], data_offsets: [96, 100] });
    let cursor = 0;
    for (const [name, e] of Object.entries(header) as [string, { data_offsets: [number, number] }][]) {
      if (name === '__metadata__') continue;
      expect(e.data_offsets[0]).toBe(cursor);
      cursor = e.data_offsets[1];
    }
    expect(8 + n + cursor).toBe(bytes.length);
    const data = bytes.subarray(8 + n);
    expect(Array.from(data.subarray(0, 4))).toEqual([0x00, 0x00, 0xc0, 0x3f]); // 1.5f little-endian
    expect(Array.from(data.subarray(24, 28))).toEqual([0xff, 0xff, 0xff, 0xff]); // int32 -1
    expect(Array.from(data.subarray(96, 100))).toEqual([0x00, 0x3c, 0x00, 0xc1]); // f16 bits 0x3c00, 0xc100
  });

  it('keeps data in header order even when JSON reorders integer-like names, and takes "__proto__" as a name', () => {
    const input = new Map<string, SafetensorsInput>([
      ['b', { shape: [1], data: Float32Array.of(1) }],
      ['10', { shape: [2], data: Float32Array.of(2, 3) }],
      ['__proto__', { shape: [1], data: Int32Array.of(9) }],
    ]);
    const bytes = encodeSafetensors(input);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(['10', 'b', '__proto__']);
    expect(header['10'].data_offsets).toEqual([0, 8]);
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['10', 'b', '__proto__']);
    expect(file.tensors.get('__proto__')!.data).toEqual(Int32Array.of(9));
    expect(Object.getPrototypeOf(header)).toBe(Object.prototype);
  });

  it('refuses bad input to encode', () => {
    const f = Float32Array.of(1, 2);
    expect(() => encodeSafetensors({ a: { shape: [3], data: f } })).toThrow('tensor "a": 2 elements do not fill shape [3]');
    expect(() => encodeSafetensors({ a: { dtype: 'I32', shape: [2], data: f } })).toThrow('tensor "a": I32 data must be a Int32Array, got a Float32Array');
    expect(() => encodeSafetensors({ a: { dtype: 'X' as 'F32', shape: [2], data: f } })).toThrow('tensor "a": unknown dtype X');
    expect(() => encodeSafetensors({ a: { shape: [-2], data: f } })).toThrow('tensor "a": invalid shape [-2]');
    expect(() => encodeSafetensors({ __metadata__: { shape: [2], data: f } })).toThrow('"__metadata__" cannot name a tensor');
    expect(() => encodeSafetensors({}, { n: 3 as unknown as string })).toThrow('metadata "n" must be a string');
  });

  describe('refuses corrupt files with a clear error', () => {
    const good = encodeSafetensors(sample(), META);
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    const data = good.subarray(8 + n);
    const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n)));
    const withEntry = (name: string, entry: unknown) => rawFile({ ...header, [name]: entry }, data);
    const cases: [string, Uint8Array, string][] = [
      ['too short', good.subarray(0, 5), '5 bytes, too short for the 8-byte header length'],
      ['length past the end', (() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true); return b; })(), `header length ${good.length} exceeds the ${good.length - 8} bytes after the length field`],
      ['length 2^64 − 1', (() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 2n ** 64n - 1n, true); return b; })(), 'header length 18446744073709551615 exceeds'],
      ['bad JSON', rawFile(null, data, '{"w": {"dtype": "F32",'), 'the header is not valid JSON'],
      ['bad UTF-8', (() => { const b = rawFile(null, data, '{"ab": {}}'); b[10] = 0xff; return b; })(), 'the header is not valid UTF-8'],
      ['not an object', rawFile([1, 2], new Uint8Array(0)), 'the header is not a JSON object'],
      ['unknown dtype', withEntry('w', { ...header.w, dtype: 'F33' }), 'tensor "w": unknown dtype "F33" (known: BOOL, U8'],
      ['bad shape', withEntry('w', { ...header.w, shape: [2, -3] }), 'tensor "w": invalid shape [2,-3]'],
      ['size mismatch', withEntry('w', { ...header.w, shape: [2, 4] }), 'tensor "w": data_offsets [0, 24] hold 24 bytes, but shape [2, 4] of F32 needs 32'],
      ['offsets reversed', withEntry('w', { ...header.w, data_offsets: [24, 0] }), 'tensor "w": invalid data_offsets [24,0]'],
      ['offsets out of range', withEntry('x', { dtype: 'U8', shape: [8], data_offsets: [data.length, data.length + 8] }), `tensor "x": data_offsets [${data.length}, ${data.length + 8}] lie outside the ${data.length} data bytes of the file (truncated?)`],
      ['truncated data', good.subarray(0, good.length - 3), `lie outside the ${data.length - 3} data bytes of the file (truncated?)`],
      ['gap', withEntry('w', { ...header.w, shape: [2, 2], data_offsets: [0, 16] }), 'tensor "idx" starts at data byte 24, but the previous tensor ends at 16 (the data must be contiguous: a gap)'],
      ['overlap', withEntry('x', { dtype: 'U8', shape: [4], data_offsets: [0, 4] }), 'the data must be contiguous: an overlap'],
      ['trailing bytes', Uint8Array.from([...good, 1, 2]), '2 bytes after the last tensor\'s data'],
      ['bad metadata', rawFile({ ...header, __metadata__: { epoch: 3 } }, data), '__metadata__ must be an object of strings'],
      ['entry not an object', withEntry('x', 5), 'tensor "x": its header entry is not an object'],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, () => {
        let err: unknown;
        try {
          decodeSafetensors(bytes, 'ck.safetensors');
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(CheckpointError);
        expect((err as Error).message).toMatch(/^checkpoint corrupt: ck\.safetensors: /);
        expect((err as Error).message).toContain(message);
      });
    }
  });
});

describe('safetensors files', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('saves atomically (no temporary file left) and loads back', async () => {
    const dir = tempDir();
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, sample(), META);
    await saveSafetensors(path, { w: { shape: [1], data: Float32Array.of(5) } }); // replaces it
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const file = await loadSafetensors(path);
    expect(file.tensors.get('w')!.data).toEqual(Float32Array.of(5));
    writeFileSync(path, readFileSync(path).subarray(0, 20));
    await expect(loadSafetensors(path)).rejects.toThrow(`checkpoint corrupt: ${path}: header length`);
  });

  /** FileHandle's prototype, to make its methods fail the way a full disk or an I/O error would. */
  async function fileHandleProto(dir: string) {
    const h = await open(join(dir, 'probe'), 'w');
    await h.close();
    rmSync(join(dir, 'probe'));
    return Object.getPrototypeOf(h);
  }

  it('never leaves a half-written target: a failure mid-write or at fsync keeps the old file and removes the temporary', async () => {
    const dir = tempDir();
    const path = join(dir, 'ck.bin');
    writeFileSync(path, 'old checkpoint');
    const proto = await fileHandleProto(dir);
    const realWrite = proto.writeFile;
    vi.spyOn(proto, 'writeFile').mockImplementationOnce(async function (this: unknown, ...args: unknown[]) {
      const bytes = args[0] as Uint8Array;
      await realWrite.call(this, bytes.subarray(0, bytes.length >> 1));
      throw Object.assign(new Error('ENOSPC: no space left on device (simulated)'), { code: 'ENOSPC' });
    });
    await expect(writeFileAtomic(path, new Uint8Array(1 << 16).fill(7))).rejects.toThrow(`writeFileAtomic: cannot write ${path}: ENOSPC`);
    expect(readFileSync(path, 'utf8')).toBe('old checkpoint');
    expect(readdirSync(dir)).toEqual(['ck.bin']);

    vi.spyOn(proto, 'sync').mockRejectedValueOnce(new Error('EIO: i/o error (simulated)'));
    await expect(writeFileAtomic(path, new Uint8Array(8))).rejects.toThrow('EIO');
    expect(readFileSync(path, 'utf8')).toBe('old checkpoint');
    expect(readdirSync(dir)).toEqual(['ck.bin']);
  });

  it('removes the temporary file when the rename fails', async () => {
    const dir = tempDir();
    const path = join(dir, 'taken');
    mkdirSync(path); // a directory cannot be replaced by a file
    await expect(writeFileAtomic(path, new Uint8Array(8))).rejects.toThrow(`writeFileAtomic: cannot write ${path}`);
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});

describe('PyTorch interoperability', () => {
  const skip = 'python' in torchPython ? '' : ` (skipped: ${torchPython.missing})`;
  // Read ours with the independent reader, then write a file the way the reference writer lays it out.
  const script = READ_SAFETENSORS_PY + String.raw`
import sys
meta, tensors = read_safetensors(sys.argv[1])
got = {name: {'dtype': dtype, 'shape': list(t.shape), 'values': t.flatten().tolist()} for name, (dtype, t) in tensors.items()}

# Torch's own file: data in another order than the header's keys, json.dumps' default spacing.
tensors = {'b': torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4, 'a': torch.tensor([-3, 9], dtype=torch.int64), 'h': torch.tensor([1.0, -2.5], dtype=torch.float16)}
hdr, blobs, off = {}, [], 0
for name, t in tensors.items():
    blob = t.contiguous().numpy().tobytes()
    hdr[name] = {'dtype': {torch.float32: 'F32', torch.int64: 'I64', torch.float16: 'F16'}[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(blob)]}
    blobs.append(blob)
    off += len(blob)
hdr = {'__metadata__': {'format': 'pt'}, 'h': hdr['h'], 'a': hdr['a'], 'b': hdr['b']}
text = json.dumps(hdr).encode('utf-8')
text += b' ' * (-len(text) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
print(json.dumps({'metadata': meta, 'tensors': got}))
`;

  it.runIf(!skip)(`PyTorch reads our file and we read PyTorch's${skip}`, async () => {
    const dir = tempDir();
    const ours = join(dir, 'ours.safetensors');
    const theirs = join(dir, 'theirs.safetensors');
    const input = sample();
    await saveSafetensors(ours, input, META);
    const read = JSON.parse(runPython(script, [ours, theirs])) as { metadata: unknown; tensors: Record<string, { dtype: string; shape: number[]; values: number[] }> };
    expect(read.metadata).toEqual(META);
    for (const [name, t] of input) {
      const got = read.tensors[name];
      expect(got.shape).toEqual(t.shape);
      const want = name === 'half' ? [1, -2.5] : name === 'big' ? Array.from(t.data as BigInt64Array, Number) : Array.from(t.data as Float32Array);
      expect(got.values).toEqual(want);
    }
    const file = await loadSafetensors(theirs);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.tensors.get('b')!.data).toEqual(Float32Array.of(0, 0.25, 0.5, 0.75, 1, 1.25));
    expect(file.tensors.get('b')!.shape).toEqual([2, 3]);
    expect(file.tensors.get('a')!.data).toEqual(BigInt64Array.of(-3n, 9n));
    expect(file.tensors.get('h')).toEqual({ dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0xc100) });
  });
});

describe('engine tensors through a checkpoint (GPU)', () => {
  it('reads tensors into entries and uploads decoded entries as tensors', async () => {
    await T.init({ log: false });
    const w = T.tensor([[1, 2, 3], [4, 5, 6]]);
    const y = T.tensor([3, 1, 4], [3], 'i32');
    const bytes = encodeSafetensors(await T.readTensorEntries({ w, y }), { step: '10' });
    const back = T.entriesToTensors(decodeSafetensors(bytes).tensors);
    expect(back.get('w')!.shape).toEqual([2, 3]);
    expect(back.get('w')!.dtype).toBe('f32');
    expect(Array.from(await back.get('w')!.read())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.get('y')!.dtype).toBe('i32');
    expect(Array.from(await back.get('y')!.read())).toEqual([3, 1, 4]);
    expect(() => T.entriesToTensors(new Map([['d', { dtype: 'F64' as const, shape: [1], data: Float64Array.of(1) }]]))).toThrow(
      'entriesToTensors: tensor "d" is F64; the engine holds only F32, I32 and U32 tensors',
    );
  });
});
