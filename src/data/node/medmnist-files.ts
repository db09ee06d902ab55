// Node-only: .npz archives and MedMNIST from disk. Parsing stays in ../zip.ts, ../npy.ts, ../medmnist.ts.
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';
import { MEDMNIST_CLASSES, MEDMNIST_URL, medmnistClassesFor, medmnistFromArrays, type MedMnist } from '../medmnist.js';
import type { NpyArray } from '../npy.js';
import { parseNpz } from '../npz.js';
import { readBytes } from '../../io/node/files.js';
import { pathExists } from './idx-files.js';

// On libuv's thread pool, as the gunzip of ./idx-files.ts: MedMNIST archives reach hundreds of MB, and a
// synchronous inflate would stall the JS thread that feeds Dawn.
const inflateRawAsync = promisify(inflateRaw);

/** Raw DEFLATE for the ZIP reader, with node:zlib, which stops at `maxBytes` of output. */
export async function nodeInflateRaw(compressed: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  try {
    const out = await inflateRawAsync(compressed, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`it inflates to more than ${maxBytes} bytes`);
    throw e;
  }
}

async function readExisting(path: string, loader: string, hint: string): Promise<Uint8Array> {
  if (!(await pathExists(path))) throw new Error(`${loader}: ${path} does not exist. ${hint}`);
  return readBytes(path);
}

/** The arrays of the .npz file at `path` by name (see parseNpz). */
export async function loadNpz(path: string): Promise<Map<string, NpyArray>> {
  return parseNpz(await readExisting(path, 'loadNpz', 'loadNpz needs an .npz file written by np.savez or np.savez_compressed.'), path, nodeInflateRaw);
}

/**
 * Loads a MedMNIST v2 dataset (e.g. breastmnist.npz, pneumoniamnist_64.npz) with its train, val and test
 * splits as NCHW images. The number of classes comes from the file name (MEDMNIST_CLASSES) unless
 * `opts.numClasses` gives it. Throws an error naming the file and the problem when the file is missing,
 * corrupt (ZIP, CRC-32, .npy) or holds arrays of the wrong type, shape or label range.
 */
export async function loadMedMnist(path: string, opts: { numClasses?: number } = {}): Promise<MedMnist> {
  const name = basename(path);
  const hint = `Download ${name.endsWith('.npz') ? name : 'the dataset\'s .npz'} (MedMNIST v2) from ${MEDMNIST_URL} and put it there, or pass its path to loadMedMnist(path).`;
  const bytes = await readExisting(path, 'MedMNIST', hint);
  const numClasses = opts.numClasses ?? medmnistClassesFor(name);
  if (numClasses === undefined) {
    throw new Error(`MedMNIST ${path}: unknown dataset '${name}' (known: ${Object.keys(MEDMNIST_CLASSES).join(', ')}); pass opts.numClasses`);
  }
  return medmnistFromArrays(await parseNpz(bytes, `MedMNIST ${path}`, nodeInflateRaw), numClasses, path);
}
