// "Minority collapse, live": the page. Reads the form, selects two Fashion-MNIST classes at the chosen
// minority share, trains one run (or two side by side, on the same data) through the library's Training
// loop, and shows each run's embeddings on a WebGPU sphere, the loss curve and the per-epoch figures.
// Pause holds the runs at their next progress record; Reset stops them and frees every tensor; a
// checkpoint (the last epoch's) can be downloaded and loaded back.
import * as W from '../src/index.js';
import { CLASS_CSS, SphereView, type Marker } from './collapse-sphere.js';
import { CollapseRun, collapseConfig, probeFractionFor, selectCollapseData, type CollapseSettings, type EpochRow, type RunListener } from './collapse-run.js';
import { byId, download, escapeHtml, fashionMnist, FrameWatch, LineChart, setText, startEngine } from './shared.js';

const RECIPES = ['supcon', 'supmin', 'supproto'] as const;
type RecipeName = (typeof RECIPES)[number];
const TITLES: Record<RecipeName, string> = { supcon: 'SupCon', supmin: 'SupMin', supproto: 'SupProto' };
const SERIES = ['#1f3b57', '#d97706'];
// The probe's steps are recorded in one synchronous loop (src/train/evaluate.ts): 50 keep that under
// ~60 ms of main-thread time on a slow CPU; with L2-normalised features and lr 1 they converge well enough.
const PROBE_STEPS = 50;

type State = 'loading' | 'idle' | 'preparing' | 'training' | 'paused' | 'stopping' | 'done' | 'restored' | 'error';

/** The runs of one Train press (one, or two side by side) and their shared data. */
interface Session {
  data: W.TrainingData;
  runs: CollapseRun[];
  controller: AbortController;
  settings: CollapseSettings;
  /** Settles when every run has ended (finished, stopped or failed). */
  done: Promise<void> | null;
  /** Wall-clock training time (pauses excluded), for epochs per second. */
  seconds: number;
  since: number;
}

const num = (id: string) => Number(byId<HTMLInputElement>(id).value);
const pct = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

class CollapsePage implements RunListener {
  state: State = 'loading';
  error: string | null = null;
  session: Session | null = null;
  /** Live bytes of the engine once it is up and before any run: what Reset must return to. */
  baselineBytes = 0;
  readonly frames = new FrameWatch();
  /** The longest frame gap and the longest main-thread task while the runs trained (ms). */
  longestFrame = 0;
  longestTask = 0;
  private watching = false;
  private pauseGate: { promise: Promise<void>; resolve: () => void } | null = null;
  private readonly chart = new LineChart(byId('loss'), 'step', 'loss', { fromZero: false });
  private spheres: SphereView[] = [];
  private lastStatus = '';
  /** Frame gaps over 50 ms while watching: when, how long, in which state (for the status line and the tests). */
  readonly gaps: { at: number; ms: number; state: State }[] = [];
  private lastFrame = performance.now();

