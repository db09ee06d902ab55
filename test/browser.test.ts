// Browser smoke test: the library, bundled for the browser by esbuild, runs one forward/backward step of a
// tiny MLP in headless Chromium (driven by playwright-core), and its numbers match the same step run here
// under Node. Needs Debian's `chromium`, which also installs SwiftShader (WebGPU on the CPU, no GPU needed).
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../src/index.js';
import { closeServer } from './fixtures/demo-site.js';
import { loopRun, type LoopRunResult } from './fixtures/loop-run.js';
import { mlpStep, SIZES, type MatmulVariant, type MlpStepResult } from './fixtures/mlp-step.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const INSTALL_HINT =
  `install Debian's Chromium with \`sudo apt-get install chromium\` (it also provides SwiftShader), ` +
  `or point CHROMIUM_PATH at a Chromium binary`;

// playwright-core already passes --no-sandbox, --no-first-run, --disable-background-networking,
// --disable-component-update and --disable-sync (and --headless with `headless: true`).
const CHROMIUM_FLAGS = [
  // Without it navigator.gpu.requestAdapter() resolves to null on Linux.
  '--enable-unsafe-webgpu',
];

/** Norm-wise relative error max|a - b| / max|b| (absolute when b is all zeros). */
function relError(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

/** The same step in float64 on the CPU, from the parameters the GPU drew. */
function cpuReference(inputs: MlpStepResult['inputs']): Omit<MlpStepResult, 'adapter' | 'inputs' | 'matmul'> {
  const { batch: n, input: d, hidden: k, classes: c } = SIZES;
  const { x, w1, b1, w2, b2, labels } = inputs;
  const pre = new Array<number>(n * k).fill(0);
  const h = new Array<number>(n * k).fill(0);
  const logits = new Array<number>(n * c).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = b1[j];
      for (let t = 0; t < d; t++) s += x[i * d + t] * w1[t * k + j];
      pre[i * k + j] = s;
      h[i * k + j] = Math.max(s, 0);
    }
    for (let j = 0; j < c; j++) {
      let s = b2[j];
      for (let t = 0; t < k; t++) s += h[i * k + t] * w2[t * c + j];
      logits[i * c + j] = s;
    }
  }
  let loss = 0;
  const dLogits = new Array<number>(n * c).fill(0);
  for (let i = 0; i < n; i++) {
    const row = logits.slice(i * c, (i + 1) * c);
    const m = Math.max(...row);
    const z = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
    loss += (m + Math.log(z) - row[labels[i]]) / n;
    for (let j = 0; j < c; j++) dLogits[i * c + j] = (Math.exp(row[j] - m) / z - (j === labels[i] ? 1 : 0)) / n;
  }
  const gradW2 = new Array<number>(k * c).fill(0);
  const gradB2 = new Array<number>(c).fill(0);
  const dPre = new Array<number>(n * k).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const g = dLogits[i * c + j];
      gradB2[j] += g;
      for (let t = 0; t < k; t++) {
        gradW2[t * c + j] += h[i * k + t] * g;
        if (pre[i * k + t] > 0) dPre[i * k + t] += g * w2[t * c + j];
      }
    }
  }
  const gradW1 = new Array<number>(d * k).fill(0);
  const gradB1 = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      gradB1[j] += dPre[i * k + j];
      for (let t = 0; t < d; t++) gradW1[t * k + j] += x[i * d + t] * dPre[i * k + j];
    }
  }
  return { loss, logits, gradW1, gradB1, gradW2, gradB2 };
}

const FIELDS = ['logits', 'gradW1', 'gradB1', 'gradW2', 'gradB2'] as const;
/** Both matmul tilings run on both sides (the tiny shapes still go through each kernel's edge handling). */
const VARIANTS: MatmulVariant[] = ['register', 'shared'];

