// "Long tail": Fashion-MNIST-LT trained in the page with CE, logit-adjusted CE and BCL, one epoch of each
// recipe in turn, on the library's platform-neutral loop (src/train/loop.ts). After every epoch: the
// per-class test accuracy head → tail, and the Gram matrix of the normalised class means of the test
// embeddings (BCL: its projection head; else the backbone features) beside the solver's optimum for the
// run's class proportions and loss (src/geometry/learned.ts maps a run to its objective, as the run
// report and `npm run geometry -- --run` do). Pause, resume, reset (everything disposed; the live bytes
// shown), a checkpoint download per recipe and loading one back.
import * as W from '../src/index.js';
import { compareGeometry, learnedGram, runObjective, type RunObjective } from '../src/geometry/learned.js';
import { esc, heatmap, PALETTE } from '../src/report/svg.js';
import { byId, download, fashionMnist, FrameWatch, LineChart, setText, startEngine } from './shared.js';

const CLASS_NAMES = [...W.FASHION_MNIST_CLASSES];
const NORM = W.DATASETS['fashion-mnist'].norm(1);
/** The training split's images per class (Fashion-MNIST is balanced). */
const FULL = 6000;

const RECIPES: Record<string, { label: string; color: string }> = {
  ce: { label: 'CE', color: PALETTE[0] },
  'ce-la': { label: 'logit-adjusted CE', color: PALETTE[1] },
  bcl: { label: 'BCL', color: PALETTE[2] },
};

/** What the form says. */
interface Settings {
  imbalance: number;
  /** Head-class training images n_max. */
  cap: number;
  testPerClass: number;
  epochs: number;
  widths: number[];
  batchSize: number;
  seed: number;
  recipes: string[];
  laTau: number;
  bclTemperature: number;
}

/** One recipe's run. */
interface Lane {
  recipe: string;
  training: W.Training;
  objective: RunObjective;
  /** The solver's Gram matrix for this run's proportions and loss, label order. */
  optimal: number[][];
  solveMs: number;
  evaluation?: W.AccuracyReport;
  epochLoss?: number;
  /** Learned Gram matrix of the class means (label order) and the space it was measured in. */
  learned?: number[][];
  space?: string;
  checkpoint?: { bytes: Uint8Array; epoch: number };
}

interface Session {
  data: W.TrainingData;
  lanes: Lane[];
  /** Classes by training count, head first. */
  order: number[];
}

type State = 'idle' | 'busy' | 'running' | 'paused' | 'stopped';

/**
 * Times the page's main thread was busy, each {start, duration} in ms: what the training loop's own
 * JavaScript can block (it yields after every step). Chromium reports every task of 50 ms or more (the
 * Long Tasks API); elsewhere a 20 ms timer that fires late stands in (it also counts time the operating
 * system gave the page no processor). Frame gaps (FrameWatch) count the GPU's work too, which on a CPU
 * fallback shares the processor with the page's compositor.
 */
class StallWatch {
  readonly events: { start: number; duration: number }[] = [];
  readonly what: string;
  constructor() {
    if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
      this.what = 'longest main-thread task';
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) this.events.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask' });
    } else {
      this.what = 'longest main-thread stall (timer lateness)';
      const arm = () => {
        const due = performance.now() + 20;
        setTimeout(() => {
          // A hidden tab's timers are throttled on purpose: not a stall. Short delays are not kept.
          const late = performance.now() - due;
          if (!document.hidden && late >= 50) this.events.push({ start: due, duration: late });
          arm();
        }, 20);
      };
      arm();
    }
  }
  /** The longest event that started in one of `windows` (0 when none). */
  longest(windows: { start: number; end: number }[]): number {
    return this.events.reduce((m, e) => (windows.some((w) => e.start >= w.start && e.start < w.end) ? Math.max(m, e.duration) : m), 0);
  }
}

