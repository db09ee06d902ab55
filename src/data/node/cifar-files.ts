// Node-only: CIFAR-10 / CIFAR-100 binary files from disk. Parsing stays in ../cifar.ts.
import { join } from 'node:path';
import { CIFAR_STANDARD_RECORDS, CIFAR10_FILES, CIFAR100_FILES, parseCifar, type Cifar, type Cifar100Labels, type CifarVariant } from '../cifar.js';
import type { ImageSplit } from '../idx.js';
import { concatSplits } from '../split.js';
import { findDataFile, pathExists, readMaybeGzip } from './idx-files.js';

export interface CifarLoadOptions {
  /**
   * Check that each file holds its standard number of records (10 000 per CIFAR-10 batch, 50 000 / 10 000
   * for CIFAR-100); default true. False accepts any whole number of records (small test files, subsets).
   */
  standardCounts?: boolean;
}

export interface Cifar100LoadOptions extends CifarLoadOptions {
  /** 'fine' (100 classes, the default) or 'coarse' (20 superclasses). */
  labels?: Cifar100Labels;
}

const SOURCES = {
  cifar10: {
    files: CIFAR10_FILES,
    folder: 'cifar-10-batches-bin',
    env: 'CIFAR10_DIR',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    loader: 'loadCifar10',
  },
  cifar100: {
    files: CIFAR100_FILES,
    folder: 'cifar-100-binary',
    env: 'CIFAR100_DIR',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    loader: 'loadCifar100',
  },
} as const;

function hint(variant: CifarVariant): string {
  const s = SOURCES[variant];
  return `Download the binary version ${s.url}, unpack it (tar xzf), and pass the ${s.folder} directory ` +
    `(or its parent) to ${s.loader}(dir), or set the ${s.env} environment variable.`;
}

/** `dir` itself when it holds the first file, else its unpacked-tarball subfolder when that does. */
async function resolveDir(dir: string, variant: CifarVariant): Promise<string> {
  const { files, folder } = SOURCES[variant];
  const first = files.train[0];
  if (await pathExists(join(dir, first)) || await pathExists(join(dir, `${first}.gz`))) return dir;
  const nested = join(dir, folder);
  return (await pathExists(nested)) ? nested : dir;
}

async function loadCifar(variant: CifarVariant, dir: string | undefined, opts: Cifar100LoadOptions): Promise<Cifar> {
  const s = SOURCES[variant];
  // An empty variable counts as unset, as shells make it easy to export one by accident.
  const given = dir ?? (process.env[s.env] || undefined);
  if (given === undefined) throw new Error(`${s.loader}: no directory given and ${s.env} is not set. ${hint(variant)}`);
  const root = await resolveDir(given, variant);
  const standard = opts.standardCounts ?? true;
  const split = async (names: readonly string[]): Promise<ImageSplit> => {
    // Looked up one after another, so a missing file is always the first one missing, whatever the timing.
    const paths: string[] = [];
    for (const n of names) paths.push(await findDataFile(root, n, hint(variant)));
    // Read together, parsed in order: the first bad file is the one reported, whatever the read timing.
    const bytes = await Promise.all(paths.map(readMaybeGzip));
    const parts = paths.map((path, i) => parseCifar(bytes[i], variant, path, {
      labels: opts.labels,
      expectedRecords: standard ? CIFAR_STANDARD_RECORDS[names[i]] : undefined,
    }));
    return concatSplits(parts, paths);
  };
  return { train: await split(s.files.train), test: await split(s.files.test) };
}

/**
 * Loads CIFAR-10 (binary version) from `dir`, else `$CIFAR10_DIR`: the folder cifar-10-batches-bin, or
 * the folder it was unpacked into. Each file may also be gzipped (`.gz`). Throws an error naming the file
 * and the problem when a file is missing, truncated, not of its standard size, or holds a label ≥ 10.
 */
export function loadCifar10(dir?: string, opts: CifarLoadOptions = {}): Promise<Cifar> {
  return loadCifar('cifar10', dir, opts);
}

/**
 * Loads CIFAR-100 (binary version) from `dir`, else `$CIFAR100_DIR`, with fine (default) or coarse
 * labels; as {@link loadCifar10} otherwise (fine labels must be < 100, coarse < 20).
 */
export function loadCifar100(dir?: string, opts: Cifar100LoadOptions = {}): Promise<Cifar> {
  return loadCifar('cifar100', dir, opts);
}