/** Modules the bundle leaves external (none: the browser entry imports nothing of Node). */
function externalImports(meta: Metafile): { path: string; kind: string }[] {
  return Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external).map(({ path, kind }) => ({ path, kind })));
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>webgpu smoke</title><link rel="icon" href="data:,">
<script type="module" src="/bundle.js"></script>
</head><body></body></html>`;

describe('browser smoke test (headless Chromium, WebGPU on SwiftShader)', () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let url = '';
  let bundleBytes = 0;
  let externals: { path: string; kind: string }[] = [];
  /** Every path the page requested, in order. */
  const requested: string[] = [];
  let nodeRun: Promise<MlpStepResult[]>;
  /** A setup failure (no Chromium, say), rethrown by every test so that each one fails with it. */
  let setupError: unknown;

  beforeAll(async () => {
    try {
      await setUp();
    } catch (e) {
      setupError = e;
    }
  });

  async function setUp(): Promise<void> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: the browser smoke test needs it; ${INSTALL_HINT}.`);
    }
    // The Node side runs while the bundle is built and the browser starts; a failure surfaces in the test.
    // A fixed tiling, not 'auto' (which times 384³ products: tens of seconds on SwiftShader).
    nodeRun = (async () => {
      await lib.init({ log: false, matmul: 'register' });
      const results: MlpStepResult[] = [];
      for (const matmul of VARIANTS) results.push(await mlpStep(lib, { matmul }));
      return results;
    })();
    nodeRun.catch(() => {});

    const built = await build({
      entryPoints: [fileURLToPath(new URL('./browser/entry.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const bundle = built.outputFiles[0].contents;
    bundleBytes = bundle.byteLength;
    externals = externalImports(built.metafile);

    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      requested.push(path);
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      } else if (path === '/bundle.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(0, '127.0.0.1', () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    } catch (e) {
      throw new Error(`cannot launch Chromium (${CHROMIUM}): ${(e as Error).message}\nIf it is missing or broken, ${INSTALL_HINT}.`);
    }
  }

  afterAll(async () => {
    await browser?.close();
    if (server) await closeServer(server);
  });

  it('bundles the browser entry with no Node import at all (no externals, no flags)', () => {
    if (setupError) throw setupError;
    expect(bundleBytes).toBeGreaterThan(10_000);
    expect(externals).toEqual([]);
  });

  it('runs one forward/backward step in headless Chromium and matches the Node run', async () => {
    if (setupError) throw setupError;
    const errors: string[] = [];
    const page = await browser!.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));

    await page.goto(url);
    const ready = await page.evaluate(`typeof window.smokeReady`);
    expect(ready, `the bundle did not run (errors: ${errors.join('; ') || 'none'})`).toBe('object');
    const browserResults: MlpStepResult[] = [];
    for (const matmul of VARIANTS) {
      browserResults.push((await page.evaluate(`window.smokeReady.then(() => window.runSmoke(${JSON.stringify(matmul)}))`)) as MlpStepResult);
    }
    await page.close();
    const nodeResults = await nodeRun;

    expect(errors).toEqual([]);
    expect(requested).toEqual(['/', '/bundle.js']);

    expect(browserResults[0].adapter).toMatch(/\S.*\[browser\]$/);
    expect(nodeResults[0].adapter).toMatch(/\S.*\[node\]$/);
    console.log(`browser adapter: ${browserResults[0].adapter}\nnode adapter: ${nodeResults[0].adapter}`);

    for (const [v, matmul] of VARIANTS.entries()) {
      const browserResult = browserResults[v];
      const nodeResult = nodeResults[v];
      expect([browserResult.matmul, nodeResult.matmul]).toEqual([matmul, matmul]);

      // The seeded draws are the same on both platforms (Philox on the GPU).
      for (const key of Object.keys(nodeResult.inputs) as (keyof MlpStepResult['inputs'])[]) {
        expect(relError(browserResult.inputs[key], nodeResult.inputs[key]), `${matmul}: inputs.${key}`).toBeLessThanOrEqual(1e-6);
      }

      // Browser vs Node.
      expect(relError([browserResult.loss], [nodeResult.loss]), `${matmul}: loss`).toBeLessThanOrEqual(1e-5);
      for (const key of FIELDS) {
        expect(relError(browserResult[key], nodeResult[key]), `${matmul}: ${key}`).toBeLessThanOrEqual(1e-5);
      }

      // Node vs a float64 CPU reference, so that agreeing does not mean two identical wrong answers.
      const ref = cpuReference(nodeResult.inputs);
      const worst = (a: MlpStepResult, b: Omit<MlpStepResult, 'adapter' | 'inputs' | 'matmul'>) =>
        Math.max(relError([a.loss], [b.loss]), ...FIELDS.map((key) => relError(a[key], b[key]))).toExponential(1);
      console.log(`${matmul}: max relative error browser vs node ${worst(browserResult, nodeResult)}, node vs float64 CPU ${worst(nodeResult, ref)}`);
      expect(Number.isFinite(nodeResult.loss) && nodeResult.loss > 0).toBe(true);
      expect(relError([nodeResult.loss], [ref.loss]), `${matmul}: loss vs CPU`).toBeLessThanOrEqual(1e-5);
      for (const key of FIELDS) {
        expect(ref[key].some((x) => x !== 0), `${key} reference is all zeros`).toBe(true);
        expect(relError(nodeResult[key], ref[key]), `${matmul}: ${key} vs CPU`).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('the training loop gives the same losses step for step in Chromium and in Node', async () => {
    if (setupError) throw setupError;
    await nodeRun;
    const node = await loopRun();
    const errors: string[] = [];
    const page = await browser!.newPage();
    page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
    });
    await page.goto(url);
    const web = (await page.evaluate('window.smokeReady.then(() => window.runLoop())')) as LoopRunResult;
    await page.close();
    expect(errors).toEqual([]);
    expect(web.adapter).toMatch(/\[browser\]$/);
    expect(node.losses).toHaveLength(8);
    expect(web.losses).toHaveLength(8);
    for (const r of [node, web]) {
      expect(r.losses.every(Number.isFinite)).toBe(true);
      expect(r.leaked).toBe(0);
    }
    const worst = Math.max(...node.losses.map((l, i) => Math.abs(l - web.losses[i]) / Math.abs(l)));
    console.log(`loop: ${node.losses.length} step losses, max relative difference browser vs node ${worst.toExponential(1)}`);
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(web.epochLosses.map((l, i) => Math.abs(l - node.epochLosses[i]) / l).every((d) => d <= 1e-4)).toBe(true);
    expect(web.top1).toEqual(node.top1);
  }, 300_000);
});
