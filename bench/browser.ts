// Training speed in a web page against Node on the same adapter, in one run: the same recipe, data and
// loop (bench/browser/run.ts) under Node (Dawn) and in headless Chromium (its own Dawn); images/s of
// epoch 2, the two sides alternated over 2 rounds (the machine is shared: alternating spreads its noise
// over both) and the median window of each side kept. The page should reach at least 80 % of Node's rate.
//   npm run bench:browser
// Needs Debian's chromium (SwiftShader when there is no GPU). Last line: the JSON summary.
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { init } from '../src/node.js';
import { browserBenchRun } from './browser/run.js';
import { printReport, row } from './common.js';
// @ts-expect-error: plain ESM JavaScript without types
import { serveDemo } from '../scripts/demo.mjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A fixed tiling on both sides ('auto' times large products: tens of seconds on SwiftShader).
await init({ log: false, matmul: 'register' });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const site = mkdtempSync(join(tmpdir(), 'bench-browser-'));
await build({ entryPoints: ['bench/browser/entry.ts'], bundle: true, format: 'esm', outfile: join(site, 'bench.js'), logLevel: 'warning' });
writeFileSync(join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="bench.js"></script>');
const { server, url } = await serveDemo(site, 0);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--enable-unsafe-webgpu'] });
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => typeof window.runBench === 'function');
  const sides = { node: [] as number[], browser: [] as number[] };
  let adapters = ['', ''];
  for (let round = 1; round <= 2; round++) {
    const node = await browserBenchRun();
    const web = (await page.evaluate(() => window.runBench())) as Awaited<ReturnType<typeof browserBenchRun>>;
    sides.node.push(...node.windows);
    sides.browser.push(...web.windows);
    adapters = [web.adapter, node.adapter];
    console.log(`round ${round}: node ${node.windows.map((w) => w.toFixed(0)).join(', ')}; browser ${web.windows.map((w) => w.toFixed(0)).join(', ')} images/s`);
  }
  console.log(`node:    ${adapters[1]}\nbrowser: ${adapters[0]}`);
  printReport('browser', adapters.join(' | '), [row('train step, small CNN, batch 128 (browser vs node)', median(sides.browser), median(sides.node), 'images/s')]);
} finally {
  await browser.close();
  server.close();
}