  constructor(private readonly engine: W.Engine, renderDevice: GPUDevice) {
    this.baselineBytes = engine.memory().liveBytes;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    for (const i of [0, 1]) {
      const canvas = byId<HTMLCanvasElement>(`sphere${i}`);
      canvas.width = Math.round(340 * dpr);
      canvas.height = Math.round(340 * dpr);
      this.spheres.push(new SphereView(canvas, renderDevice));
    }
    if (typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
      new PerformanceObserver((list) => {
        if (!this.watching) return;
        for (const e of list.getEntries()) this.longestTask = Math.max(this.longestTask, e.duration);
      }).observe({ type: 'longtask', buffered: false });
    }
    const frame = (t: number) => {
      const last = this.lastFrame;
      if (this.watching && t - last > 50 && this.gaps.length < 500) this.gaps.push({ at: Math.round(last), ms: Math.round(t - last), state: this.state });
      this.lastFrame = t;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    setInterval(() => this.tick(), 250);
  }

  // ---- the form ---------------------------------------------------------------------------------------

  fillClassLists(): void {
    // Pullover (2) vs Coat (4): the hardest pair, the Two Classes setting this page is about.
    for (const [id, chosen] of [['classA', 2], ['classB', 4]] as const) {
      const select = byId<HTMLSelectElement>(id);
      select.innerHTML = W.FASHION_MNIST_CLASSES.map((name, i) => `<option value="${i}"${i === chosen ? ' selected' : ''}>${i}: ${escapeHtml(name)}</option>`).join('');
    }
    const side = byId<HTMLInputElement>('sideBySide');
    side.addEventListener('change', () => {
      if (!this.session) byId('panel1').hidden = !side.checked;
    });
  }

  /** The form's settings, checked; throws a message for the status line. */
  settings(): { settings: CollapseSettings; recipes: RecipeName[] } {
    const recipe = byId<HTMLSelectElement>('recipe').value as RecipeName;
    const recipeB = byId<HTMLSelectElement>('recipeB').value as RecipeName;
    const side = byId<HTMLInputElement>('sideBySide').checked;
    const widths = byId<HTMLInputElement>('widths').value.split(',').map((w) => Number(w.trim()));
    const settings: CollapseSettings = {
      classes: [num('classA'), num('classB')], minorityShare: Number(byId<HTMLSelectElement>('share').value), recipe,
      temperature: num('temperature'), batchSize: Math.round(num('batchSize')), epochs: Math.round(num('epochs')), lr: num('lr'),
      widths, total: Math.round(num('total')), testPerClass: Math.round(num('testPerClass')), seed: Math.round(num('seed')), probeSteps: PROBE_STEPS,
    };
    if (settings.classes[0] === settings.classes[1]) throw new Error('choose two different classes');
    if (!widths.length || widths.some((w) => !Number.isInteger(w) || w < 1) || widths.length > 4) throw new Error('CNN widths: one to four positive integers, e.g. 8,16,32');
    if (!(settings.total >= 8 && settings.total <= 6000)) throw new Error('training images: between 8 and 6000');
    if (Math.floor(settings.total * settings.minorityShare) < 1) throw new Error(`a ${settings.minorityShare * 100} % share of ${settings.total} images leaves the minority empty: raise the training images`);
    if (settings.batchSize > settings.total) throw new Error(`the batch size ${settings.batchSize} exceeds the ${settings.total} training images`);
    if (!(settings.testPerClass >= 20 && settings.testPerClass <= 500)) throw new Error('test images per class: between 20 and 500');
    return { settings, recipes: side && recipeB !== recipe ? [recipe, recipeB] : side ? [recipe, recipe === 'supcon' ? 'supmin' : 'supcon'] : [recipe] };
  }

  private showSettings(cfg: W.TrainConfig): void {
    const set = (id: string, v: unknown) => void (byId<HTMLInputElement>(id).value = String(v));
    set('classA', cfg.binary![0]);
    set('classB', cfg.binary![1]);
    set('share', cfg.minorityShare);
    set('recipe', cfg.recipe);
    set('temperature', cfg.options.temperature);
    set('batchSize', cfg.batchSize);
    set('epochs', cfg.epochs);
    set('lr', cfg.lr);
    set('widths', cfg.widths.join(','));
    set('seed', cfg.seed);
    set('testPerClass', cfg.testPerClass);
    byId<HTMLInputElement>('sideBySide').checked = false;
  }

  // ---- sessions ---------------------------------------------------------------------------------------

  /** Data and runs for `settings` and `recipes` (not started). */
  private async prepare(settings: CollapseSettings, recipes: RecipeName[], config?: W.TrainConfig): Promise<Session> {
    const fm = await fashionMnist();
    const first = config ?? collapseConfig({ ...settings, recipe: recipes[0] }, 0.01);
    const selection = selectCollapseData(first, fm, settings.total);
    const probeFraction = probeFractionFor(selection.trainCounts);
    const configs = config
      ? [config]
      : recipes.map((recipe) => collapseConfig({ ...settings, recipe }, probeFraction));
    // Every config is checked before anything goes to the device.
    const resolved = configs.map((c) => W.resolveConfig(c));
    if (selection.trainLabels.length < settings.batchSize) throw new Error(`the batch size exceeds the ${selection.trainLabels.length} training images`);
    const data = W.uploadData(selection, fm.train, fm.test);
    const norm = W.datasetSpec('fashion-mnist').norm(data.channels);
    const runs: CollapseRun[] = [];
    try {
      // Side by side always pairs two different losses (see settings()), so the loss names the run.
      for (const r of resolved) runs.push(new CollapseRun(TITLES[r.config.recipe as RecipeName], r, data, norm, this, this.engine.describeAdapter()));
    } catch (e) {
      for (const r of runs) r.dispose();
      W.disposeData(data);
      throw e;
    }
    const session: Session = { data, runs, controller: new AbortController(), settings, done: null, seconds: 0, since: performance.now() };
    this.session = session;
    this.showRuns(session);
    return session;
  }

  private showRuns(s: Session): void {
    const [a, b] = s.data.classNames;
    const counts = s.data.trainCounts;
    s.runs.forEach((run, i) => {
      setText(`title${i}`, `${run.label}: ${a} vs ${b}, minority share ${+(run.config.minorityShare * 100).toFixed(2)} %`);
      byId(`legend${i}`).innerHTML =
        `<span class="dot first" style="background:${CLASS_CSS[0]}"></span>${escapeHtml(a)} (majority, ${counts[0]} training images)` +
        `<span class="dot" style="background:${CLASS_CSS[1]}"></span>${escapeHtml(b)} (minority, ${counts[1]})`;
      byId(`metrics${i}`).innerHTML =
        '<tr><th>epoch</th><th>loss</th><th title="linear probe, balanced accuracy on the test images">bal. acc. %</th>' +
        '<th title="sample alignment accuracy, majority / minority">SAA maj / min</th><th title="class alignment consistency, majority / minority">CAC maj / min</th>' +
        '<th title="angle between the class means">angle</th></tr>';
      byId<HTMLButtonElement>(`download${i}`).disabled = true;
      this.showGeometry(run, i);
    });
    byId('panel1').hidden = s.runs.length < 2;
  }

  private showGeometry(run: CollapseRun, i: number): void {
    const o = run.optimal;
    const verdict = o.angle < 1 ? 'the minority collapses onto the majority' : o.angle > 179 ? 'the classes antipodal' : `the classes ${o.angle.toFixed(0)}° apart`;
    const counts = run.data.trainCounts;
    const p = counts.map((c) => (c / (counts[0] + counts[1])).toFixed(3)).join(', ');
    byId(`geometry${i}`).innerHTML =
      `angle between the class means: learned <b id="angle${i}">${Number.isFinite(run.angle) ? run.angle.toFixed(1) : '–'}°</b>, ` +
      `optimal <b>${o.angle.toFixed(1)}°</b><br><span class="note">optimum at p = [${p}]: ${verdict} ` +
      `(${escapeHtml(o.note)}${o.converged ? '' : '; solver not converged'})</span>`;
  }

  private index(run: CollapseRun): number {
    return this.session?.runs.indexOf(run) ?? -1;
  }

  // ---- the runs' news (RunListener) -------------------------------------------------------------------

  progress(run: CollapseRun, p: W.StepProgress): void {
    const i = this.index(run);
    if (i < 0) return;
    this.chart.add(run.label, SERIES[i], p.step, p.loss);
    if (i === 0) setText('progress', `epoch ${p.epoch}/${run.config.epochs}, step ${p.step}/${p.totalSteps}, loss ${p.loss.toFixed(3)}, ${p.imagesPerSecond.toFixed(0)} images/s`);
  }

  epoch(run: CollapseRun, row: EpochRow): void {
    const i = this.index(run);
    if (i < 0) return;
    const tr = document.createElement('tr');
    tr.innerHTML = `<td>${row.epoch}</td><td>${row.loss.toFixed(3)}</td><td>${pct(100 * row.balancedAccuracy)}</td>` +
      `<td>${pct(row.saa[0])} / ${pct(row.saa[1])}</td><td>${pct(row.cac[0])} / ${pct(row.cac[1])}</td><td>${row.angle.toFixed(1)}°</td>`;
    byId(`metrics${i}`).appendChild(tr);
  }

  embeddings(run: CollapseRun): void {
    const i = this.index(run);
    if (i < 0) return;
    const sphere = this.spheres[i];
    sphere.setPoints(run.points, run.data.testLabels);
    const markers: Marker[] = run.means.map((m, cls) => ({ dir: m, cls, kind: 'mean' }));
    if (run.prototypes) for (const cls of [0, 1]) markers.push({ dir: run.prototypes.subarray(3 * cls, 3 * cls + 3), cls, kind: 'prototype' });
    sphere.setMarkers(markers);
    const angle = document.getElementById(`angle${i}`);
    if (angle) angle.textContent = `${run.angle.toFixed(1)}°`;
  }

  checkpoint(run: CollapseRun): void {
    const i = this.index(run);
    if (i >= 0) byId<HTMLButtonElement>(`download${i}`).disabled = false;
  }

  // ---- buttons ----------------------------------------------------------------------------------------

  async train(): Promise<void> {
    if (this.state === 'paused') return this.resume();
    if (this.state === 'preparing' || this.state === 'training' || this.state === 'stopping') return;
    try {
      let session = this.state === 'restored' ? this.session : null;
      if (session && session.runs.every((r) => r.training.epoch >= r.config.epochs)) session = null;
      if (!session) {
        const { settings, recipes } = this.settings();
        await this.reset();
        this.setState('preparing', 'preparing the data and the model…');
        this.chart.clear();
        this.longestFrame = 0;
        this.longestTask = 0;
        this.gaps.length = 0;
        session = await this.prepare(settings, recipes);
        for (const run of session.runs) await run.start();
      }
      this.launch(session);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Runs every run of the session at once: the loop yields after each step, so their steps interleave. */
  private launch(s: Session): void {
    this.setState('training', `training ${s.runs.map((r) => r.label).join(' and ')} on ${s.data.trainLabels.length} images (${s.data.what})…`);
    s.since = performance.now();
    this.startWatch();
    const gate = () => this.pauseGate?.promise ?? Promise.resolve();
    const ended = s.runs.map((run) => run.run(gate, s.controller.signal).catch((e) => {
      // One run failing stops the other.
      s.controller.abort();
      throw e;
    }));
    s.done = Promise.allSettled(ended).then((results) => {
      s.seconds += (performance.now() - s.since) / 1000;
      this.stopWatch();
      const failure = results.find((r) => r.status === 'rejected' && !(r.reason instanceof W.TrainingAborted)) as PromiseRejectedResult | undefined;
      if (this.session !== s) return;
      if (failure) return this.fail(failure.reason);
      if (results.some((r) => r.status === 'rejected')) return;
      const epochs = s.runs[0].rows.length;
      const what = s.runs.length > 1 ? `${s.runs.map((r) => r.label).join(' and ')}, ${epochs} epoch(s) each,` : `${epochs} epoch(s)`;
      this.setState('done', `done: ${what} in ${s.seconds.toFixed(1)} s (${(epochs / s.seconds).toFixed(3)} epochs/s${s.runs.length > 1 ? ' per run' : ''}, evaluations included)`);
    });
  }

  pauseOrResume(): void {
    if (this.state === 'paused') return this.resume();
    if (this.state !== 'training' || !this.session) return;
    let resolve = () => {};
    const promise = new Promise<void>((r) => (resolve = r));
    this.pauseGate = { promise, resolve };
    const s = this.session;
    s.seconds += (performance.now() - s.since) / 1000;
    this.stopWatch();
    this.setState('paused', 'paused (at the next progress record): Resume continues, Reset stops');
  }

  private resume(): void {
    const gate = this.pauseGate;
    this.pauseGate = null;
    if (!gate) return;
    if (this.session && this.state === 'paused') {
      this.session.since = performance.now();
      this.startWatch();
      this.setState('training', 'training…');
    }
    gate.resolve();
  }

  /** Stops the runs, frees the models, the optimizer state and the data: live bytes go back to the baseline. */
  async reset(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.setState('stopping', 'stopping…');
    s.controller.abort();
    this.resume();
    await s.done;
    for (const r of s.runs) r.dispose();
    W.disposeData(s.data);
    this.session = null;
    for (const sphere of this.spheres) sphere.clear();
    this.chart.clear();
    for (const i of [0, 1]) {
      byId(`metrics${i}`).innerHTML = '';
      byId(`geometry${i}`).innerHTML = '';
      byId(`legend${i}`).innerHTML = '';
      byId<HTMLButtonElement>(`download${i}`).disabled = true;
    }
    byId('panel1').hidden = !byId<HTMLInputElement>('sideBySide').checked;
    setText('progress', '');
    this.setState('idle', `reset: live GPU bytes ${this.engine.memory().liveBytes} (${this.baselineBytes} before any run)`);
  }

  downloadCheckpoint(i: number): void {
    const run = this.session?.runs[i];
    if (!run?.checkpoint) return;
    const c = run.config;
    download(run.checkpoint, `collapse-${c.recipe}-${c.binary!.join('v')}-share${c.minorityShare}-epoch${run.checkpointEpoch}.safetensors`);
  }

  /** A checkpoint file: a new run of its configuration, continued from it (Train trains its remaining epochs). */
  async load(file: File): Promise<void> {
    if (this.state === 'preparing' || this.state === 'stopping') return;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const meta = W.decodeSafetensors(bytes, file.name).metadata;
      const config = JSON.parse(meta.config ?? 'null') as W.TrainConfig | null;
      if (!config || !config.binary || !RECIPES.includes(config.recipe as RecipeName) || config.options?.featDim !== 3) {
        throw new Error(`${file.name} is not a checkpoint of this page (a binary supcon/supmin/supproto run with a 3-D head)`);
      }
      await this.reset();
      this.showSettings(config);
      const { settings } = this.settings();
      this.setState('preparing', `loading ${file.name}…`);
      this.chart.clear();
      const s = await this.prepare(settings, [config.recipe as RecipeName], config);
      await s.runs[0].restore(bytes, file.name);
      byId<HTMLButtonElement>('download0').disabled = false;
      const run = s.runs[0];
      const left = run.config.epochs - run.training.epoch;
      this.setState('restored', `restored ${file.name} after epoch ${run.training.epoch} of ${run.config.epochs}` +
        (left > 0 ? `: Train continues with the remaining ${left}` : ': that run is complete; Train starts a new one'));
    } catch (e) {
      this.fail(e);
    }
  }

  // ---- status -----------------------------------------------------------------------------------------

  private startWatch(): void {
    this.frames.reset();
    this.lastFrame = performance.now();
    this.watching = true;
  }

  private stopWatch(): void {
    if (!this.watching) return;
    this.longestFrame = Math.max(this.longestFrame, this.frames.longest);
    this.watching = false;
  }

  setState(state: State, status: string): void {
    this.state = state;
    if (state !== 'error') this.error = null;
    this.lastStatus = status;
    setText('status', status);
    byId('status').classList.toggle('error', state === 'error');
    const busy = state === 'preparing' || state === 'stopping' || state === 'loading';
    byId<HTMLButtonElement>('train').disabled = busy || state === 'training';
    const complete = this.session?.runs.every((r) => r.training.epoch >= r.config.epochs) ?? true;
    byId<HTMLButtonElement>('train').textContent = state === 'paused' ? 'Resume' : state === 'restored' && !complete ? 'Continue training' : 'Train';
    byId<HTMLButtonElement>('pause').disabled = state !== 'training' && state !== 'paused';
    byId<HTMLButtonElement>('pause').textContent = state === 'paused' ? 'Resume' : 'Pause';
    byId<HTMLButtonElement>('reset').disabled = busy || !this.session;
    byId<HTMLInputElement>('load').disabled = busy;
    this.tick();
  }

  fail(e: unknown): void {
    this.stopWatch();
    const message = e instanceof Error ? e.message : String(e);
    if (this.state !== 'error') console.error(e);
    this.error = message;
    this.setState('error', `error: ${message}`);
  }

  private tick(): void {
    const live = this.engine.memory().liveBytes;
    setText('live', `live GPU bytes: ${(live / 1e6).toFixed(2)} MB (${(this.baselineBytes / 1e6).toFixed(2)} MB before any run)`);
    const frame = this.watching ? Math.max(this.longestFrame, this.frames.longest) : this.longestFrame;
    setText('frame', `while training: longest frame ${frame ? `${frame.toFixed(0)} ms` : '–'}, longest main-thread task ${this.longestTask ? `${this.longestTask.toFixed(0)} ms` : 'under 50 ms'}`);
  }

  /** What the tests read. */
  snapshot() {
    const s = this.session;
    return {
      state: this.state,
      status: this.lastStatus,
      error: this.error,
      liveBytes: this.engine.memory().liveBytes,
      baselineBytes: this.baselineBytes,
      longestFrame: this.watching ? Math.max(this.longestFrame, this.frames.longest) : this.longestFrame,
      longestTask: this.longestTask,
      gaps: this.gaps,
      seconds: s ? s.seconds + (this.state === 'training' ? (performance.now() - s.since) / 1000 : 0) : 0,
      trainImages: s?.data.trainLabels.length ?? 0,
      trainCounts: s?.data.trainCounts ?? [],
      runs: (s?.runs ?? []).map((r, i) => ({
        label: r.label, recipe: r.config.recipe, epoch: r.training.epoch, epochs: r.config.epochs, rows: r.rows,
        losses: r.losses, checkpointEpoch: r.checkpointEpoch, angle: r.angle, optimalAngle: r.optimal.angle,
        embedPasses: r.embedPasses, frames: this.spheres[i].frames, hasPrototypes: !!r.prototypes,
        camera: { yaw: this.spheres[i].yaw, pitch: this.spheres[i].pitch, distance: this.spheres[i].distance },
      })),
    };
  }
}

declare global {
  interface Window {
    collapseDemo?: CollapsePage;
  }
}

/**
 * The spheres draw on a device of their own: a frame presented from the engine's device would queue
 * behind the training's compute passes (one in-order queue), and the compositor would wait for them.
 * Falls back to the engine's device when a second one is refused.
 */
async function renderingDevice(engine: W.Engine): Promise<GPUDevice> {
  try {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter?.requestDevice({ label: 'collapse demo: spheres' });
    if (device) return device;
  } catch {
    // fall through
  }
  return engine.device;
}

async function main(): Promise<void> {
  const engine = await startEngine();
  const page = new CollapsePage(engine, await renderingDevice(engine));
  window.collapseDemo = page;
  page.fillClassLists();
  byId('train').addEventListener('click', () => void page.train());
  byId('pause').addEventListener('click', () => page.pauseOrResume());
  byId('reset').addEventListener('click', () => void page.reset().catch((e) => console.error(e)));
  for (const i of [0, 1]) byId(`download${i}`).addEventListener('click', () => page.downloadCheckpoint(i));
  const load = byId<HTMLInputElement>('load');
  load.addEventListener('change', () => {
    const file = load.files?.[0];
    load.value = '';
    if (file) void page.load(file);
  });
  page.state = 'loading';
  setText('status', 'fetching Fashion-MNIST…');
  try {
    await fashionMnist();
  } catch (e) {
    page.fail(e);
    return;
  }
  page.setState('idle', 'ready: choose the classes, the share and the loss, then Train');
}

void main().catch(() => {
  // startEngine has already replaced the page with the reason.
});
