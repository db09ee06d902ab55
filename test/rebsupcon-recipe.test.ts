// Recipe rebsupcon (issue 6) and the engine piece it needs: gradHook (the gradient of an intermediate
// tensor during backward) against float64 references; the MoCo key branch and the queue step by step;
// the Table-6 ablations end to end on a tiny Fashion-MNIST-LT subset with exact resume; bad options.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { loadSafetensors } from '../src/io/node/safetensors.js';
import { ProjectionHead } from '../src/nn/heads.js';
import { SmallCNN, type Classifier } from '../src/nn/resnet.js';
import { resolveConfig } from '../src/train/config.js';
import { train } from '../src/train/node/trainer.js';
import { UsageError } from '../src/train/options.js';
import { recipeFamily, type StepInput } from '../src/train/recipes/index.js';
import type { RebAblation } from '../src/train/recipes/rebsupcon.js';
import { expectClose, rng } from './reference/check.js';
import { normalArr, trainConfig, useTempDirs } from './helpers.js';
import type { Arr } from './reference/ops.js';

const tempDir = useTempDirs('rebsupcon-recipe-test-');
let dir = '';
beforeAll(async () => {
  await T.init({ log: false });
  dir = tempDir();
});

const next = rng(6106);
const up = (a: Arr) => T.tensor(Float32Array.from(a.data), a.shape);