const frames = new FrameWatch();
const stalls = new StallWatch();
const chart = new LineChart(byId<HTMLCanvasElement>('loss'), 'step', 'training loss (mean of the step)');
let engine: W.Engine;
let startBytes = 0;
let session: Session | null = null;
let state: State = 'idle';
/** The training loop, while one runs. */
let loop: Promise<void> | null = null;
/** Aborts the epoch being trained (reset). */
let current: AbortController | null = null;
let stopRequested = false;
/** Resolves the pause: set while paused. */
let unpause: (() => void) | null = null;
let paused: Promise<void> | null = null;
/** The lane whose geometry is shown; null: the last one evaluated. */
let shownLane: string | null = null;
let lastEvaluated: string | null = null;
/**
 * The training's time, cut into windows charged to the first step of each recipe (it creates the GPU
 * pipelines of every kernel the recipe uses: once per page) or to the rest; the longest frame gap of each.
 */
const watched = {
  windows: [] as { start: number; end: number; part: 'first' | 'rest' }[],
  since: 0,
  frame: { first: 0, rest: 0 },
};
/** Recipes whose first step has been seen on this page. */
const warmed = new Set<string>();

/** Starts measuring a training run. */
function watchStart(): void {
  watched.windows = [];
  watched.frame = { first: 0, rest: 0 };
  watched.since = performance.now();
  frames.reset();
}

/** Charges the time since the last call (its tasks and frame gaps) to `part`. */
function charge(part: 'first' | 'rest'): void {
  const now = performance.now();
  watched.windows.push({ start: watched.since, end: now, part });
  watched.since = now;
  watched.frame[part] = Math.max(watched.frame[part], frames.longest);
  frames.reset();
}

const num = (id: string) => Number(byId<HTMLInputElement | HTMLSelectElement>(id).value);
const checked = (id: string) => byId<HTMLInputElement>(id).checked;
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(1)} %`);
const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(2)} MiB`);

function readSettings(): Settings {
  return {
    imbalance: num('imbalance'), cap: num('cap'), testPerClass: num('test-per-class'), epochs: Math.max(1, Math.round(num('epochs'))),
    widths: byId<HTMLSelectElement>('widths').value.split(',').map(Number), batchSize: num('batch'), seed: Math.max(0, Math.round(num('seed'))),
    recipes: Object.keys(RECIPES).filter((r) => checked(`use-${r}`)), laTau: num('la-tau'), bclTemperature: num('bcl-temperature'),
  };
}

/** Puts a checkpoint's settings back into the form (the run it continues). */
function writeSettings(c: W.TrainConfig): void {
  const set = (id: string, v: string | number) => {
    const el = byId<HTMLInputElement | HTMLSelectElement>(id);
    if (el instanceof HTMLSelectElement && ![...el.options].some((o) => o.value === String(v))) el.add(new Option(String(v), String(v)));
    el.value = String(v);
  };
  set('imbalance', c.imbalance);
  set('cap', c.limitPerClass || FULL);
  set('test-per-class', c.testPerClass);
  set('epochs', c.epochs);
  set('widths', c.widths.join(','));
  set('batch', c.batchSize);
  set('seed', c.seed);
  for (const r of Object.keys(RECIPES)) byId<HTMLInputElement>(`use-${r}`).checked = r === c.recipe;
  if (c.recipe === 'ce-la') set('la-tau', Number(c.options.tau));
  if (c.recipe === 'bcl') set('bcl-temperature', Number(c.options.temperature));
}

/**
 * The run's config for one recipe. The head cap n_max is applied before the long tail is drawn (see
 * capSplit) and recorded as limitPerClass, which then changes nothing (the head has n_max images), so
 * a checkpoint's config says which data it was trained on.
 */
function configFor(s: Settings, recipe: string): W.ResolvedConfig {
  return W.resolveConfig(W.defaultConfig({
    dataset: 'fashion-mnist', imbalance: s.imbalance, limitPerClass: s.cap >= FULL ? 0 : s.cap, testPerClass: s.testPerClass,
    widths: s.widths, batchSize: s.batchSize, epochs: s.epochs, seed: s.seed, logEvery: 1, recipe,
    options: recipe === 'ce-la' ? { tau: s.laTau } : recipe === 'bcl' ? { temperature: s.bclTemperature, featDim: 32 } : {},
  }));
}

