// Full-page screenshots of the run report for 10 (Fashion-MNIST), 100 (CIFAR-100) and 2 classes, and of a
// run without step records, and each figure alone, to look at the figures' layout (and list the labels
// that leave their figure or overlap, test/report.test.ts's check): npx tsx scripts/report-shots.ts [DIR]
// (default /tmp/report-shots). Drives Debian's /usr/bin/chromium (CHROMIUM_PATH overrides); downloads nothing.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { renderComparison, renderReport } from '../src/report/render.js';
import { CHROMIUM_ARGS, CIFAR100, FASHION_MNIST, LAYOUT_PROBLEMS, syntheticRun } from '../test/fixtures/report-runs.js';

const out = process.argv[2] ?? '/tmp/report-shots';
await mkdir(out, { recursive: true });
const fm = syntheticRun('fashion-mnist-lt', FASHION_MNIST);
const pages: [string, string][] = [
  ['fashion-mnist', renderReport(fm)],
  ['cifar-100', renderReport(syntheticRun('cifar-100-lt', CIFAR100, { epochs: 200, stepsPerEpoch: 40 }))],
  ['two-classes', renderReport(syntheticRun('two-classes', ['majority', 'minority'], { imbalance: 20 }))],
  ['epochs-only', renderReport(syntheticRun('epochs-only', FASHION_MNIST, { steps: false }))],
  ['compare', renderComparison([fm, syntheticRun('a-run-with-a-rather-long-name-for-the-legend', FASHION_MNIST, { epochs: 8 })])],
];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
try {
  for (const [name, html] of pages) {
    await writeFile(join(out, `${name}.html`), html);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.setContent(html, { waitUntil: 'load' });
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    // Each figure on its own too, for a closer look.
    const figures = await page.$$('svg');
    for (const [i, svg] of figures.entries()) await svg.screenshot({ path: join(out, `${name}-fig${String(i).padStart(2, '0')}.png`) });
    const problems = (await page.evaluate(LAYOUT_PROBLEMS)) as string[];
    console.log(`${join(out, `${name}.png`)}: ${figures.length} figures, ${problems.length} layout problems${problems.length ? `\n  ${problems.slice(0, 20).join('\n  ')}` : ''}`);
    await page.close();
  }
} finally {
  await browser.close();
}
