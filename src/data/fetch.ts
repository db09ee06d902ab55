// Datasets over HTTP, for web pages (and any runtime with fetch): the same files the Node loaders read
// from disk, fetched, gunzipped when they are gzip (DecompressionStream), and parsed by the platform-
// neutral parsers. Errors name the URL.
import { CIFAR10_FILES, CIFAR100_FILES, parseCifar, type Cifar, type Cifar100Labels } from './cifar.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_FILES, type FashionMnist } from './fashion-mnist.js';
import { imageSplit, type ImageSplit } from './idx.js';
import { medmnistClassesFor, medmnistFromArrays, type MedMnist } from './medmnist.js';
import { parseNpz } from './npz.js';
import { concatSplits } from './split.js';
import { streamInflateRaw } from './zip.js';

/** The bytes at `url`, gunzipped when they start with the gzip signature. */
export async function fetchBytes(url: string, init?: RequestInit): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new Error(`cannot fetch ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`${url}: cannot gunzip (${(e as Error).message}): the file is corrupt or truncated`, { cause: e });
  }
}

const join = (base: string, name: string) => `${base.replace(/\/+$/, '')}/${name}`;

/**
 * One IDX split from `<base>/<images>` and `<base>/<labels>` (`suffix` '.gz' for the gzipped files, as
 * distributed).
 */
async function fetchIdxSplit(base: string, names: { images: string; labels: string }, classes: number, suffix: string): Promise<ImageSplit> {
  const [iu, lu] = [join(base, names.images + suffix), join(base, names.labels + suffix)];
  const [images, labels] = await Promise.all([fetchBytes(iu), fetchBytes(lu)]);
  return imageSplit(images, labels, classes, { images: iu, labels: lu });
}

/** Fashion-MNIST (or MNIST: the same file names) from the four IDX files under `base` (gzipped by default). */
export async function fetchFashionMnist(base: string, opts: { gzipped?: boolean } = {}): Promise<FashionMnist> {
  const suffix = opts.gzipped === false ? '' : '.gz';
  const classes = FASHION_MNIST_CLASSES.length;
  const [train, test] = await Promise.all([
    fetchIdxSplit(base, FASHION_MNIST_FILES.train, classes, suffix),
    fetchIdxSplit(base, FASHION_MNIST_FILES.test, classes, suffix),
  ]);
  return { train, test };
}

/** CIFAR-10 or CIFAR-100 (binary version) from its files under `base`. */
export async function fetchCifar(base: string, variant: 'cifar10' | 'cifar100', opts: { labels?: Cifar100Labels } = {}): Promise<Cifar> {
  const files = variant === 'cifar10' ? CIFAR10_FILES : CIFAR100_FILES;
  const split = async (names: readonly string[]) => {
    const urls = names.map((n) => join(base, n));
    const parts = await Promise.all(urls.map(async (u) => parseCifar(await fetchBytes(u), variant, u, { labels: opts.labels })));
    return concatSplits(parts, urls);
  };
  const [train, test] = await Promise.all([split(files.train), split(files.test)]);
  return { train, test };
}

/** A MedMNIST v2 .npz at `url`; the class count comes from its file name unless given. */
export async function fetchMedMnist(url: string, opts: { numClasses?: number } = {}): Promise<MedMnist> {
  const numClasses = opts.numClasses ?? medmnistClassesFor(new URL(url, 'http://x/').pathname);
  if (numClasses === undefined) throw new Error(`MedMNIST ${url}: unknown dataset name; pass opts.numClasses`);
  return medmnistFromArrays(await parseNpz(await fetchBytes(url), `MedMNIST ${url}`, streamInflateRaw), numClasses, url);
}
