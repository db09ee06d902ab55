// The "Minority collapse, live" demo page (demo/collapse.html) in headless Chromium, WebGPU on
// SwiftShader: built and served by scripts/demo.mjs, driven through its form like a visitor. It trains a
// small SupCon run for two epochs and checks the loss, the per-epoch figures, the sphere's pixels (class
// colours, changing while it trains and when dragged), the main thread's longest task, the checkpoint
// download (safetensors with the model's tensors) and its loading back, Reset's freeing of every tensor,
// pause/resume, and the side-by-side mode. Screenshots go to test-output/demo/ and docs/screenshots/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { pageProblems, SHOTS, useDemoSite } from './fixtures/demo-site.js';

interface Row {
  epoch: number; loss: number; balancedAccuracy: number; auc: number;
  saa: [number, number]; cac: [number, number]; angle: number; seconds: number; endedAt: number;
}
interface Snapshot {
  state: string; status: string; error: string | null; liveBytes: number; baselineBytes: number;
  longestFrame: number; longestTask: number; gaps: { at: number; ms: number; state: string }[];
  seconds: number; trainImages: number; trainCounts: number[];
  runs: {
    label: string; recipe: string; epoch: number; epochs: number; rows: Row[]; losses: { step: number; loss: number }[];
    checkpointEpoch: number; angle: number; optimalAngle: number; embedPasses: number; frames: number; hasPrototypes: boolean;
    camera: { yaw: number; pitch: number; distance: number };
  }[];
}

const snapshot = (page: Page) => page.evaluate(() => (window as unknown as { collapseDemo: { snapshot(): unknown } }).collapseDemo.snapshot()) as Promise<Snapshot>;

/** Waits until the page's state is one of `states` (failing at once on 'error'). */
async function waitState(page: Page, states: string[], timeout: number): Promise<Snapshot> {
  await page.waitForFunction((want) => {
    const d = (window as unknown as { collapseDemo?: { state: string } }).collapseDemo;
    return !!d && (want.includes(d.state) || d.state === 'error');
  }, states, { timeout, polling: 250 });
  const s = await snapshot(page);
  expect(s.error, `the page failed: ${s.status}`).toBeNull();
  return s;
}

// ---- PNG (Playwright's screenshots: 8-bit RGB or RGBA, not interlaced) --------------------------------

interface Image {
  width: number;
  height: number;
  /** RGBA, row-major. */
  rgba: Uint8Array;
}

function decodePng(png: Buffer): Image {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6)) throw new Error(`unsupported PNG: depth ${depth}, colour ${colour}, interlace ${interlace}`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = v & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++) rgba[4 * i + k] = px[i * channels + k];
    rgba[4 * i + 3] = channels === 4 ? px[i * channels + 3] : 255;
  }
  return { width, height, rgba };
}

/** Pixels of the majority's blue and the minority's red (demo/collapse-sphere.ts CLASS_RGB, also faded). */
function classPixels(img: Image): { blue: number; red: number } {
  let blue = 0;
  let red = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    const [r, g, b] = [img.rgba[4 * i], img.rgba[4 * i + 1], img.rgba[4 * i + 2]];
    if (b - r > 80 && b > g) blue++;
    if (r - b > 80 && r - g > 80) red++;
  }
  return { blue, red };
}

/** Share of pixels that differ between two screenshots of the same element. */
function changed(a: Image, b: Image): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let n = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    if (Math.abs(a.rgba[4 * i] - b.rgba[4 * i]) + Math.abs(a.rgba[4 * i + 1] - b.rgba[4 * i + 1]) + Math.abs(a.rgba[4 * i + 2] - b.rgba[4 * i + 2]) > 30) n++;
  }
  return n / (a.width * a.height);
}

const shoot = async (page: Page, selector: string) => decodePng(await page.locator(selector).screenshot());

