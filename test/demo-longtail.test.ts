// The "Long tail" demo page (demo/longtail.html) in headless Chromium, WebGPU on SwiftShader: builds the
// demo site (scripts/demo.mjs), trains CE, logit-adjusted CE and BCL for one epoch on a small
// Fashion-MNIST-LT subset, and checks what the page shows: the per-class bars, the geometry heatmaps,
// the checkpoint download (decoded here as safetensors) and its loading back (same evaluation), and
// that reset returns the live GPU bytes to where they started. Screenshot: test-output/demo/longtail.png.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/index.js';
import { pageProblems, SHOTS, useDemoSite } from './fixtures/demo-site.js';


describe('demo: Long tail (headless Chromium, WebGPU on SwiftShader)', () => {
  const site = useDemoSite();

  it('trains an epoch of CE, LA and BCL (pausing once), shows bars and geometry, round-trips a checkpoint, resets to the start bytes', async () => {
    const t0 = performance.now();
    const lap = (what: string) => console.log(`longtail: ${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const page = await site().browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors = pageProblems(page, ['error', 'warning']);
    await page.goto(`${site().url}longtail.html`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 60_000 });
    expect(await page.textContent('#adapter')).toMatch(/^WebGPU adapter: .+/);
    const start = await page.getAttribute('#memory', 'data-start');
    lap('engine up');

    // A small subset: n_max = 100 at IF 10 (403 training images, 6 steps of 64), 20 test images per class.
    await page.selectOption('#imbalance', '10');
    await page.selectOption('#cap', '100');
    await page.selectOption('#test-per-class', '20');
    await page.fill('#epochs', '1');
    await page.click('#start');
    // Pause during the first recipe's epoch: the loop holds at a step, nothing moves; then resume.
    await page.waitForFunction(() => /^CE: epoch 1 of 1, step [1-4] of 6/.test(document.getElementById('progress')!.textContent!), null, { timeout: 60_000 });
    await page.click('#pause');
    await page.waitForFunction(() => /^paused after step \d of 6 of CE\.$/.test(document.getElementById('status')!.textContent!), null, { timeout: 30_000 });
    const held = await page.textContent('#progress');
    await page.waitForTimeout(1500);
    expect(await page.textContent('#progress')).toBe(held);
    expect(await page.getAttribute('body', 'data-state')).toBe('paused');
    await page.click('#resume');
    await page.waitForFunction(() => document.body.dataset.state === 'stopped', null, { timeout: 150_000 });
    lap('trained');
    const status = await page.textContent('#status');
    expect(status, `${status}; ${errors.join('; ')}`).toMatch(/^finished: CE 1 epoch\(s\), logit-adjusted CE 1 epoch\(s\), BCL 1 epoch\(s\)\.$/);

    // Per-class bars: 10 classes × 3 recipes, heights from the accuracies; classes head → tail.
    expect(await page.locator('#bars rect.bar').count()).toBe(30);
    const counts = (await page.locator('#bars text[fill="#666"]').allTextContents()).map((t) => Number(t.replace('n = ', '')));
    expect(counts).toEqual([100, 77, 59, 46, 35, 27, 21, 16, 12, 10]);
    // Geometry: the learned and the optimal heatmaps (10 × 10 cells each), the caption with the distance.
    expect(await page.locator('#geometry svg').count()).toBe(2);
    expect(await page.locator('#geometry svg').first().locator('rect title').count()).toBe(100);
    expect(await page.textContent('#geometry-caption')).toMatch(/‖G_learned − G_optimal‖_F = \d+\.\d{3}/);
    expect(await page.locator('#geometry-pick input').count()).toBe(3);
    const stall = Number(await page.getAttribute('#frame', 'data-stall'));
    console.log(`longtail: ${await page.textContent('#progress')}; ${await page.textContent('#frame')}; ${await page.textContent('#memory')}`);
    console.log(`longtail: metrics ${(await page.locator('#metrics tr').allInnerTexts()).join(' | ')}`);
    // The main thread stays free while training: no task of 100 ms or more (Long Tasks API; 0 = none of
    // 50 ms or more), the first step of each recipe (pipeline creation) aside.
    expect(stall).toBeLessThan(100);
    await page.screenshot({ path: join(SHOTS, 'longtail.png'), fullPage: true });

    // The CE checkpoint: a download that decodes as safetensors with the run's metadata.
    const top1 = await page.textContent('tr[data-recipe="ce"] .top1');
    const [file] = await Promise.all([page.waitForEvent('download'), page.click('button[data-download="ce"]')]);
    expect(file.suggestedFilename()).toBe('fashion-mnist-lt-if10-ce-epoch1.safetensors');
    const bytes = readFileSync(await file.path());
    const decoded = decodeSafetensors(new Uint8Array(bytes), file.suggestedFilename());
    expect(decoded.metadata.epoch).toBe('1');
    expect(JSON.parse(decoded.metadata.config)).toMatchObject({ recipe: 'ce', imbalance: 10, limitPerClass: 100, testPerClass: 20, epochs: 1 });
    expect(decoded.tensors.get('fc.weight')?.shape).toEqual([10, 288]);
    expect([...decoded.tensors.keys()].some((k) => k.startsWith('optimizer.momentum_buffer.'))).toBe(true);

    // Loading it back: a reset, the same data, the same weights, the same evaluation.
    await page.setInputFiles('#load', { name: file.suggestedFilename(), mimeType: 'application/octet-stream', buffer: bytes });
    await page.waitForFunction(() => /^restored|^error/.test(document.getElementById('status')!.textContent!), null, { timeout: 60_000 });
    expect(await page.textContent('#status')).toMatch(/^restored CE after epoch 1 of 1 from fashion-mnist-lt-if10-ce-epoch1\.safetensors: top-1 /);
    expect(await page.textContent('tr[data-recipe="ce"] .top1')).toBe(top1);
    expect(await page.locator('#bars rect.bar').count()).toBe(10);
    expect(await page.locator('#geometry svg').count()).toBe(2);
    lap('checkpoint loaded back');

    // Reset: every tensor disposed.
    await page.click('#reset');
    await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 30_000 });
    expect(await page.getAttribute('#memory', 'data-live')).toBe(start);
    expect(await page.textContent('#memory')).toMatch(/ 0 tensors /);
    await page.close();
    expect(errors).toEqual([]);
    lap('done');
  }, 240_000);
});
