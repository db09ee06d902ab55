// Node-only: reading dataset files from disk, gzipped or raw, and the IDX splits. Parsing stays in ../idx.ts.
import { access } from 'node:fs/promises';
import { readBytes } from '../../io/node/files.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { imageSplit, type ImageSplit } from '../idx.js';

// The asynchronous gunzip runs on libuv's thread pool: a synchronous one would block the JS thread for a
// quarter of a second on the 26 MB training images, which Dawn does not tolerate while it has work queued.
const gunzipAsync = promisify(gunzip);

/** Whether `path` exists (any kind of file). */
export const pathExists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** The bytes of a file, gunzipped when it starts with the gzip signature (whatever its name). */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const raw = await readBytes(path);
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    const out = await gunzipAsync(raw);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new Error(`${path}: cannot gunzip (${(e as Error).message}): the file is corrupt or truncated`);
  }
}

/**
 * Finds `<dir>/<base>.gz` or `<dir>/<base>` (in this order). Throws when neither exists, naming the
 * directory and both names; `hint` (e.g. what to install or download) ends the message.
 */
export async function findDataFile(dir: string, base: string, hint: string): Promise<string> {
  for (const name of [`${base}.gz`, base]) {
    const path = join(dir, name);
    if (await pathExists(path)) return path;
  }
  const where = (await pathExists(dir)) ? `${dir} has neither ${base}.gz nor ${base}` : `directory ${dir} does not exist (looking for ${base}.gz or ${base})`;
  throw new Error(`${where}. ${hint}`);
}

/** Reads and checks one split from the IDX files `<dir>/<names.images>[.gz]` and `<dir>/<names.labels>[.gz]`. */
export async function loadImageSplit(dir: string, names: { images: string; labels: string }, numClasses: number, hint: string): Promise<ImageSplit> {
  const imagesPath = await findDataFile(dir, names.images, hint);
  const labelsPath = await findDataFile(dir, names.labels, hint);
  const [images, labels] = await Promise.all([readMaybeGzip(imagesPath), readMaybeGzip(labelsPath)]);
  return imageSplit(images, labels, numClasses, { images: imagesPath, labels: labelsPath });
}
