// The safetensors checkpoint format (https://github.com/huggingface/safetensors), pure on bytes so that
// browsers and Node share it:
//   8 bytes  N, the header length, unsigned 64-bit little-endian
//   N bytes  a UTF-8 JSON object {"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets"}}
//            padded with spaces so that the data starts at a multiple of 8
//   rest     the tensors' raw little-endian bytes, row-major; data_offsets [begin, end) are relative to
//            the start of the data, and the tensors tile it with no gap, overlap or trailing byte.

/** The element types of the format. F16, BF16 and the F8 types are carried as raw bits. */
export type SafetensorsDType =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

/** The typed arrays that hold tensor data (16-bit floats as Uint16Array bits, 8-bit floats and bools as Uint8Array). */
export type SafetensorsArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

type ArrayCtor = { new (buffer: ArrayBuffer): SafetensorsArray; readonly BYTES_PER_ELEMENT: number; readonly name: string };

const DTYPES: Record<SafetensorsDType, ArrayCtor> = {
  BOOL: Uint8Array, U8: Uint8Array, I8: Int8Array, F8_E5M2: Uint8Array, F8_E4M3: Uint8Array,
  I16: Int16Array, U16: Uint16Array, F16: Uint16Array, BF16: Uint16Array,
  I32: Int32Array, U32: Uint32Array, F32: Float32Array, F64: Float64Array, I64: BigInt64Array, U64: BigUint64Array,
};

/** The dtype a typed array stands for when none is given (16-bit floats, bools and 8-bit floats must be named). */
const DEFAULT_DTYPE = new Map<ArrayCtor, SafetensorsDType>([
  [Uint8Array, 'U8'], [Int8Array, 'I8'], [Uint16Array, 'U16'], [Int16Array, 'I16'], [Uint32Array, 'U32'], [Int32Array, 'I32'],
  [Float32Array, 'F32'], [Float64Array, 'F64'], [BigInt64Array, 'I64'], [BigUint64Array, 'U64'],
]);

/** The reference implementation's bound on the header, which keeps a corrupt length from allocating gigabytes. */
const MAX_HEADER_BYTES = 100_000_000;

/** A decoded tensor. */
export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: SafetensorsArray;
}

/** A tensor to encode: `dtype` defaults to the one of the typed array (F32 for Float32Array, …). */
export interface SafetensorsInput {
  dtype?: SafetensorsDType;
  shape: readonly number[];
  data: SafetensorsArray;
}

/** A decoded file: the tensors in the order of their data, and the string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** Named values, as a Map (its order kept) or a plain object. */
export type Named<T> = ReadonlyMap<string, T> | Readonly<Record<string, T>>;

/** The [name, value] pairs of a {@link Named}, typed (`instanceof Map` alone narrows to Map<any, any>). */
export function namedEntries<T>(named: Named<T>): [string, T][] {
  return named instanceof Map ? [...(named as ReadonlyMap<string, T>)] : Object.entries(named as Readonly<Record<string, T>>);
}