/**
 * `cap` seeded images of every class of a split, so that the long-tail profile keeps its shape with a
 * smaller head (selectData draws n_c = n_max · IF^(−c/9) with n_max = the smallest class).
 */
function capSplit(split: W.ImageSplit, cap: number, seed: number): W.ImageSplit {
  if (cap >= FULL) return split;
  const rows = W.balancedSubset(split.labels, cap, { numClasses: CLASS_NAMES.length, seed }).indices;
  const size = split.channels * split.height * split.width;
  const images = new Uint8Array(rows.length * size);
  rows.forEach((r, i) => images.set(split.images.subarray(r * size, (r + 1) * size), i * size));
  return { ...split, images, labels: Uint8Array.from(rows, (r) => split.labels[r]), count: rows.length };
}

const optimalCache = new Map<string, { gram: number[][]; ms: number }>();
/** The optimal class-mean Gram matrix for the proportions `counts` under `o` (memoised: CE and CE-LA share it). */
function optimalGram(o: RunObjective, counts: number[]): { gram: number[][]; ms: number } {
  const key = JSON.stringify([o.loss, o.tau, o.negatives, counts]);
  let hit = optimalCache.get(key);
  if (!hit) {
    const t0 = performance.now();
    const sol = W.solveGeometry(W.geometryObjective(o.loss, { proportions: counts, tau: o.tau, negatives: o.negatives }), { seed: 0 });
    const k = sol.k;
    hit = { gram: Array.from({ length: k }, (_, i) => Array.from(sol.gram.subarray(i * k, (i + 1) * k))), ms: performance.now() - t0 };
    optimalCache.set(key, hit);
  }
  return hit;
}

/** The data of `configs` (they share it) on the device, and a Training per config. */
async function buildSession(configs: W.ResolvedConfig[]): Promise<Session> {
  const c = configs[0].config;
  setText('status', 'loading Fashion-MNIST…');
  const fm = await fashionMnist();
  const train = capSplit(fm.train, c.limitPerClass || FULL, c.seed);
  const selection = W.selectData(c, train, fm.test, 'Fashion-MNIST', CLASS_NAMES);
  const data = W.uploadData(selection, train, fm.test);
  const s: Session = { data, lanes: [], order: headToTail(selection.trainCounts) };
  session = s;
  setText('status', 'solving for the optimal geometry…');
  // Lets the status line paint before the solver (float64, on this thread) runs.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  for (const resolved of configs) {
    const objective = runObjective(resolved.config as unknown as Record<string, unknown>);
    const { gram, ms } = optimalGram(objective, selection.trainCounts);
    s.lanes.push({ recipe: resolved.config.recipe, training: new W.Training(resolved, data, NORM), objective, optimal: gram, solveMs: ms });
  }
  return s;
}

function headToTail(counts: readonly number[]): number[] {
  return counts.map((_, c) => c).sort((a, b) => counts[b] - counts[a] || a - b);
}

/** The test embeddings of a lane's model (BCL: through its projection head), their class-mean Gram matrix. */
async function measureGeometry(s: Session, lane: Lane): Promise<void> {
  const { model, recipe, config } = lane.training;
  const head = recipe.head;
  head?.eval();
  let out: W.Tensor;
  try {
    out = W.cleanBatches(model, s.data.testImages, null, config.batchSize, NORM, (x) => {
      const f = model.features(x);
      return head ? head.forward(f) : f;
    });
  } finally {
    head?.train();
  }
  const [n, d] = out.shape;
  const values = await out.read();
  out.dispose();
  lane.learned = learnedGram(values, n, d, s.data.testLabels).gram;
  lane.space = head ? `BCL's projection head (${d}-d)` : `backbone features (${d}-d)`;
}