describe('gradHook: the gradient arriving at an intermediate tensor', () => {
  it('hands δ = ∂L/∂y to its callback (float64 reference, two uses summed), passes it on unchanged', async () => {
    // y = h Wᵀ + b is used twice: L = Σ c ⊙ y² + Σ e ⊙ y, so δ = 2 c ⊙ y + e (in float64 from the f32 inputs).
    const [b, i, o] = [5, 6, 3];
    const h = normalArr([b, i], next), w = normalArr([o, i], next), bias = normalArr([o], next), c = normalArr([b, o], next), e = normalArr([b, o], next);
    const y = new Float64Array(b * o);
    for (let r = 0; r < b; r++) for (let k = 0; k < o; k++) {
      let s = bias.data[k];
      for (let j = 0; j < i; j++) s += h.data[r * i + j] * w.data[k * i + j];
      y[r * o + k] = s;
    }
    const wantDelta = y.map((v, n) => 2 * c.data[n] * v + e.data[n]);
    const W = up(w).keep().requireGrad(), bt = up(bias).keep().requireGrad();
    const run = async (hooked: boolean) => {
      let delta: Float32Array | null = null;
      const seen = T.zeros([b, o]).keep();
      let calls = 0;
      T.scope(() => {
        const ht = up(h), ct = up(c), et = up(e);
        const out = T.add(T.matmul(ht, W, { transB: true }), bt);
        const yy = hooked ? T.gradHook(out, (g) => { calls++; T.assign(seen, g); }) : out;
        T.add(T.sum(T.mul(ct, T.square(yy))), T.sum(T.mul(et, yy))).backward();
      });
      if (hooked) delta = (await seen.read()) as Float32Array;
      seen.dispose();
      const grads = [Array.from(await W.grad!.read()), Array.from(await bt.grad!.read())];
      for (const p of [W, bt]) { p.grad!.dispose(); p.grad = null; }
      return { delta, grads, calls };
    };
    const plain = await run(false);
    const hooked = await run(true);
    expect(hooked.calls).toBe(1);
    expectClose(hooked.delta!, wantDelta, 1e-5, 'δ');
    expect(hooked.grads).toEqual(plain.grads);
    // Outside recording the hook is a plain view and its callback never runs.
    let called = false;
    const v = await T.scope(() => T.noGrad(() => T.gradHook(up(c), () => { called = true; }))).read();
    expect(called).toBe(false);
    expectClose(v, c.data, 0, 'view');
    W.dispose();
    bt.dispose();
  });

  it('in a projection head under rebSupCon: B·‖δ_i‖·sqrt(‖h_i‖² + 1) = B·‖∂L/∂(W_i, b_i)‖, sample i\'s own copy of the last layer', async () => {
    // The recipe's ∇: δ from the hook on the head's last linear output under the mean-reduced loss. The
    // queries are contrast columns of each other's anchors, so L_i is not a function of sample i alone;
    // the per-sample gradient is sample i's term δ_i [h_i; 1]ᵀ of the batch gradient, i.e. the gradient
    // w.r.t. a copy (W_i, b_i) of the layer that only row i's forward uses. Reference: that copy, by autograd.
    const [b, d, k, nq] = [6, 8, 4, 5];
    T.manualSeed(3);
    const proj = new ProjectionHead(d, k);
    const x = up(normalArr([b, d], next)).keep();
    const keys = T.scope(() => T.l2Normalize(up(normalArr([b, k], next)))).keep();
    const labels = T.tensor(Int32Array.from([0, 1, 2, 0, 1, 1]), [b], 'i32').keep();
    const queue = { keys: T.scope(() => T.l2Normalize(up(normalArr([nq, k], next)))).keep(), labels: T.tensor(Int32Array.from([0, 2, 1, 1, 0]), [nq], 'i32').keep() };
    const loss = (y: T.Tensor) => T.rebSupCon(T.l2Normalize(y), keys, labels, queue, { normalize: false });
    const hookNorms = T.zeros([b]).keep();
    T.scope(() => {
      const { hidden, output } = proj.split(x);
      loss(T.gradHook(output, (g) => T.assign(hookNorms, T.scale(T.perSampleGradNorms(g, hidden, { bias: true }), b)))).backward();
    });
    for (const p of proj.parameters()) { p.grad?.dispose(); p.grad = null; }
    const got = await hookNorms.read();
    const [w, bias] = proj.namedParameters().filter(([n]) => n.startsWith('3.')).map(([, p]) => p);
    for (let r = 0; r < b; r++) {
      const wr = T.tensor(await w.read(), w.shape).keep().requireGrad(), br = T.tensor(await bias.read(), bias.shape).keep().requireGrad();
      const mask = new Float32Array(b * k).fill(1, r * k, (r + 1) * k);
      T.scope(() => {
        const hidden = T.noGrad(() => proj.split(x).hidden);
        const shared = T.noGrad(() => T.add(T.matmul(hidden, w, { transB: true }), bias));
        const own = T.add(T.matmul(hidden, wr, { transB: true }), br);
        const m = T.tensor(mask, [b, k]);
        loss(T.add(T.mul(own, m), T.mul(shared, T.affine(m, -1, 1)))).backward();
      });
      const want = b * Math.hypot(...(await wr.grad!.read()), ...(await br.grad!.read()));
      expect(Math.abs(got[r] - want) / want, `sample ${r}`).toBeLessThan(1e-4);
      for (const t of [wr, br]) { t.grad!.dispose(); t.dispose(); }
    }
    for (const t of [x, keys, labels, queue.keys, queue.labels, hookNorms]) t.dispose();
    proj.dispose();
  });
});