/** A checkpoint that does not follow the format; the message starts with `checkpoint corrupt:`. */
export class CheckpointError extends Error {
  constructor(source: string, problem: string) {
    super(`checkpoint corrupt: ${source}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

// The data are copied as they lie in memory, which is the format's little-endian order on every host
// that WebGPU runs on; refuse a big-endian one rather than write byte-swapped files.
function checkHostEndianness(op: string): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error(`${op}: big-endian hosts are not supported`);
}

const isDType = (d: unknown): d is SafetensorsDType => typeof d === 'string' && Object.hasOwn(DTYPES, d);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Encodes tensors and string metadata as a safetensors file. The data follow the order of the header's
 * keys, which is the order of `tensors` (insertion order of a Map or of an object's keys) except that
 * JSON puts integer-like names ("0", "12") first. Throws on a bad name, shape, dtype or data length, or
 * non-string metadata.
 */
export function encodeSafetensors(
  tensors: Named<SafetensorsInput>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  checkHostEndianness('encodeSafetensors');
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`encodeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const data = new Map<string, SafetensorsArray>();
  for (const [name, t] of namedEntries(tensors)) {
    if (name === '' || name === '__metadata__') throw new Error(`encodeSafetensors: "${name}" cannot name a tensor`);
    const ctor = t.data.constructor as ArrayCtor;
    const dtype = t.dtype ?? DEFAULT_DTYPE.get(ctor);
    if (!isDType(dtype)) throw new Error(`encodeSafetensors: tensor "${name}": unknown dtype ${String(t.dtype ?? ctor.name)}`);
    if (DTYPES[dtype] !== ctor) throw new Error(`encodeSafetensors: tensor "${name}": ${dtype} data must be a ${DTYPES[dtype].name}, got a ${ctor.name}`);
    if (!t.shape.every(isCount)) throw new Error(`encodeSafetensors: tensor "${name}": invalid shape ${JSON.stringify(t.shape)}`);
    if (t.data.length !== elements(t.shape)) {
      throw new Error(`encodeSafetensors: tensor "${name}": ${t.data.length} elements do not fill shape [${t.shape.join(', ')}]`);
    }
    // defineProperty, not assignment: a tensor named "__proto__" must become a key, not a prototype.
    Object.defineProperty(header, name, { value: { dtype, shape: [...t.shape], data_offsets: [0, 0] }, enumerable: true });
    data.set(name, t.data);
  }
  // Offsets in the order JSON.stringify will write the keys, so the data follow the header's order.
  const order = Object.keys(header).filter((k) => k !== '__metadata__');
  let offset = 0;
  for (const name of order) {
    const bytes = data.get(name)!.byteLength;
    (header[name] as { data_offsets: number[] }).data_offsets = [offset, offset + bytes];
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerBytes + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes);
  let at = 8 + headerBytes;
  for (const name of order) {
    const d = data.get(name)!;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, value: unknown, dataBytes: number, fail: (problem: string) => never): Entry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`tensor "${name}": its header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDType(dtype)) fail(`tensor "${name}": unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`tensor "${name}": invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    fail(`tensor "${name}": invalid data_offsets ${JSON.stringify(offsets)} (expected [begin, end] with 0 ≤ begin ≤ end)`);
  }
  const [begin, end] = offsets as [number, number];
  const need = elements(shape) * DTYPES[dtype].BYTES_PER_ELEMENT;
  if (end - begin !== need) fail(`tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${shape.join(', ')}] of ${dtype} needs ${need}`);
  if (end > dataBytes) fail(`tensor "${name}": data_offsets [${begin}, ${end}] lie outside the ${dataBytes} data bytes of the file (truncated?)`);
  return { name, dtype, shape, begin, end };
}

/**
 * Decodes a safetensors file, checking everything: the header length against the file and the 100 MB
 * bound, UTF-8 and JSON, each entry's dtype, shape and data_offsets, that each tensor's byte count is
 * prod(shape) × itemsize, and that the tensors tile the data exactly. Throws a {@link CheckpointError}
 * naming `source` and the problem. Each tensor's data is a copy, so it is aligned for its typed array.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  checkHostEndianness('decodeSafetensors');
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointError(source, problem);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes, too short for the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) fail(`header length ${n} exceeds the ${bytes.length - 8} bytes after the length field (truncated, or not a safetensors file)`);
  const headerBytes = Number(n);
  if (headerBytes > MAX_HEADER_BYTES) fail(`header length ${headerBytes} exceeds the format's ${MAX_HEADER_BYTES}-byte limit`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes));
  } catch {
    return fail('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the header is not a JSON object');

  const dataStart = 8 + headerBytes;
  const dataBytes = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
        fail('__metadata__ must be an object of strings');
      }
      metadata = value as Record<string, string>;
    } else {
      entries.push(parseEntry(name, value, dataBytes, fail));
    }
  }
  // The format fixes no order of the header keys (and JSON objects keep none for integer-like names),
  // so contiguity is checked in the order of the data.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor) {
      fail(`tensor "${e.name}" starts at data byte ${e.begin}, but the previous tensor ends at ${cursor} (the data must be contiguous: ${e.begin > cursor ? 'a gap' : 'an overlap'})`);
    }
    cursor = e.end;
  }
  if (cursor !== dataBytes) fail(`${dataBytes - cursor} bytes after the last tensor's data (the tensors end at data byte ${cursor})`);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const copy = bytes.slice(dataStart + e.begin, dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: new DTYPES[e.dtype](copy.buffer) });
  }
  return { tensors, metadata };
}