/** Trains one epoch of `lane` (the loop is stopped once the epoch's evaluation and checkpoint are done). */
async function trainEpoch(s: Session, lane: Lane): Promise<void> {
  const ctl = new AbortController();
  current = ctl;
  const { label, color } = RECIPES[lane.recipe];
  const total = lane.training.config.epochs;
  try {
    await lane.training.run({
      onStep: async (p) => {
        charge(warmed.has(lane.recipe) ? 'rest' : 'first');
        warmed.add(lane.recipe);
        chart.add(label, color, p.step, p.loss);
        setText('progress', `${label}: epoch ${p.epoch} of ${total}, step ${p.step} of ${p.totalSteps}, ${p.imagesPerSecond.toFixed(0)} images/s`);
        showFrames();
        if (paused) {
          setText('status', `paused after step ${p.step} of ${p.totalSteps} of ${label}.`);
          await paused;
        }
      },
      onEpoch: async (p) => {
        lane.evaluation = p.evaluation;
        lane.epochLoss = p.loss;
        await measureGeometry(s, lane);
        lastEvaluated = lane.recipe;
        render(s);
        charge('rest');
        showFrames();
        ctl.abort();
      },
      onCheckpoint: (bytes, epoch) => {
        lane.checkpoint = { bytes, epoch };
        renderMetrics(s);
        showMemory();
      },
    }, ctl.signal, engine.describeAdapter());
  } catch (e) {
    if (!(e instanceof W.TrainingAborted)) throw e;
  } finally {
    current = null;
  }
}

/** Trains the lanes' remaining epochs, one epoch of each in turn. */
async function trainAll(s: Session): Promise<void> {
  setState('running');
  watchStart();
  setText('status', 'training…');
  try {
    for (;;) {
      if (stopRequested) return;
      const open = s.lanes.filter((l) => l.training.epoch < l.training.config.epochs);
      if (!open.length) break;
      await trainEpoch(s, open.reduce((a, b) => (b.training.epoch < a.training.epoch ? b : a)));
    }
    setText('status', `finished: ${s.lanes.map((l) => `${RECIPES[l.recipe].label} ${l.training.epoch} epoch(s)`).join(', ')}.`);
  } catch (e) {
    showError(e);
  } finally {
    charge('rest');
    showFrames();
    showMemory();
    if (!stopRequested) setState('stopped');
  }
}

async function start(): Promise<void> {
  const settings = readSettings();
  if (!settings.recipes.length) return void showError(new Error('choose at least one recipe'));
  await reset();
  setState('busy');
  try {
    await buildSession(settings.recipes.map((r) => configFor(settings, r)));
    for (const lane of session!.lanes) await lane.training.start();
    showMemory();
  } catch (e) {
    showError(e);
    setState(session ? 'stopped' : 'idle');
    return;
  }
  loop = trainAll(session!).finally(() => (loop = null));
}

function pause(): void {
  if (state !== 'running') return;
  paused = new Promise((resolve) => (unpause = resolve));
  setState('paused');
  setText('status', 'pausing after the current step…');
}

function resume(): void {
  if (state === 'paused') {
    unpause?.();
    paused = unpause = null;
    setState('running');
    setText('status', 'training…');
  } else if (state === 'stopped' && session && !loop) {
    loop = trainAll(session).finally(() => (loop = null));
  }
}

/** Stops the loop, disposes every model and the data; the live bytes go back to where they started. */
async function reset(): Promise<void> {
  stopRequested = true;
  current?.abort();
  unpause?.();
  paused = unpause = null;
  await loop?.catch(() => {});
  loop = null;
  if (session) {
    for (const lane of session.lanes) lane.training.dispose();
    W.disposeData(session.data);
    session = null;
  }
  stopRequested = false;
  shownLane = lastEvaluated = null;
  chart.clear();
  byId('metrics').innerHTML = '<tr><td>no run yet</td></tr>';
  byId('bars').innerHTML = '<p class="cap">after the first epoch</p>';
  byId('geometry').innerHTML = '<p class="cap">after the first epoch</p>';
  byId('geometry-pick').innerHTML = '';
  setText('geometry-caption', '');
  setText('progress', '');
  setText('frame', 'while training: –');
  setState('idle');
  setText('status', 'reset: every tensor disposed.');
  showMemory();
}