/**
 * The form, small enough for SwiftShader: Trouser vs Ankle boot (the pair the page suggests for a quick
 * run; Pullover vs Coat, the default, needs longer runs), 256 training images, 60 test images per class,
 * a tiny CNN, and a learning rate of 0.02 (the page's 0.005 suits its larger default runs) so that two
 * epochs move the sphere.
 */
async function smallSettings(page: Page, epochs: number): Promise<void> {
  await page.selectOption('#classA', '1');
  await page.selectOption('#classB', '9');
  await page.fill('#lr', '0.02');
  await page.fill('#total', '256');
  await page.fill('#testPerClass', '60');
  await page.fill('#batchSize', '32');
  await page.fill('#epochs', String(epochs));
  await page.fill('#widths', '4,8,16');
}

describe('demo page: minority collapse, live (headless Chromium, WebGPU on SwiftShader)', () => {
  const site = useDemoSite();
  // What went wrong on every page opened so far (each list fills as it happens).
  const watched: string[][] = [];
  const problems = () => watched.flat();

  async function open(): Promise<Page> {
    const page = await site().browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
    watched.push(pageProblems(page, ['error']));
    await page.goto(`${site().url}collapse.html`);
    await waitState(page, ['idle'], 90_000);
    return page;
  }

  it('trains two epochs, shows the figures and the sphere, hands out a checkpoint that loads back, and Reset frees everything', async () => {
    const page = await open();
    const adapter = await page.textContent('#adapter');
    expect(adapter).toMatch(/WebGPU adapter: /);
    const start = await snapshot(page);
    await smallSettings(page, 2);
    const t0 = performance.now();
    await page.click('#train');

    // The first embeddings on the sphere, before any step.
    await page.waitForFunction(() => {
      const s = (window as unknown as { collapseDemo: { snapshot(): { runs: { frames: number; embedPasses: number }[] } } }).collapseDemo.snapshot();
      return s.runs.length > 0 && s.runs[0].embedPasses > 0 && s.runs[0].frames > 1;
    }, null, { timeout: 60_000, polling: 100 });
    await page.waitForTimeout(200);
    const early = await shoot(page, '#sphere0');

    const done = await waitState(page, ['done'], 150_000);
    const wall = (performance.now() - t0) / 1000;
    const [run] = done.runs;
    expect(done.runs).toHaveLength(1);
    expect(run.recipe).toBe('supcon');
    expect(done.trainImages).toBe(256);
    // The 5 % share survives the 256-image cap: ⌊256 · 0.05⌋ = 12 minority images.
    expect(done.trainCounts).toEqual([244, 12]);

    // Two epochs, each with the probe's balanced accuracy, SAA and CAC for both classes, the angle.
    expect(run.rows.map((r) => r.epoch)).toEqual([1, 2]);
    for (const r of run.rows) {
      expect(r.balancedAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.balancedAccuracy).toBeLessThanOrEqual(1);
      for (const v of [...r.saa, ...r.cac]) expect(v >= 0 && v <= 100).toBe(true);
      expect(r.angle >= 0 && r.angle <= 180).toBe(true);
    }
    const table = await page.locator('#metrics0 tr').allTextContents();
    expect(table).toHaveLength(3);
    expect(table[2]).toMatch(/^2\s*\d+\.\d+\s*\d+\.\d\s*\d+\.\d \/ \d+\.\d\s*\d+\.\d \/ \d+\.\d\s*\d+\.\d°$/);
    // Two classes: the SupCon optimum is antipodal at any share.
    expect(run.optimalAngle).toBeGreaterThan(179);
    expect(await page.textContent('#geometry0')).toMatch(/learned \d+\.\d°, optimal 180\.0°/);

    // The loss falls: a progress record per step (16), the last ones below the first ones.
    const losses = run.losses.map((l) => l.loss);
    expect(losses).toHaveLength(16);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 2)));
    expect(run.rows[1].loss).toBeLessThan(run.rows[0].loss);

    // The sphere: class-coloured pixels, different from the first frame, and different again once dragged.
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, 'collapse.png'), fullPage: true });
    const trained = await shoot(page, '#sphere0');
    const colours = classPixels(trained);
    expect(colours.blue, 'majority-blue pixels on the sphere').toBeGreaterThan(20);
    expect(colours.red, 'minority-red pixels on the sphere').toBeGreaterThan(20);
    const trainedChange = changed(early, trained);
    expect(trainedChange).toBeGreaterThan(0.001);
    const box = (await page.locator('#sphere0').boundingBox())!;
    const framesBefore = (await snapshot(page)).runs[0].frames;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let k = 1; k <= 8; k++) await page.mouse.move(box.x + box.width / 2 + 12 * k, box.y + box.height / 2 + 4 * k);
    await page.mouse.up();
    await page.waitForFunction((n) => (window as unknown as { collapseDemo: { snapshot(): { runs: { frames: number }[] } } }).collapseDemo.snapshot().runs[0].frames > n, framesBefore, { timeout: 10_000 });
    await page.waitForTimeout(200);
    const dragged = await shoot(page, '#sphere0');
    const dragChange = changed(trained, dragged);
    expect(dragChange, 'the drag turned the camera').toBeGreaterThan(0.005);
    const draggedColours = classPixels(dragged);
    expect(draggedColours.blue + draggedColours.red).toBeGreaterThan(40);
    const turned = (await snapshot(page)).runs[0].camera;
    expect(turned.yaw).not.toBe(done.runs[0].camera.yaw);
    expect(turned.pitch).not.toBe(done.runs[0].camera.pitch);
    // The wheel zooms in; a two-finger pinch (touch pointers) zooms back out.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await page.waitForTimeout(300);
    const zoomed = await shoot(page, '#sphere0');
    expect(changed(dragged, zoomed)).toBeGreaterThan(0.005);
    const wheeled = (await snapshot(page)).runs[0].camera.distance;
    expect(wheeled).toBeLessThan(turned.distance);
    await page.evaluate(([x, y]) => {
      const c = document.getElementById('sphere0')!;
      const fire = (type: string, id: number, dx: number) => c.dispatchEvent(new PointerEvent(type, {
        pointerId: id, pointerType: 'touch', isPrimary: id === 11, clientX: x + dx, clientY: y, bubbles: true,
      }));
      fire('pointerdown', 11, -20);
      fire('pointerdown', 12, 20);
      for (let k = 1; k <= 5; k++) {
        fire('pointermove', 11, -20 + 3 * k);
        fire('pointermove', 12, 20 - 3 * k);
      }
      fire('pointerup', 11, -5);
      fire('pointerup', 12, 5);
    }, [box.x + box.width / 2, box.y + box.height / 2]);
    const pinched = (await snapshot(page)).runs[0].camera.distance;
    expect(pinched).toBeGreaterThan(wheeled * 1.5);

    // The training loop never held the main thread for 100 ms; rAF gaps are reported (see below).
    expect(done.longestTask).toBeLessThan(100);
    const steady = done.gaps.filter((g) => g.at >= run.rows[0].endedAt).reduce((m, g) => Math.max(m, g.ms), 0);
    expect(await page.textContent('#frame')).toMatch(/while training: longest frame \d+ ms/);
    console.log(
      `collapse demo: ${done.runs[0].epoch} epochs of ${done.trainImages} images in ${done.seconds.toFixed(1)} s of training ` +
      `(${(2 / done.seconds).toFixed(3)} epochs/s on ${adapter}; ${wall.toFixed(1)} s from the click); ` +
      `loss ${losses[0].toFixed(2)} -> ${losses.at(-1)!.toFixed(2)}; probe balanced accuracy ${run.rows.map((r) => r.balancedAccuracy.toFixed(3)).join(', ')}; ` +
      `SAA ${run.rows.map((r) => r.saa.map((v) => v.toFixed(1)).join('/')).join(', ')}; CAC ${run.rows.map((r) => r.cac.map((v) => v.toFixed(1)).join('/')).join(', ')}; ` +
      `angle ${run.rows.map((r) => r.angle.toFixed(1)).join(', ')} (optimal ${run.optimalAngle.toFixed(1)}); ` +
      `longest main-thread task ${done.longestTask.toFixed(0)} ms; longest frame gap ${done.longestFrame.toFixed(0)} ms (after epoch 1: ${steady} ms; ` +
      `gaps over 50 ms: ${done.gaps.map((g) => g.ms).join(' ')}); sphere pixels blue ${colours.blue} red ${colours.red}, changed ${(100 * trainedChange).toFixed(1)} % ` +
      `while training, ${(100 * dragChange).toFixed(1)} % by the drag`,
    );

    // The checkpoint: a download of safetensors bytes holding the model, the head and the optimizer state.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download0')]);
    expect(download.suggestedFilename()).toBe('collapse-supcon-1v9-share0.05-epoch2.safetensors');
    const file = join(SHOTS, download.suggestedFilename());
    await download.saveAs(file);
    const ckpt = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
    expect(ckpt.metadata.epoch).toBe('2');
    const config = JSON.parse(ckpt.metadata.config);
    expect(config).toMatchObject({ recipe: 'supcon', binary: [1, 9], minorityShare: 0.05, widths: [4, 8, 16], lr: 0.02, options: { featDim: 3, temperature: 1 } });
    const shape = (name: string) => ckpt.tensors.get(name)?.shape;
    expect(shape('features.0.weight')).toEqual([4, 1, 3, 3]);
    expect(shape('features.1.running_mean')).toEqual([4]);
    // SupContrast's Linear-ReLU-Linear head, supcon's default: no batch norm in it.
    expect(shape('head.2.weight')).toEqual([3, 144]);
    expect(shape('head.1.running_var')).toBeUndefined();
    expect(shape('optimizer.momentum_buffer.head.2.weight')).toEqual([3, 144]);
    expect([...ckpt.tensors.values()].every((t) => t.dtype === 'F32' || t.dtype === 'I32' || t.dtype === 'I64' || t.dtype === 'U32')).toBe(true);

    // Loading it back: a fresh run of its configuration, restored, gives the same sphere (same weights).
    await page.setInputFiles('#load', file);
    const restored = await waitState(page, ['restored'], 60_000);
    expect(restored.runs).toHaveLength(1);
    expect(restored.runs[0].epoch).toBe(2);
    expect(restored.runs[0].checkpointEpoch).toBe(2);
    expect(Math.abs(restored.runs[0].angle - run.angle)).toBeLessThan(1e-3);
    expect(await page.textContent('#status')).toMatch(/restored .* after epoch 2 of 2/);

    // Reset: every tensor of the run and its data freed.
    await page.click('#reset');
    const reset = await waitState(page, ['idle'], 30_000);
    expect(reset.runs).toHaveLength(0);
    expect(reset.liveBytes).toBe(start.baselineBytes);
    await page.close();
    expect(problems()).toEqual([]);
  }, 240_000);

  it('stops a run mid-epoch with Reset (every tensor freed) and continues a mid-run checkpoint after loading it', async () => {
    const page = await open();
    const start = await snapshot(page);
    await smallSettings(page, 2);
    await page.selectOption('#recipe', 'supproto');
    await page.click('#train');
    // The first epoch's checkpoint can be downloaded while the second epoch trains.
    await page.waitForFunction(() => !(document.getElementById('download0') as HTMLButtonElement).disabled, null, { timeout: 90_000, polling: 100 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download0')]);
    expect(download.suggestedFilename()).toBe('collapse-supproto-1v9-share0.05-epoch1.safetensors');
    const file = join(SHOTS, download.suggestedFilename());
    await download.saveAs(file);
    const ckpt = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
    expect(ckpt.tensors.get('state.prototypes')?.shape).toEqual([2, 3]);
    const mid = await snapshot(page);
    expect(mid.state).toBe('training');
    expect(mid.runs[0].hasPrototypes).toBe(true);
    await page.click('#reset');
    const stopped = await waitState(page, ['idle'], 60_000);
    expect(stopped.liveBytes).toBe(start.baselineBytes);

    await page.setInputFiles('#load', file);
    const restored = await waitState(page, ['restored'], 60_000);
    expect(restored.runs[0]).toMatchObject({ recipe: 'supproto', epoch: 1, epochs: 2, hasPrototypes: true });
    expect(await page.textContent('#train')).toBe('Continue training');
    await page.click('#train');
    const done = await waitState(page, ['done'], 90_000);
    expect(done.runs[0].rows.map((r) => r.epoch)).toEqual([2]);
    expect(done.runs[0].losses[0].step).toBe(9);
    await page.click('#reset');
    expect((await waitState(page, ['idle'], 30_000)).liveBytes).toBe(start.baselineBytes);
    await page.close();
    expect(problems()).toEqual([]);
  }, 240_000);

  it('side by side: SupCon and SupMin on the same data, each on its own sphere; pause holds both', async () => {
    const page = await open();
    const start = await snapshot(page);
    await smallSettings(page, 1);
    await page.check('#sideBySide');
    await page.selectOption('#recipeB', 'supmin');
    await page.click('#train');
    // Pause once both have recorded a few steps; nothing moves until Resume.
    await page.waitForFunction(() => {
      const s = (window as unknown as { collapseDemo: { snapshot(): { runs: { losses: unknown[] }[] } } }).collapseDemo.snapshot();
      return s.runs.length === 2 && s.runs.every((r) => r.losses.length >= 2);
    }, null, { timeout: 90_000, polling: 100 });
    await page.click('#pause');
    await waitState(page, ['paused'], 10_000);
    await page.waitForTimeout(1500);
    const held = (await snapshot(page)).runs.map((r) => r.losses.length);
    await page.waitForTimeout(1500);
    expect((await snapshot(page)).runs.map((r) => r.losses.length)).toEqual(held);
    expect(await page.textContent('#pause')).toBe('Resume');
    await page.click('#pause');
    const done = await waitState(page, ['done'], 120_000);
    expect(done.runs.map((r) => r.recipe)).toEqual(['supcon', 'supmin']);
    for (const r of done.runs) {
      expect(r.rows).toHaveLength(1);
      expect(r.losses).toHaveLength(8);
    }
    expect(await page.isVisible('#sphere1')).toBe(true);
    await page.waitForTimeout(200);
    for (const id of ['#sphere0', '#sphere1']) {
      const c = classPixels(await shoot(page, id));
      expect(c.blue, `${id}: majority pixels`).toBeGreaterThan(20);
      expect(c.red, `${id}: minority pixels`).toBeGreaterThan(20);
    }
    expect(await page.locator('#metrics1 tr').count()).toBe(2);
    expect(done.longestTask).toBeLessThan(100);
    await page.screenshot({ path: join(SHOTS, 'collapse-side-by-side.png'), fullPage: true });
    console.log(
      `side by side: ${done.runs.map((r) => `${r.label} loss ${r.losses[0].loss.toFixed(2)} -> ${r.losses.at(-1)!.loss.toFixed(2)}, angle ${r.angle.toFixed(1)}°`).join('; ')}; ` +
      `1 epoch each in ${done.seconds.toFixed(1)} s; longest main-thread task ${done.longestTask.toFixed(0)} ms, longest frame gap ${done.longestFrame.toFixed(0)} ms`,
    );
    await page.click('#reset');
    expect((await waitState(page, ['idle'], 30_000)).liveBytes).toBe(start.baselineBytes);
    await page.close();
    expect(problems()).toEqual([]);
  }, 240_000);
});
