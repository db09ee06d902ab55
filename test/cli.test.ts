// The training CLI end to end (in process, through main()): bad arguments give one line and exit status
// 2 before any GPU work; every dataset of the registry trains from files written here (CIFAR-10,
// CIFAR-100 coarse, MedMNIST grey and colour; long-tail and binary), with checkpoint and exact resume;
// a recipe registered from outside trains through the CLI; the terminal progress bar.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { makeBatch, gatherPlan } from '../src/data/augment.js';
import { main, type CliIo } from '../src/cli/train.js';
import { parseTrainArgs } from '../src/train/node/args.js';
import { resolveConfig } from '../src/train/config.js';
import { loadSafetensors } from '../src/io/node/safetensors.js';
import { registerRecipes } from '../src/train/recipes/index.js';
import { evaluateOwn } from '../src/train/recipes/shared.js';
import { writeCifar10, writeCifar100, writeMedMnist } from './fixtures/dataset-files.js';
import { useTempDirs } from './helpers.js';

const tempDir = useTempDirs('wgc-cli-');
let dir = '';
beforeAll(async () => {
  await T.init({ log: false });
  dir = tempDir();
});

/** Runs the CLI, capturing its output. */
async function cli(args: string[], tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const written: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), tty, write: (t) => written.push(t) };
  const code = await main(args, io);
  return { code, out, err, written, summary: code === 0 && out.at(-1)?.startsWith('{') ? JSON.parse(out.at(-1)!) : undefined };
}

/** Tiny and quick: 4-4-4 channels, batch 16, one progress record every 2 steps. */
const SMALL = ['--widths', '4,4,4', '--batch-size', '16', '--log-every', '2', '--seed', '3'];