async function loadCheckpoint(file: File): Promise<void> {
  const data = new Uint8Array(await file.arrayBuffer());
  let config: W.TrainConfig;
  try {
    const meta = W.decodeSafetensors(data, file.name).metadata;
    if (!meta.config) throw new Error(`${file.name} has no config in its metadata: not a checkpoint of this trainer`);
    config = JSON.parse(meta.config) as W.TrainConfig;
    if (config.dataset !== 'fashion-mnist' || !RECIPES[config.recipe] || config.binary) {
      throw new Error(`${file.name} is a ${config.dataset} ${config.binary ? 'binary ' : ''}run of recipe ${config.recipe}; this page trains Fashion-MNIST-LT with ${Object.keys(RECIPES).join(', ')}`);
    }
  } catch (e) {
    return void showError(e);
  }
  await reset();
  setState('busy');
  writeSettings(config);
  try {
    const s = await buildSession([W.resolveConfig(config)]);
    const lane = s.lanes[0];
    setText('status', `restoring ${file.name}…`);
    await lane.training.restore(data, file.name);
    lane.checkpoint = { bytes: data, epoch: lane.training.epoch };
    lane.evaluation = await lane.training.recipe.evaluate();
    lane.epochLoss = lane.training.lastLoss;
    await measureGeometry(s, lane);
    lastEvaluated = lane.recipe;
    render(s);
    const more = lane.training.epoch < config.epochs ? ' Resume continues its training.' : '';
    setText('status', `restored ${RECIPES[lane.recipe].label} after epoch ${lane.training.epoch} of ${config.epochs} from ${file.name}: top-1 ${pct(lane.evaluation.top1)}.${more}`);
  } catch (e) {
    showError(e);
  }
  showMemory();
  setState(session ? 'stopped' : 'idle');
}

// ---------------------------------------------------------------------------------------------------
// Drawing

function render(s: Session): void {
  renderMetrics(s);
  renderBars(s);
  renderGeometry(s);
  showMemory();
}

function renderMetrics(s: Session): void {
  const head = '<tr><th>recipe</th><th>epoch</th><th>train loss</th><th>top-1</th><th>class avg</th><th>many</th><th>medium</th><th>few</th><th>checkpoint</th></tr>';
  const rows = s.lanes.map((l) => {
    const e = l.evaluation;
    const ck = l.checkpoint ? `<button data-download="${l.recipe}" title="the checkpoint after epoch ${l.checkpoint.epoch} (safetensors; loads back here or in PyTorch)">⬇ ${bytes(l.checkpoint.bytes.byteLength)}</button>` : '–';
    return `<tr data-recipe="${l.recipe}"><td><span style="color:${RECIPES[l.recipe].color}">■</span> ${RECIPES[l.recipe].label}</td>` +
      `<td>${l.training.epoch} / ${l.training.config.epochs}</td><td>${l.epochLoss === undefined || !Number.isFinite(l.epochLoss) ? '–' : l.epochLoss.toFixed(3)}</td>` +
      `<td class="top1">${pct(e?.top1)}</td><td>${pct(e?.classAverage)}</td><td>${pct(e?.many)}</td><td>${pct(e?.medium)}</td><td>${pct(e?.few)}</td><td>${ck}</td></tr>`;
  });
  byId('metrics').innerHTML = head + rows.join('');
}

