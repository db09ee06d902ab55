// The live demos: builds the static site into dist/demo (each demo/*.ts page bundled for the browser by
// esbuild, with the WGSL embedded; the HTML and CSS copied; Fashion-MNIST's IDX files copied from
// Debian's dataset-fashion-mnist or --data-dir) and serves it on localhost. No server-side code: any
// static file server will do.
//   npm run demo [-- --port 8080] [--data-dir DIR] [--build-only] [--no-data]   (npm run build: --build-only --no-data)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DEMO_OUT = join(root, 'dist', 'demo');
const DEFAULT_DATA = '/usr/share/datasets/fashion-mnist';
const FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

/** Builds the site into dist/demo; returns its folder. Throws, naming what is missing, on failure. */
export async function buildDemo({ dataDir = process.env.FASHION_MNIST_DIR || DEFAULT_DATA, withData = true } = {}) {
  const { build } = await import('esbuild');
  spawnSync(process.execPath, [join(root, 'scripts', 'embed-shaders.mjs')], { stdio: 'inherit' });
  // One bundle per page: demo/<name>.ts beside demo/<name>.html (the other modules are bundled into them).
  const files = readdirSync(join(root, 'demo'));
  const pages = files.filter((f) => f.endsWith('.ts') && files.includes(f.replace(/\.ts$/, '.html')));
  mkdirSync(DEMO_OUT, { recursive: true });
  await build({
    entryPoints: pages.map((p) => join(root, 'demo', p)),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', outdir: DEMO_OUT, logLevel: 'warning',
  });
  for (const f of readdirSync(join(root, 'demo'))) {
    if (/\.(html|css|svg)$/.test(f)) copyFileSync(join(root, 'demo', f), join(DEMO_OUT, f));
  }
  if (!withData) return DEMO_OUT;
  const data = join(DEMO_OUT, 'data', 'fashion-mnist');
  mkdirSync(data, { recursive: true });
  for (const f of FILES) {
    const src = join(dataDir, f);
    if (!existsSync(src)) {
      throw new Error(`demo: ${src} is missing: install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or give --data-dir DIR holding the four gzipped IDX files`);
    }
    copyFileSync(src, join(data, f));
  }
  return DEMO_OUT;
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json', '.gz': 'application/octet-stream', '.svg': 'image/svg+xml', '.wgsl': 'text/plain; charset=utf-8' };

/** Serves `dir` on 127.0.0.1:`port` (0: any free port); resolves to the server and its URL. */
export function serveDemo(dir = DEMO_OUT, port = 8080) {
  const base = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    let file = normalize(join(base, path));
    if (!file.startsWith(base)) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, 'build-only': { type: 'boolean' }, 'no-data': { type: 'boolean' } } });
  try {
    const dir = await buildDemo({ dataDir: values['data-dir'], withData: !values['no-data'] });
    console.log(`demo: built ${dir}`);
    if (!values['build-only']) {
      const { url } = await serveDemo(dir, Number(values.port ?? 8080));
      console.log(`demo: open ${url} in a browser with WebGPU (Chrome/Edge 113+; on Linux start Chromium with --enable-unsafe-webgpu); Ctrl-C stops`);
    }
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
