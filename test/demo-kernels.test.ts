// The "Kernel lab" demo page (demo/kernels.html) in headless Chromium, WebGPU on SwiftShader: builds the
// demo site (scripts/demo.mjs), runs each of the four kernels (matmul in both tilings) at the page's
// default sizes plus a few odd ones, and checks that the page shows their WGSL, a timing and "matches"
// against its float64 JavaScript reference. Screenshot: test-output/demo/kernels.png.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SHADER_SOURCES } from '../src/index.js';
import { pageProblems, SHOTS, useDemoSite } from './fixtures/demo-site.js';

/** Clicks Run on the shown kernel and returns its result once the verdict is there. */
async function runShown(page: Page): Promise<{ verdict: string; text: string }> {
  await page.click('#run');
  await page.waitForFunction(() => !!document.getElementById('result')!.dataset.verdict && !(document.getElementById('run') as HTMLButtonElement).disabled, null, { timeout: 60_000 });
  const verdict = (await page.getAttribute('#result', 'data-verdict'))!;
  const text = (await page.innerText('#result')).replace(/\n+/g, ' | ');
  await page.evaluate(() => delete document.getElementById('result')!.dataset.verdict);
  return { verdict, text };
}

describe('demo: Kernel lab (headless Chromium, WebGPU on SwiftShader)', () => {
  const site = useDemoSite();

  it('runs matmul, conv2d, SupCon and Sinkhorn, each timed and matching its float64 reference', async () => {
    const t0 = performance.now();
    const page = await site().browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors = pageProblems(page, ['error', 'warning']);
    await page.goto(`${site().url}kernels.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
    expect(await page.textContent('#adapter')).toMatch(/^WebGPU adapter: .+/);

    const cases: { kernel: string; family: keyof typeof SHADER_SOURCES; sizes?: Record<string, string>; tiling?: string }[] = [
      { kernel: 'matmul', family: 'matmul', tiling: 'register' },
      { kernel: 'matmul', family: 'matmul', tiling: 'shared', sizes: { m: '65', k: '1', n: '130' } },
      { kernel: 'conv2d', family: 'conv2d' },
      { kernel: 'conv2d', family: 'conv2d', sizes: { n: '3', c: '5', h: '13', w: '9', k: '7', r: '5', s: '2', stride: '2', pad: '2' } },
      { kernel: 'supcon', family: 'contrastive' },
      { kernel: 'supcon', family: 'contrastive', sizes: { b: '37', v: '3', d: '17', classes: '4' } },
      { kernel: 'sinkhorn', family: 'sinkhorn' },
      { kernel: 'sinkhorn', family: 'sinkhorn', sizes: { b: '333', k: '7', eps: '0.02', iterations: '5' } },
    ];
    for (const c of cases) {
      await page.click(`#tabs button[data-kernel="${c.kernel}"]`);
      // The family's WGSL, verbatim, with the entry points the op uses marked.
      expect(await page.textContent('#wgsl')).toBe(SHADER_SOURCES[c.family]);
      expect(await page.locator('#wgsl mark').count()).toBeGreaterThan(0);
      expect((await page.textContent('#formula'))!.length).toBeGreaterThan(20);
      for (const [key, value] of Object.entries(c.sizes ?? {})) await page.fill(`#p-${key}`, value);
      if (c.tiling) await page.selectOption('#tiling', c.tiling);
      const { verdict, text } = await runShown(page);
      console.log(`kernels: ${c.kernel}${c.tiling ? ` (${c.tiling})` : ''}: ${text}`);
      expect(verdict, text).toBe('matches');
      expect(text).toMatch(/GPU: \d+(\.\d+)? ms median over 5 runs/);
      if (c.kernel === 'matmul' || c.kernel === 'conv2d') expect(text).toMatch(/\d+(\.\d+)? GFLOP\/s/);
      if (c.kernel === 'supcon') expect(text).toMatch(/∂L\/∂z \(\d+ values\): max relative error/);
    }
    // A bad size is refused with a message, not run.
    await page.fill('#p-b', '0');
    expect(await runShown(page)).toMatchObject({ verdict: 'error', text: expect.stringMatching(/B must be a whole number from 1 to 4096, got 0/) });

    const rows = page.locator('#history tr[data-kernel]');
    expect(await rows.count()).toBe(cases.length);
    expect(await page.locator('#history td.verdict').allTextContents()).toEqual(cases.map(() => 'matches'));
    // The screenshot shows SupCon's default run (its formula, WGSL and result) above the table of every run.
    await page.click('#tabs button[data-kernel="supcon"]');
    await runShown(page);
    await page.screenshot({ path: join(SHOTS, 'kernels.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
    console.log(`kernels: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 120_000);
});