/** Grouped bars: per class (head → tail) one bar per recipe, the training count under each class. */
function renderBars(s: Session): void {
  const lanes = s.lanes.filter((l) => l.evaluation);
  if (!lanes.length) return;
  const counts = s.data.trainCounts;
  const [w, h, left, right, top, bottom] = [900, 290, 46, 10, 30, 58];
  const pw = w - left - right;
  const ph = h - top - bottom;
  const group = pw / s.order.length;
  const bw = (group * 0.8) / lanes.length;
  const y = (v: number) => top + ph * (1 - v);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11" role="img" aria-label="per-class test accuracy">`;
  for (let v = 0; v <= 100; v += 20) {
    svg += `<line x1="${left}" x2="${left + pw}" y1="${y(v / 100)}" y2="${y(v / 100)}" stroke="${v ? '#e5e5e5' : '#444'}"/>`;
    svg += `<text x="${left - 5}" y="${y(v / 100)}" dy="0.35em" text-anchor="end">${v}</text>`;
  }
  svg += `<text transform="translate(12 ${top + ph / 2}) rotate(-90)" text-anchor="middle">test accuracy (%)</text>`;
  s.order.forEach((c, i) => {
    const x0 = left + i * group + group * 0.1;
    lanes.forEach((l, j) => {
      const v = l.evaluation!.perClass[c];
      if (!Number.isFinite(v)) return;
      // 0 % drawn as a sliver, so that it reads as measured rather than missing.
      const height = Math.max(ph * v, 1.5);
      svg += `<rect class="bar" x="${(x0 + j * bw).toFixed(1)}" y="${(top + ph - height).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${height.toFixed(1)}" fill="${RECIPES[l.recipe].color}">` +
        `<title>${esc(`${CLASS_NAMES[c]}, ${RECIPES[l.recipe].label}: ${pct(v)}`)}</title></rect>`;
    });
    const cx = left + (i + 0.5) * group;
    svg += `<text x="${cx}" y="${top + ph + 14}" text-anchor="middle">${esc(CLASS_NAMES[c])}</text>`;
    svg += `<text x="${cx}" y="${top + ph + 28}" text-anchor="middle" fill="#666">n = ${counts[c]}</text>`;
  });
  svg += `<text x="${left + pw / 2}" y="${h - 6}" text-anchor="middle">class, head → tail (n = training images)</text>`;
  let lx = left;
  for (const l of lanes) {
    const name = `${RECIPES[l.recipe].label} (epoch ${l.training.epoch})`;
    svg += `<rect x="${lx}" y="8" width="12" height="12" fill="${RECIPES[l.recipe].color}"/><text x="${lx + 16}" y="18">${esc(name)}</text>`;
    lx += 16 + name.length * 6.5 + 18;
  }
  byId('bars').innerHTML = `${svg}</svg>`;
}

/** The learned class-mean cosines of one lane beside the optimum, classes head → tail. */
function renderGeometry(s: Session): void {
  const ready = s.lanes.filter((l) => l.learned);
  if (!ready.length) return;
  const lane = ready.find((l) => l.recipe === shownLane) ?? ready.find((l) => l.recipe === lastEvaluated) ?? ready[0];
  byId('geometry-pick').innerHTML = ready.length < 2 ? '' : 'show: ' + ready.map((l) =>
    `<label><input type="radio" name="geo" value="${l.recipe}"${l === lane ? ' checked' : ''}> ${RECIPES[l.recipe].label}</label>`).join('');
  const order = s.order;
  const labels = order.map((c) => CLASS_NAMES[c]);
  const pick = (m: number[][]) => order.map((a) => order.map((b) => m[a][b]));
  const axes = { legend: 'cosine', rowTitle: 'class i (head → tail)', colTitle: 'class j (head → tail)' };
  const o = lane.objective;
  const objective = o.loss === 'bcl' ? `BCL, τ = ${o.tau}` : `SupCon, τ = ${o.tau}, N = ${o.negatives}`;
  byId('geometry').innerHTML =
    heatmap(pick(lane.learned!), labels, `${RECIPES[lane.recipe].label}, epoch ${lane.training.epoch}: cos(μ_i, μ_j), learned`, axes) +
    heatmap(pick(lane.optimal), labels, `optimal: ${objective}`, axes);
  const cmp = compareGeometry(lane.learned!, lane.optimal);
  const groups = (g: number[][]) => (g.length ? g.map((x) => `{${x.map((c) => CLASS_NAMES[c]).join(', ')}}`).join(' ') : 'none');
  setText('geometry-caption',
    `Learned: G = [μ_i·μ_j] of the normalised class means of the L2-normalised test ${lane.space} (${s.data.testLabels.length} test images). ` +
    `Optimal: the Gram matrix minimising the population loss at this run's training proportions (${o.note}; solved in ${lane.solveMs.toFixed(0)} ms). ` +
    `‖G_learned − G_optimal‖_F = ${cmp.distance.toFixed(3)}. Collapsed groups: learned (means < 30° apart) ${groups(cmp.learnedGroups)}; optimal ${groups(cmp.optimalGroups)}.` +
    (lane.recipe === 'bcl' ? '' : ' The backbone features come out of a ReLU and max pooling, so their cosines cannot be negative: the optimum\'s obtuse angles are out of their reach.'));
}

