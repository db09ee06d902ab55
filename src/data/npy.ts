// NumPy's .npy format (numpy.lib.format, versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a version,
// the header length (2 bytes in 1.0, 4 after), a Python dict literal {'descr': ..., 'fortran_order': ...,
// 'shape': (...)} padded with spaces, then the elements. Only the element types the image loaders need
// are accepted. Platform-neutral on Uint8Array.

/** The element types accepted: unsigned bytes, little-endian int32 and int64. */
export type NpyDType = '|u1' | '<i4' | '<i8';

const ITEM_BYTES: Record<NpyDType, number> = { '|u1': 1, '<i4': 4, '<i8': 8 };

/** A parsed .npy array, C order. */
export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  /** The elements' bytes, row-major; a view into the parsed bytes (no copy; maybe unaligned). */
  data: Uint8Array;
}

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** Parses the Python literal of a .npy header: dicts, tuples, lists, strings, ints, True/False/None. */
function parsePyLiteral(text: string, source: string): PyValue {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${source}: cannot parse the .npy header ${JSON.stringify(text.trim())}: ${why} at character ${i}`);
  };
  const space = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (): PyValue => {
    space();
    const c = text[i];
    if (c === '{' || c === '(' || c === '[') {
      const close = c === '{' ? '}' : c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      const dict: Record<string, PyValue> = {};
      for (;;) {
        space();
        if (text[i] === close) {
          i++;
          return c === '{' ? dict : items;
        }
        const item = value();
        if (c === '{') {
          if (typeof item !== 'string') fail('a dict key that is not a string');
          space();
          if (text[i++] !== ':') fail("':' expected");
          dict[item as string] = value();
        } else {
          items.push(item);
        }
        space();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`',' or '${close}' expected`);
      }
    }
    if (c === "'" || c === '"') {
      const endQuote = text.indexOf(c, i + 1);
      if (endQuote < 0) fail('unterminated string');
      const s = text.slice(i + 1, endQuote);
      i = endQuote + 1;
      return s;
    }
    const word = /^(-?\d+|True|False|None)/.exec(text.slice(i));
    if (!word) return fail('unexpected character');
    i += word[0].length;
    return word[0] === 'True' ? true : word[0] === 'False' ? false : word[0] === 'None' ? null : Number(word[0]);
  };
  const v = value();
  space();
  if (i !== text.length) fail('trailing characters');
  return v;
}

/**
 * Parses a .npy file. Throws, naming `source`, on a wrong magic or version, a malformed header, Fortran
 * order, a dtype other than |u1, <i4, <i8 (big-endian ones included), or a data length that does not match
 * the shape (truncated, or trailing bytes).
 */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, k) => bytes[k] !== b)) {
    throw new Error(`${source}: not a .npy file: the magic string \\x93NUMPY is missing`);
  }
  const major = bytes[6];
  if (major < 1 || major > 3) throw new Error(`${source}: .npy version ${major}.${bytes[7]} is not supported (1.0, 2.0, 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new Error(`${source}: truncated .npy header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) throw new Error(`${source}: the .npy header of ${headerLen} bytes runs past the end of the ${bytes.length}-byte file (truncated)`);
  // Versions 1 and 2 encode the header in latin-1, 3 in UTF-8; only ASCII matters for what is read here.
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenBytes, dataStart));
  const header = parsePyLiteral(text, source);
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error(`${source}: the .npy header is not a dict: ${text.trim()}`);
  const { descr, fortran_order: fortran, shape } = header;
  if (descr === undefined) throw new Error(`${source}: the .npy header has no 'descr': ${text.trim()}`);
  if (typeof descr !== 'string') throw new Error(`${source}: unsupported dtype ${JSON.stringify(descr)} (structured arrays are not supported; expected |u1, <i4 or <i8)`);
  if (fortran !== false) {
    throw new Error(fortran === true
      ? `${source}: fortran_order is True: Fortran-ordered arrays are not supported (save a C-ordered array, np.ascontiguousarray)`
      : `${source}: the .npy header has no boolean 'fortran_order'`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${source}: the .npy header's 'shape' is not a tuple of sizes: ${text.trim()}`);
  }
  if (descr.startsWith('>')) throw new Error(`${source}: big-endian dtype '${descr}' is not supported (expected little-endian |u1, <i4 or <i8)`);
  if (!(descr in ITEM_BYTES)) throw new Error(`${source}: unsupported dtype '${descr}' (expected |u1, <i4 or <i8)`);
  const dtype = descr as NpyDType;
  const dims = shape as number[];
  const need = dims.reduce((a, b) => a * b, 1) * ITEM_BYTES[dtype];
  const have = bytes.length - dataStart;
  if (have !== need) {
    const why = have < need ? 'truncated' : 'trailing bytes after the data';
    throw new Error(`${source}: data length mismatch: shape (${dims.join(', ')}) of ${dtype} needs ${need} bytes, found ${have} (${why})`);
  }
  return { dtype, shape: dims, data: bytes.subarray(dataStart) };
}

/**
 * The elements of an integer array as numbers. int64 values beyond ±2^53 come out rounded, which a range
 * check on the result still refuses.
 */
export function npyNumbers(arr: NpyArray): Float64Array {
  const n = arr.data.length / ITEM_BYTES[arr.dtype];
  if (arr.dtype === '|u1') return Float64Array.from(arr.data);
  // A DataView, as a member stored in a ZIP archive may start at any offset.
  const view = new DataView(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Float64Array(n);
  if (arr.dtype === '<i4') for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
  else for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true));
  return out;
}
