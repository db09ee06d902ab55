// The package as a user gets it: `npm pack`, installed into a scratch project offline and without
// install scripts, then (1) imported under plain node (no tsx) to train a few steps, (2) the README's
// "Use it in a web page" example bundled by esbuild with --bundle --format=esm only and run in headless
// Chromium, (3) a browser TypeScript file type-checked against it with only @webgpu/types.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM JavaScript without types
import { serveDemo } from '../scripts/demo.mjs';
import { useTempDirs } from './helpers.js';

const tempDir = useTempDirs('wgc-package-');
const repo = process.cwd();
const bin = (name: string) => join(repo, 'node_modules', '.bin', name);
let scratch = '';
let tarball = '';

beforeAll(() => {
  scratch = tempDir();
  execFileSync('npm', ['pack', '--pack-destination', scratch, '--silent'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  tarball = readdirSync(scratch).find((f) => f.startsWith('webgpu-contrastive-'))!;
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  // Offline: the package's one dependency from a local tarball too (npm's cache holds tarballs, not the
  // registry's metadata). The optional peer `webgpu` (Dawn, for Node) and @webgpu/types (for the type
  // check) are this repository's copies, linked in as a user's own installs would be.
  execFileSync('npm', ['pack', join(repo, 'node_modules', 'gl-matrix'), '--pack-destination', scratch, '--silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const glMatrix = readdirSync(scratch).find((f) => f.startsWith('gl-matrix-'))!;
  execFileSync('npm', ['install', `./${tarball}`, `./${glMatrix}`, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--silent'], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  mkdirSync(join(scratch, 'node_modules', '@webgpu'), { recursive: true });
  symlinkSync(join(repo, 'node_modules', 'webgpu'), join(scratch, 'node_modules', 'webgpu'));
  symlinkSync(join(repo, 'node_modules', '@webgpu', 'types'), join(scratch, 'node_modules', '@webgpu', 'types'));
}, 180_000);

describe('the packed package', () => {
  it('ships dist/, shaders/, README and LICENSE only', () => {
    const files = execFileSync('tar', ['tzf', join(scratch, tarball)], { encoding: 'utf8' }).trim().split('\n');
    const top = new Set(files.map((f) => f.replace(/^package\//, '').split('/')[0]));
    expect([...top].sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json', 'shaders']);
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/node.d.ts');
    expect(files.some((f) => f.startsWith('package/dist/demo/') || f.startsWith('package/dist/cli/'))).toBe(false);
    // The WGSL is embedded in the JavaScript: no postinstall step, nothing generated on install.
    expect(readFileSync(join(scratch, 'node_modules/webgpu-contrastive/dist/gpu/shaders.gen.js'), 'utf8')).toContain('@compute');
  });

  it('(1) trains a few steps under plain node', () => {
    writeFileSync(join(scratch, 'node-run.mjs'), `
import * as W from 'webgpu-contrastive';
await W.init({ log: false });
const [train, test] = [W.stripes(64, { seed: 1 }), W.stripes(32, { seed: 2 })];
const resolved = W.resolveConfig(W.defaultConfig({ imbalance: 1, widths: [4, 8], batchSize: 16, epochs: 2, warmupEpochs: 0, logEvery: 1 }));
const data = W.uploadData(W.selectData(resolved.config, train, test, 'synthetic', ['a', 'b', 'c', 'd']), train, test);
const training = new W.Training(resolved, data, { mean: [0.3], std: [0.3] });
const losses = [];
await training.start();
const r = await training.run({ onStep: (p) => void losses.push(p.loss) });
console.log(JSON.stringify({ adapter: W.engine().describeAdapter(), losses, top1: r.evaluation.top1 }));
`);
    const out = execFileSync(process.execPath, ['node-run.mjs'], { cwd: scratch, encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(r.adapter).toMatch(/\[node\]$/);
    expect(r.losses).toHaveLength(8);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(r.losses.at(-1)).toBeLessThan(r.losses[0]);
  }, 180_000);

  describe('(2) the README web example, bundled and run in headless Chromium', () => {
    let browser: Browser | undefined;
    afterAll(async () => browser?.close());

    it('trains, logs each epoch and draws the loss', async () => {
      const readme = readFileSync(join(repo, 'README.md'), 'utf8');
      const block = /<!-- web-example:start -->\n```js\n([\s\S]*?)```\n<!-- web-example:end -->/.exec(readme);
      expect(block, 'the README lost its web example').not.toBeNull();
      writeFileSync(join(scratch, 'page.js'), block![1]);
      execFileSync(bin('esbuild'), ['page.js', '--bundle', '--format=esm', '--outfile=site/page.bundle.js', '--log-level=warning'], { cwd: scratch });
      writeFileSync(join(scratch, 'site', 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><canvas width="400" height="200"></canvas><script type="module" src="page.bundle.js"></script>');
      const data = join(scratch, 'site', 'data', 'fashion-mnist');
      mkdirSync(data, { recursive: true });
      for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
        copyFileSync(join('/usr/share/datasets/fashion-mnist', f), join(data, f));
      }
      const { server, url } = await serveDemo(join(scratch, 'site'), 0);
      try {
        browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--enable-unsafe-webgpu'] });
        const page = await browser.newPage();
        const errors: string[] = [];
        const logs: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => (m.type() === 'error' ? errors : logs).push(m.text()));
        await page.goto(url);
        await page.waitForFunction(() => document.title.startsWith('trained'), undefined, { timeout: 150_000 });
        expect(errors).toEqual([]);
        expect(await page.title()).toMatch(/^trained \d+ steps$/);
        expect(logs.filter((l) => /^epoch \d: balanced accuracy 0\.\d+/.test(l))).toHaveLength(2);
        // The loss line: dark pixels on the transparent canvas.
        const inked = await page.evaluate(() => {
          const c = document.querySelector('canvas')!;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n;
        });
        expect(inked).toBeGreaterThan(100);
      } finally {
        server.close();
      }
    }, 240_000);
  });

  it('(3) type-checks a browser TypeScript file with only @webgpu/types', () => {
    writeFileSync(join(scratch, 'check.ts'), `
import { init, defaultConfig, resolveConfig, Training, fetchFashionMnist, safetensorsBlob, renderReport, type TrainConfig, type StepProgress } from 'webgpu-contrastive';
const engine = await init();
const device: GPUDevice = engine.device;
const config: TrainConfig = defaultConfig({ recipe: 'bcl', epochs: 1 });
const { train } = await fetchFashionMnist('data/');
const onStep = (p: StepProgress): number => p.loss + train.count;
export { device, config, onStep, Training, resolveConfig, safetensorsBlob, renderReport };
`);
    writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: ['@webgpu/types'],
        strict: true, noEmit: true, skipLibCheck: false,
      },
      files: ['check.ts'],
    }));
    let out = '';
    try {
      execFileSync(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: scratch, encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    // TypeScript's own lib.dom now declares WebGPU too and clashes with @webgpu/types (a clash between
    // those two, whatever imports them); every error in the user's file or the package's declarations counts.
    const ours = out.split('\n').filter((l) => l.trim() && !/node_modules\/(@webgpu\/types|@typescript\/|typescript\/)/.test(l));
    expect(ours).toEqual([]);
    expect(out === '' || /Duplicate identifier|identical modifiers/.test(out)).toBe(true);
  }, 120_000);
});