function showFrames(): void {
  const el = byId('frame');
  const ms = (v: number) => (v ? `${v.toFixed(0)} ms` : `< 50 ms`);
  const stall = (part: 'first' | 'rest') => stalls.longest(watched.windows.filter((w) => w.part === part));
  const [first, rest] = [stall('first'), stall('rest')];
  el.textContent = `while training: ${stalls.what} ${ms(rest)}, longest frame gap ${watched.frame.rest.toFixed(0)} ms ` +
    `(first step of each recipe, which creates its GPU pipelines: ${ms(first)} and ${watched.frame.first.toFixed(0)} ms)`;
  el.dataset.stall = String(rest);
  el.dataset.frame = String(watched.frame.rest);
}

function showMemory(): void {
  const m = engine.memory();
  const el = byId('memory');
  el.textContent = `GPU memory: ${bytes(m.liveBytes)} live in ${m.liveTensors} tensors (at start: ${bytes(startBytes)}); ${bytes(m.allocatedBytes)} allocated, ${bytes(m.pooledBytes)} of it pooled for reuse`;
  el.dataset.live = String(m.liveBytes);
  el.dataset.start = String(startBytes);
}

function showError(e: unknown): void {
  console.warn(e);
  const el = byId('status');
  el.textContent = `error: ${(e as Error).message ?? String(e)}`;
  el.className = 'error';
}

function setState(s: State): void {
  state = s;
  byId('status').className = '';
  const running = s === 'running' || s === 'paused';
  const unfinished = !!session?.lanes.some((l) => l.training.epoch < l.training.config.epochs);
  byId<HTMLButtonElement>('start').disabled = running || s === 'busy';
  byId<HTMLButtonElement>('pause').disabled = s !== 'running';
  byId<HTMLButtonElement>('resume').disabled = !(s === 'paused' || (s === 'stopped' && unfinished));
  byId<HTMLButtonElement>('reset').disabled = s === 'idle' || s === 'busy';
  byId<HTMLInputElement>('load').disabled = running || s === 'busy';
  byId<HTMLFieldSetElement>('settings').disabled = running || s === 'busy';
  document.body.dataset.state = s;
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  engine = await startEngine();
  startBytes = engine.memory().liveBytes;
  showMemory();
  setState('idle');
  byId('start').addEventListener('click', () => void start());
  byId('pause').addEventListener('click', pause);
  byId('resume').addEventListener('click', resume);
  byId('reset').addEventListener('click', () => void reset());
  byId<HTMLInputElement>('load').addEventListener('change', (ev) => {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) void loadCheckpoint(file);
  });
  byId('metrics').addEventListener('click', (ev) => {
    const recipe = (ev.target as HTMLElement).closest('button')?.dataset.download;
    const lane = session?.lanes.find((l) => l.recipe === recipe);
    if (lane?.checkpoint) {
      const c = lane.training.config;
      download(lane.checkpoint.bytes, `fashion-mnist-lt-if${c.imbalance}-${lane.recipe}-epoch${lane.checkpoint.epoch}.safetensors`);
    }
  });
  byId('geometry-pick').addEventListener('change', (ev) => {
    shownLane = (ev.target as HTMLInputElement).value;
    if (session) renderGeometry(session);
  });
}

void main().catch(() => {});
