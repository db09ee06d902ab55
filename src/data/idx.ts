// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
// 0x00 0x00 <element type> <number of dimensions>, one big-endian uint32 per dimension, then the elements
// in row-major order. Pure functions on bytes, so browsers (which fetch and decompress the files their own
// way) use the same parser as the Node loader in ./node/.
import { checkLabels } from './split.js';

/** Magic number of an IDX file of unsigned bytes with 3 dimensions: images [count, height, width]. */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of an IDX file of unsigned bytes with 1 dimension: labels [count]. */
export const IDX_LABELS_MAGIC = 0x00000801;

const UBYTE = 0x08;

/** A parsed IDX array of unsigned bytes. */
export interface IdxArray {
  dims: number[];
  /** The elements, row-major; a view into the parsed bytes (no copy). */
  data: Uint8Array;
}

function hex(magic: number): string {
  return `0x${magic.toString(16).padStart(8, '0')}`;
}

/**
 * Parses an IDX file of unsigned bytes. When `expectedMagic` is given the magic number must equal it.
 * Throws, naming `source`, on a wrong magic number, an element type other than unsigned byte, or a size
 * that does not match the dimensions (a truncated file, or trailing bytes): nothing is silently cut.
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data', expectedMagic?: number): IdxArray {
  if (bytes.length < 4) throw new Error(`${source}: ${bytes.length} bytes, too short for an IDX header (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    const kind = expectedMagic === IDX_IMAGES_MAGIC ? 'images (unsigned bytes, 3 dimensions)' : expectedMagic === IDX_LABELS_MAGIC ? 'labels (unsigned bytes, 1 dimension)' : 'data';
    throw new Error(`${source}: wrong magic number ${hex(magic)}, expected ${hex(expectedMagic)} for IDX ${kind}`);
  }
  if (magic >>> 16 !== 0) throw new Error(`${source}: wrong magic number ${hex(magic)}: not an IDX file (the first two bytes must be zero)`);
  const type = (magic >>> 8) & 0xff;
  if (type !== UBYTE) throw new Error(`${source}: IDX element type 0x${type.toString(16).padStart(2, '0')} is not supported (only unsigned bytes, 0x08)`);
  const rank = magic & 0xff;
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new Error(`${source}: ${bytes.length} bytes, too short for the header of ${rank} dimensions (${headerBytes} bytes; truncated?)`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + size;
  if (bytes.length !== expected) {
    const why = bytes.length < expected ? 'truncated' : 'trailing bytes after the data';
    throw new Error(`${source}: size mismatch: dimensions [${dims.join(', ')}] need ${expected} bytes, the file has ${bytes.length} (${why})`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * Images and labels of one split of a dataset, as every loader returns them (IDX, CIFAR, MedMNIST): pixels
 * 0..255 in NCHW order, one label byte each.
 */
export interface ImageSplit {
  /** count × channels × height × width pixel bytes, row-major (NCHW: one plane per channel). */
  images: Uint8Array;
  /** One class index per image, each < the dataset's number of classes. */
  labels: Uint8Array;
  count: number;
  /** 1 for grey-scale (IDX), 3 for RGB planes R, G, B. */
  channels: number;
  height: number;
  width: number;
}

/** Where the bytes of a split came from, for error messages. */
export interface SplitSources {
  images: string;
  labels: string;
}

/**
 * Builds a split from the bytes of an IDX images file and an IDX labels file, checking both formats,
 * that they hold the same number of items, and that every label is below `numClasses`.
 */
export function imageSplit(imagesBytes: Uint8Array, labelsBytes: Uint8Array, numClasses: number, sources: SplitSources = { images: 'images', labels: 'labels' }): ImageSplit {
  const images = parseIdx(imagesBytes, sources.images, IDX_IMAGES_MAGIC);
  const labels = parseIdx(labelsBytes, sources.labels, IDX_LABELS_MAGIC);
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new Error(`${sources.labels}: count mismatch: ${labels.dims[0]} labels for ${count} images in ${sources.images}`);
  }
  checkLabels(labels.data, numClasses, sources.labels);
  return { images: images.data, labels: labels.data, count, channels: 1, height, width };
}