describe('train CLI, bad arguments', () => {
  const CASES: [string[], RegExp][] = [
    [['--epochs', 'x'], /^train: --epochs must be an integer ≥ 1, got "x" \(see --help\)$/],
    [['--epochs', '0'], /^train: --epochs must be an integer ≥ 1, got "0" \(see --help\)$/],
    [['--lr=-1'], /^train: --lr must be a number > 0, got "-1" \(see --help\)$/],
    [['--frobnicate'], /^train: Unknown option '--frobnicate' \(see --help\)$/],
    [['--recipe', 'nope'], /^train: --recipe must be one of ce, ce-la, balanced-softmax, bcl, supcon-lc, supcon, simclr, supmin, supproto, rebsupcon.*, got "nope" \(see --help\)$/],
    [['--queue-size', '100'], /^train: --queue-size does not apply to --recipe ce \(it applies to rebsupcon\) \(see --help\)$/],
    [['--recipe', 'supmin'], /^train: --recipe supmin needs a two-class task: give --binary A,B \(see --help\)$/],
    [['--labels', 'coarse'], /^train: --labels coarse applies to --dataset cifar100 only, got --dataset fashion-mnist \(see --help\)$/],
    [['--binary', '1'], /^train: --binary must be 2 comma-separated integers ≥ 0, got "1" \(see --help\)$/],
    [['--model', 'resnet33'], /^train: --model must be small-cnn or resnet<6n\+2>/],
    [['--schedule', 'step', '--milestones', '3,2'], /^train: --milestones must be increasing epochs/],
    [['--batch-size', '100000', '--limit-per-class', '5'], /^train: --batch-size 100000 is larger than the 50 training images: give --batch-size 50 or less \(see --help\)$/],
    [['--limit-per-class', '1'], /^train: --batch-size 128 is larger than the 10 training images: give --batch-size 10 or less \(see --help\)$/],
  ];
  it.each(CASES)('%j: one line, exit status 2, no GPU work, no run folder', async (args, message) => {
    const out = join(dir, 'bad');
    const before = T.engine().dispatchCount;
    const r = await cli([...args, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
    expect(T.engine().dispatchCount).toBe(before);
    expect(existsSync(out)).toBe(false);
  });

  it('--resume without a checkpoint is an error, not a fresh start', async () => {
    const out = join(dir, 'nothing-here');
    const r = await cli(['--resume', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`train: --resume: ${out} holds no checkpoint.safetensors to resume from (see --help)`]);
    expect(existsSync(out)).toBe(false);
  });

  it('missing dataset files: one line naming the path, the variable and the download URL; exit status 1', async () => {
    const r = await cli(['--dataset', 'cifar10', '--data-dir', join(dir, 'no-cifar'), '--out', join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    for (const part of [join(dir, 'no-cifar'), 'CIFAR10_DIR', 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz']) expect(r.err[0]).toContain(part);
    const m = await cli(['--dataset', 'medmnist', '--out', join(dir, 'x')]);
    expect(m.err).toEqual(['train: --dataset medmnist needs --data-file NAME.npz (or MEDMNIST_FILE): one MedMNIST v2 .npz (pathmnist, dermamnist, octmnist, pneumoniamnist, retinamnist, breastmnist, bloodmnist, tissuemnist, organamnist, organcmnist, organsmnist), from https://zenodo.org/records/10519652']);
    // A folder where a file belongs: the message names it.
    const f = await cli(['--dataset', 'medmnist', '--data-file', dir, '--out', join(dir, 'x')]);
    expect(f.err).toEqual([`train: cannot read ${dir}: it is a folder, not a file`]);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('a preset sets the paper configuration; later flags override it', () => {
    const { config } = resolveConfig(parseTrainArgs(['--preset', 'bcl-cifar100-lt', '--epochs', '210', '--mu', '0.5']).config);
    expect(config).toMatchObject({
      dataset: 'cifar100', imbalance: 100, model: 'resnet32', classifier: 'cosine', recipe: 'bcl', epochs: 210, batchSize: 256, lr: 0.15,
      schedule: 'step', warmupEpochs: 5, milestones: [160, 180], gamma: 0.1, weightDecay: 5e-4, out: 'runs/cifar100-lt',
    });
    expect(config.options).toMatchObject({ lambda: 2, mu: 0.5, temperature: 0.1, featDim: 128, bclAblation: 'full' });
    // Another recipe after the preset leaves its recipe options behind.
    const two = resolveConfig(parseTrainArgs(['--preset', 'twoclasses-cifar10', '--recipe', 'supmin']).config).config;
    expect(two).toMatchObject({ dataset: 'cifar10', binary: [3, 5], minorityShare: 0.01, recipe: 'supmin', out: 'runs/cifar10-binary' });
    expect(two.options.temperature).toBe(0.07);
    const reb = resolveConfig(parseTrainArgs(['--preset', 'rebsupcon-cifar100-lt']).config).config;
    expect(reb.options).toMatchObject({ temperature: 0.05, numPrototypes: 300, queueSize: 4096 });
  });

  it('--help lists the recipes, the presets and the datasets', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    for (const s of ['--preset', 'bcl-cifar100-lt', 'twoclasses-cifar10', 'rebsupcon-cifar100-lt', 'CIFAR100_DIR', 'MEDMNIST_FILE', '--temperature T', 'bcl 0.1', 'rebsupcon 0.2']) expect(text).toContain(s);
  });
});

describe('train CLI, every dataset from files', () => {
  /** Trains, then the same run split after epoch 1 and resumed: identical checkpoints. */
  async function trainAndResume(name: string, args: string[]) {
    const whole = await cli([...args, ...SMALL, '--epochs', '2', '--warmup-epochs', '0', '--out', join(dir, name)]);
    expect(whole.err).toEqual([]);
    expect(whole.code).toBe(0);
    const first = await cli([...args, ...SMALL, '--epochs', '1', '--warmup-epochs', '0', '--out', join(dir, `${name}-split`)]);
    expect(first.code).toBe(0);
    const resumed = await cli([...args, ...SMALL, '--epochs', '2', '--warmup-epochs', '0', '--resume', '--out', join(dir, `${name}-split`)]);
    expect(resumed.code).toBe(0);
    expect(resumed.summary.final).toEqual(whole.summary.final);
    const [a, b] = await Promise.all([name, `${name}-split`].map((d) => loadSafetensors(join(dir, d, 'checkpoint.safetensors'))));
    for (const [k, t] of a.tensors) expect(Array.from(b.tensors.get(k)!.data as Float32Array), k).toEqual(Array.from(t.data as Float32Array));
    for (const f of ['log.jsonl', 'summary.json', 'metrics.json', 'embeddings.safetensors', 'report.html']) expect(existsSync(join(dir, name, f)), f).toBe(true);
    return whole;
  }

  it('CIFAR-10-LT (3×32×32, 10 classes), with resume', async () => {
    const data = join(dir, 'cifar10');
    mkdirSync(data);
    writeCifar10(data, 12, 3);
    const r = await trainAndResume('c10', ['--dataset', 'cifar10', '--data-dir', data, '--any-record-count', '--imbalance', '3']);
    expect(r.out[1]).toMatch(/^\[train\] CIFAR-10-LT IF 3 \(exp\): \d+ training images, per class \[12, .*, 4\]; 30 test images$/);
    expect(r.summary.classNames[0]).toBe('airplane');
    expect(r.summary.trainCounts).toHaveLength(10);
  }, 300_000);

  it('CIFAR-10, the binary protocol (supmin), and CIFAR-100 with coarse labels', async () => {
    const data = join(dir, 'cifar10');
    const bin = await cli(['--dataset', 'cifar10', '--data-dir', data, '--any-record-count', '--binary', '3,5', '--minority-share', '0.25',
      '--recipe', 'supmin', '--probe-fraction', '0.5', '--probe-steps', '5', '--feat-dim', '8', ...SMALL, '--batch-size', '4', '--epochs', '1', '--out', join(dir, 'c10-binary')]);
    expect(bin.err).toEqual([]);
    expect(bin.summary.classNames).toEqual(['cat', 'dog']);
    const [major, minor] = bin.summary.trainCounts;
    expect(minor / (major + minor)).toBeCloseTo(0.25, 1);
    expect(bin.summary.final.auc).toBeGreaterThanOrEqual(0);
    expect(bin.out.some((l) => l.startsWith('[train] warm-up clamped from 1 to 0 epoch(s)'))).toBe(true);

    const c100 = join(dir, 'cifar100');
    mkdirSync(c100);
    writeCifar100(c100, 2, 1);
    const r = await cli(['--dataset', 'cifar100', '--labels', 'coarse', '--data-dir', c100, '--any-record-count', '--imbalance', '1', ...SMALL, '--epochs', '1', '--out', join(dir, 'c100')]);
    expect(r.code).toBe(0);
    expect(r.summary.trainCounts).toEqual(new Array(20).fill(10));
    expect(r.summary.classNames[0]).toBe('aquatic_mammals');
  }, 300_000);

  it('MedMNIST: BloodMNIST (colour, 8 classes) long-tailed; PneumoniaMNIST (grey) binary, with resume', async () => {
    const blood = join(dir, 'bloodmnist.npz');
    writeMedMnist(blood, 8, 3, 6);
    const r = await cli(['--dataset', 'medmnist', '--data-file', blood, '--imbalance', '2', ...SMALL, '--epochs', '1', '--out', join(dir, 'blood')]);
    expect(r.err).toEqual([]);
    expect(r.summary.classNames[0]).toBe('basophil');
    expect(r.summary.trainCounts).toHaveLength(8);
    const pneumonia = join(dir, 'pneumoniamnist.npz');
    writeMedMnist(pneumonia, 2, 1, 24);
    const p = await trainAndResume('pneumonia', ['--dataset', 'medmnist', '--data-file', pneumonia, '--binary', '0,1', '--minority-share', '0.25']);
    expect(p.summary.classNames).toEqual(['normal', 'pneumonia']);
  }, 300_000);
});

describe('train CLI, a recipe registered from outside', () => {
  it('trains through the CLI with its own option, and --help lists both', async () => {
    registerRecipes({
      recipes: { 'toy-ce': 'a test recipe: cross-entropy on clean batches, logits scaled' },
      options: [{ flag: 'toy-scale', key: 'toyScale', type: 'number', above: 0, arg: 'S', default: 1, help: 'logit scale of toy-ce' }],
      build(ctx) {
        const { model, trainImages, norm, options } = ctx;
        return {
          parts: [['', model]], named: model.namedParameters(), evalLabel: 'eval', evaluate: evaluateOwn(ctx),
          loss: ({ indices, labels }) => T.crossEntropy(T.scale(model.forward(makeBatch(trainImages, gatherPlan(indices), 0, norm)), options.toyScale as number), labels),
          dispose: () => {},
        };
      },
    });
    const help = (await cli(['--help'])).out.join('\n');
    expect(help).toContain('toy-ce');
    expect(help).toContain('--toy-scale S');
    const r = await cli(['--recipe', 'toy-ce', '--toy-scale', '0.5', '--limit-per-class', '8', '--test-per-class', '4', ...SMALL, '--epochs', '1', '--out', join(dir, 'toy')]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.summary.config.options).toEqual({ toyScale: 0.5 });
    expect((await cli(['--recipe', 'ce', '--toy-scale', '2'])).err[0]).toMatch(/--toy-scale does not apply to --recipe ce \(it applies to toy-ce\)/);
  }, 120_000);

  it('on a terminal, progress is one line redrawn in place', async () => {
    const r = await cli(['--limit-per-class', '8', '--test-per-class', '2', ...SMALL, '--epochs', '1', '--out', join(dir, 'tty')], true);
    expect(r.code).toBe(0);
    expect(r.written.filter((t) => t.startsWith('\r')).length).toBeGreaterThanOrEqual(2);
    expect(r.written[0]).toMatch(/^\repoch 1\/1 step 2\/5 loss \d+\.\d+ lr .* ETA .*\x1b\[K$/);
    expect(r.out.some((l) => /^epoch 1\/1 step/.test(l))).toBe(false);
  }, 120_000);
});