describe('recipe rebsupcon, step by step (synthetic images)', () => {
  it('the key branch is the EMA of the query branch (host recurrence over 2 steps); the queue holds the latest keys', async () => {
    // 40 random 28×28 images of 4 classes, B = 8, Q = 20 (not a multiple of 8: the third enqueue wraps).
    const [n, classes, b, q, m] = [40, 4, 8, 20, 0.9];
    const { config: cfg } = resolveConfig(trainConfig({
      recipe: 'rebsupcon', batchSize: b, featDim: 8, temperature: 0.2, queueSize: q, numPrototypes: 4, mocoMomentum: m,
    }));
    T.manualSeed(11);
    const makeModel = () => new SmallCNN(classes, { inChannels: 1, inputSize: 28, widths: [4, 8, 8] });
    const model = makeModel();
    const trainImages = T.rand([n, 1, 28, 28]).keep();
    const trainLabels = Int32Array.from({ length: n }, (_, i) => i % classes);
    const norm = { mean: [0.5], std: [0.3] };
    const recipe = recipeFamily('rebsupcon').build({
      model, trainImages, trainLabels, trainCounts: [10, 10, 10, 10], testImages: trainImages, testLabels: trainLabels, norm, makeModel,
      recipe: 'rebsupcon', options: cfg.options, seed: cfg.seed, batchSize: b,
    });
    const part = (prefix: string) => recipe.parts.find(([p]) => p === prefix)![1];
    const [keyModel, keyHead, head] = [part('key.') as Classifier, part('key_head.') as ProjectionHead, part('head.')];
    const state = new Map(recipe.state);
    const opt = new T.SGD(recipe.named.map(([, p]) => p), { lr: 0.1, momentum: 0.9 });
    const read = async (mod: T.Module) => Promise.all(mod.namedParameters().map(async ([, p]) => Array.from(await p.read())));
    const queryParams = async () => [...(await read(model)), ...(await read(head))];
    const keyParams = async () => [...(await read(keyModel)), ...(await read(keyHead))];
    const batch = (step: number) => Int32Array.from({ length: b }, (_, i) => (step * b + 3 * i) % n);
    const step = (s: number) => {
      const indices = batch(s);
      const labels = T.tensor(Array.from(indices, (i) => trainLabels[i]), [b], 'i32');
      const input: StepInput = { indices, labels, step: s, random: () => 0 };
      T.scope(() => {
        recipe.loss(input).backward();
        opt.step();
        opt.zeroGrad();
        recipe.afterStep!(input);
      });
      labels.dispose();
    };
    const q0 = await queryParams();
    expect(await keyParams()).toEqual(q0); // copyParameters
    step(0);
    const q1 = await queryParams();
    const k1 = await keyParams();
    step(1);
    // θ_k ← m θ_k + (1 − m) θ_q before each step's keys, θ_q being the query weights the step starts from.
    const want = q0.map((t, i) => t.map((v, j) => m * (m * v + (1 - m) * v) + (1 - m) * q1[i][j]));
    const k2 = await keyParams();
    k2.forEach((t, i) => expectClose(t, want[i], 1e-6, `key parameter ${i}`));
    expect(k1).not.toEqual(k2);
    step(2);
    expect(await state.get('queue.ptr')!.read()).toEqual(Int32Array.from([(3 * b) % q]));
    // The last batch's keys, recomputed from its key view with the key branch as it is now (the EMA runs
    // before a step's keys, so step 2's key weights are still in place; training-mode batch norm uses the
    // batch's own statistics), sit in rows 16..19, 0..3 in order, with their labels.
    const indices = batch(2);
    const keys = await T.scope(() => T.noGrad(() => {
      const views = T.augmentViews({ data: trainImages, format: 'f32', shape: [n, 1, 28, 28] }, indices, [{ kind: 'randaugment', n: 2, m: 9 }, { kind: 'sim' }], { seed: cfg.seed, step: 2, norm });
      return keyHead.forward(keyModel.features(T.slice(views.batch, 0, b, 2 * b)));
    })).read();
    const rows = Array.from({ length: b }, (_, i) => (2 * b + i) % q);
    const queueKeys = await state.get('queue.keys')!.read();
    const queueLabels = await state.get('queue.labels')!.read();
    const d = cfg.options.featDim as number;
    expectClose(rows.flatMap((r) => Array.from(queueKeys.subarray(r * d, (r + 1) * d))), keys, 1e-6, 'queue rows of the last batch');
    expect(rows.map((r) => queueLabels[r])).toEqual(Array.from(indices, (i) => trainLabels[i]));
    // Unit keys; the prototypes renormalised after the step; ∇̄ seen for every class.
    for (let i = 0; i < b; i++) expect(Math.hypot(...keys.subarray(i * d, (i + 1) * d))).toBeCloseTo(1, 5);
    const c = await part('prototypes.').namedParameters()[0][1].read();
    for (let k = 0; k < 4; k++) expect(Math.hypot(...c.subarray(k * d, (k + 1) * d))).toBeCloseTo(1, 5);
    expect(Array.from(await state.get('rebalancer.seen')!.read())).toEqual([1, 1, 1, 1]);
    expect(Array.from(await state.get('rebalancer.grad_norms')!.read()).every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    recipe.dispose();
    opt.dispose();
    model.dispose();
    trainImages.dispose();
  });
});

/** At most 16 images per class at imbalance 2 (5 steps of 32 an epoch), 4 epochs, 4-8-8 channels, Q = 100 (wraps). */
type Settings = Record<string, unknown>;
const tiny = (out: string, over: Settings = {}) => trainConfig({
  recipe: 'rebsupcon', widths: [4, 8, 8], warmupEpochs: 0, batchSize: 32, limitPerClass: 16, testPerClass: 8, logEvery: 100,
  imbalance: 2, epochs: 4, featDim: 16, probeSteps: 20, probeFraction: 0.1, lr: 0.05, temperature: 0.2, queueSize: 100, out: join(dir, out), ...over,
});
const quiet = { log: () => {} };
const epochLosses = async (out: string) => (await readFile(join(dir, out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'top1' in r).map((r) => r.loss as number);

// Table 6: each row once, the classifier options and ω's inverse reading spread over them.
const ABLATIONS: [RebAblation, Settings][] = [
  ['queue', {}],
  ['rebalance', { rebWeighting: 'inverse' }],
  ['prototypes', { numPrototypes: 6, rebClassifier: 'probe' }],
  // The full method also with BCL's batch-norm head (--head mlp-bn; MoCo v2's Linear-ReLU-Linear is the default).
  ['full', { numPrototypes: 6, head: 'mlp-bn' }],
];

describe.each(ABLATIONS)('recipe rebsupcon, ablation %s', (ablation, extra) => {
  it('lowers its loss, checkpoints the key branch, queue and its state, and resumes exactly', async () => {
    const over = { rebAblation: ablation, ...extra };
    const out = `reb-${ablation}`;
    const lines: string[] = [];
    const whole = await train(tiny(out, over), { log: (l) => lines.push(l) });
    const losses = await epochLosses(out);
    if (process.env.RECIPES_DEBUG) console.log(ablation, losses, whole.final.top1);
    expect(losses.length).toBe(4);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Epoch 1 still contrasts with the queue's random start (flushed after 4 of its 5 steps): the fall
    // from epoch 2 to 4 is on a queue of real keys only (epoch to epoch it is noisy at this size).
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(losses[3]).toBeLessThan(losses[1]);
    const label = extra.rebClassifier === 'probe' ? 'probe' : 'eval';
    expect(lines.some((l) => new RegExp(`^epoch 4/4 ${label} top1 `).test(l))).toBe(true);

    const ckpt = await loadSafetensors(join(dir, out, 'checkpoint.safetensors'));
    const has = (name: string) => ckpt.tensors.has(name);
    // The head on both branches (its last layer is child 2 of MoCo v2's Linear-ReLU-Linear, 3 with batch
    // norm); the key encoder's batch norms keep their own statistics.
    const last = extra.head === 'mlp-bn' ? 3 : 2;
    for (const name of ['key.features.0.weight', 'key.features.1.running_mean', `key_head.${last}.weight`, `head.${last}.weight`,
      'state.queue.keys', 'state.queue.labels', 'state.queue.ptr']) expect(has(name), name).toBe(true);
    // The key branch is not trained: no momentum buffers.
    expect([...ckpt.tensors.keys()].some((k) => k.startsWith('optimizer.momentum_buffer.key'))).toBe(false);
    expect(ckpt.tensors.get('state.queue.keys')!.shape).toEqual([100, 16]);
    // 4 epochs × 5 steps × 32 keys = 640 ≡ 40 (mod 100).
    expect(Array.from(ckpt.tensors.get('state.queue.ptr')!.data as Int32Array)).toEqual([40]);
    const rebalanced = ablation === 'rebalance' || ablation === 'full';
    const prototypes = ablation === 'prototypes' || ablation === 'full';
    for (const name of ['state.rebalancer.grad_norms', 'state.rebalancer.seen']) expect(has(name), name).toBe(rebalanced);
    for (const name of ['prototypes.weight', 'optimizer.momentum_buffer.prototypes.weight']) expect(has(name), name).toBe(prototypes);
    expect(has('optimizer.momentum_buffer.fc.weight')).toBe(extra.rebClassifier !== 'probe');
    if (prototypes) expect(ckpt.tensors.get('prototypes.weight')!.shape).toEqual([6, 16]);
    expect(JSON.parse(ckpt.metadata.config).options.rebAblation).toBe(ablation);

    // Stop after epoch 1, resume with the full config: the same numbers and every checkpoint tensor bit for bit.
    await train(tiny(`${out}-split`, { ...over, epochs: 1 }), quiet);
    const resumed = await train(tiny(`${out}-split`, over), { ...quiet, resume: true });
    expect(resumed.final).toEqual(whole.final);
    const split = await loadSafetensors(join(dir, `${out}-split`, 'checkpoint.safetensors'));
    expect([...split.tensors.keys()].sort()).toEqual([...ckpt.tensors.keys()].sort());
    for (const [name, t] of ckpt.tensors) expect(Array.from(split.tensors.get(name)!.data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
  }, 300_000);
});

describe('recipe rebsupcon, bad options', () => {
  const rejects = async (over: Settings, message: RegExp) => {
    const cfg = tiny('bad', over);
    expect(() => resolveConfig(cfg)).toThrow(UsageError);
    expect(() => resolveConfig(cfg)).toThrow(message);
    const before = T.engine().dispatchCount;
    await expect(train(cfg, quiet)).rejects.toThrow(message);
    expect(T.engine().dispatchCount, 'dispatches recorded before the error').toBe(before);
  };
  it('fail with a clear message before any GPU work', async () => {
    await rejects({ queueSize: 31 }, /^--queue-size 31 must be ≥ the batch size 32/);
    await rejects({ rebAblation: 'rebalancing' }, /^--reb-ablation must be one of queue, rebalance, prototypes, full, got "rebalancing"$/);
    await rejects({ rebClassifier: 'knn' }, /^--reb-classifier must be one of joint, probe, got "knn"$/);
    await rejects({ mocoMomentum: 1.5 }, /^--moco-momentum must be a number ≥ 0 and ≤ 1, got 1.5$/);
    await rejects({ rebAblation: 'queue', rebWeighting: 'inverse' }, /^--reb-weighting inverse needs the rebalancing factor/);
    await rejects({ rebAblation: 'rebalance', numPrototypes: 8 }, /^--prototypes needs the prototype module/);
    await rejects({ recipe: 'supcon', queueSize: 100 }, /^--queue-size does not apply to --recipe supcon \(it applies to rebsupcon\)$/);
    await rejects({ recipe: 'bcl', queueSize: undefined, probeSteps: undefined, probeFraction: undefined, rebAblation: 'queue' }, /^--reb-ablation does not apply to --recipe bcl/);
  });
});

describe('train CLI, rebsupcon flags', () => {
  const cli = (...args: string[]) => promisify(execFile)('node_modules/.bin/tsx', ['src/cli/train.ts', ...args]);
  it('--help names them; another recipe refuses them before training, with exit status 2', async () => {
    const { stdout } = await cli('--help');
    for (const flag of ['--reb-ablation queue|rebalance|prototypes|full', '--reb-weighting paper|inverse', '--reb-classifier joint|probe', '--queue-size Q', '--prototypes K', '--moco-momentum M', '--reb-ce-weight']) {
      expect(stdout).toContain(flag);
    }
    await expect(cli('--recipe', 'supcon', '--queue-size', '100')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/^train: --queue-size does not apply to --recipe supcon \(it applies to rebsupcon\) \(see --help\)\n$/) });
    await expect(cli('--recipe', 'rebsupcon', '--reb-ablation', 'none')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--reb-ablation must be one of queue, rebalance, prototypes, full, got "none"/) });
  }, 60_000);
});
