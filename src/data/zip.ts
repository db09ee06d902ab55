// A small ZIP reader (PKWARE APPNOTE 6.3): the central directory lists the members, each local header
// precedes its data. Members stored (method 0) or deflated (method 8); ZIP64 sizes and offsets, which
// numpy writes for every .npz member (force_zip64). Platform-neutral on Uint8Array: the raw-deflate
// decoder is injected (node:zlib in Node, DecompressionStream('deflate-raw') in browsers).
import { crc32 } from './crc32.js';

/**
 * Decodes a raw DEFLATE stream (RFC 1951, no zlib or gzip wrapper), refusing (throwing) as soon as the
 * output would pass `maxBytes`: a small archive that claims a small member but inflates to gigabytes
 * costs no more than the claim.
 */
export type InflateRaw = (compressed: Uint8Array, maxBytes: number) => Uint8Array | Promise<Uint8Array>;

/** One member as the central directory describes it. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated (others are refused when read). */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the member's local header in the archive. */
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

function u64(view: DataView, at: number, what: string, source: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${source}: ${what} ${v} is too large`);
  return Number(v);
}

/** Where the central directory is and how many entries it has, from the (ZIP64) end record. */
function findCentralDirectory(bytes: Uint8Array, view: DataView, source: string): { offset: number; size: number; entries: number } {
  // The end record (22 bytes + a comment of at most 65535) is the last thing in the file.
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - U16_MAX); i--) {
    if (view.getUint32(i, true) === EOCD && i + 22 + view.getUint16(i + 20, true) <= bytes.length) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`${source}: no ZIP end-of-central-directory record in ${bytes.length} bytes: not a ZIP file, or truncated`);
  if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0) {
    throw new Error(`${source}: multi-volume ZIP archives are not supported`);
  }
  let entries = view.getUint16(end + 10, true);
  let size = view.getUint32(end + 12, true);
  let offset = view.getUint32(end + 16, true);
  if (entries === U16_MAX || size === U32_MAX || offset === U32_MAX) {
    const loc = end - 20;
    if (loc < 0 || view.getUint32(loc, true) !== ZIP64_LOCATOR) throw new Error(`${source}: ZIP64 end record expected (the end record holds 0xffff… placeholders) but its locator is missing`);
    const at = u64(view, loc + 8, 'ZIP64 end record offset', source);
    if (at + 56 > loc || view.getUint32(at, true) !== ZIP64_EOCD) throw new Error(`${source}: no ZIP64 end record at offset ${at} (corrupt or truncated)`);
    entries = u64(view, at + 32, 'entry count', source);
    size = u64(view, at + 40, 'central directory size', source);
    offset = u64(view, at + 48, 'central directory offset', source);
  }
  if (offset + size > end) {
    throw new Error(`${source}: the central directory (${size} bytes at offset ${offset}) runs past its end record at ${end} (corrupt or truncated)`);
  }
  return { offset, size, entries };
}

/** Sizes and offset that the 32-bit fields hold as 0xffffffff placeholders, from the ZIP64 extra field (id 1). */
function zip64Fields(view: DataView, extra: number, extraEnd: number, want: { size: boolean; compressed: boolean; offset: boolean }, source: string, name: string) {
  for (let at = extra; at + 4 <= extraEnd;) {
    const id = view.getUint16(at, true);
    const len = view.getUint16(at + 2, true);
    if (id === 1) {
      let p = at + 4;
      const next = (what: string) => {
        if (p + 8 > at + 4 + len) throw new Error(`${source}: ZIP member '${name}': ZIP64 extra field too short for the ${what}`);
        const v = u64(view, p, what, source);
        p += 8;
        return v;
      };
      // The order is fixed; only the fields whose 32-bit value is the placeholder are present.
      return {
        size: want.size ? next('size') : undefined,
        compressed: want.compressed ? next('compressed size') : undefined,
        offset: want.offset ? next('local header offset') : undefined,
      };
    }
    at += 4 + len;
  }
  throw new Error(`${source}: ZIP member '${name}': sizes are ZIP64 placeholders but there is no ZIP64 extra field`);
}

const utf8 = new TextDecoder('utf-8');

/** The members of a ZIP archive, from its central directory. Throws, naming `source`, on a malformed archive. */
export function listZip(bytes: Uint8Array, source: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cd = findCentralDirectory(bytes, view, source);
  const out: ZipEntry[] = [];
  let at = cd.offset;
  for (let k = 0; k < cd.entries; k++) {
    if (at + 46 > cd.offset + cd.size || view.getUint32(at, true) !== CENTRAL) {
      throw new Error(`${source}: central directory entry ${k} of ${cd.entries} at offset ${at} is missing or has a wrong signature (corrupt)`);
    }
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const name = utf8.decode(bytes.subarray(at + 46, at + 46 + nameLen));
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    let localOffset = view.getUint32(at + 42, true);
    if (compressedSize === U32_MAX || size === U32_MAX || localOffset === U32_MAX) {
      const extra = at + 46 + nameLen;
      const z = zip64Fields(view, extra, extra + extraLen, { size: size === U32_MAX, compressed: compressedSize === U32_MAX, offset: localOffset === U32_MAX }, source, name);
      size = z.size ?? size;
      compressedSize = z.compressed ?? compressedSize;
      localOffset = z.offset ?? localOffset;
    }
    out.push({ name, method: view.getUint16(at + 10, true), flags: view.getUint16(at + 8, true), crc32: view.getUint32(at + 16, true), compressedSize, size, localOffset });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/**
 * The uncompressed bytes of one member (a view into `bytes` when stored). Throws, naming `source` and the
 * member, on an encrypted member, an unsupported method, data past the end of the archive, a size that
 * differs from the directory's, or a CRC-32 mismatch.
 */
export async function readZipEntry(bytes: Uint8Array, entry: ZipEntry, source: string, inflate: InflateRaw): Promise<Uint8Array> {
  const where = `${source}: ZIP member '${entry.name}'`;
  if (entry.flags & 1) throw new Error(`${where} is encrypted (not supported)`);
  if (entry.method !== 0 && entry.method !== 8) throw new Error(`${where}: compression method ${entry.method} is not supported (only 0 stored and 8 deflated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL) {
    throw new Error(`${where}: no local header at offset ${at} (corrupt or truncated)`);
  }
  // Sizes come from the central directory: the local copies may be zero (data descriptor) or placeholders.
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) throw new Error(`${where}: data (${entry.compressedSize} bytes at offset ${start}) runs past the end of the ${bytes.length}-byte archive (truncated)`);
  const raw = bytes.subarray(start, end);
  let data: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new Error(`${where}: stored, but its sizes differ (${entry.compressedSize} vs ${entry.size}; corrupt)`);
    data = raw;
  } else {
    try {
      // The directory's size caps the output; one byte more shows a member larger than it says.
      data = await inflate(raw, entry.size + 1);
    } catch (e) {
      throw new Error(`${where}: cannot inflate (${(e as Error).message}): corrupt or truncated`);
    }
  }
  if (data.length !== entry.size) throw new Error(`${where}: ${data.length} bytes after decompression, the directory says ${entry.size} (corrupt)`);
  const crc = crc32(data);
  if (crc !== entry.crc32) throw new Error(`${where}: CRC-32 mismatch: stored ${hex(entry.crc32)}, computed ${hex(crc)} (corrupt)`);
  return data;
}

/** Every member of a ZIP archive by name, checked (see {@link readZipEntry}). Refuses duplicate names. */
export async function readZip(bytes: Uint8Array, source: string, inflate: InflateRaw): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const entry of listZip(bytes, source)) {
    if (out.has(entry.name)) throw new Error(`${source}: ZIP member '${entry.name}' appears twice`);
    out.set(entry.name, await readZipEntry(bytes, entry, source, inflate));
  }
  return out;
}

/**
 * Raw DEFLATE with the web platform's DecompressionStream('deflate-raw'): browsers, and Node ≥ 20. In Node
 * prefer node:zlib (nodeInflateRaw), which does not go through a stream.
 */
export async function streamInflateRaw(compressed: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const stream = new Blob([compressed as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`it inflates to more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
