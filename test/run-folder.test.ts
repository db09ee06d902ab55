// Runs you can trust: crashes at a step, during a checkpoint write and during the diagnostics resume to
// byte-identical weights and the same metrics; one run per folder (a lock naming its holder, stale locks
// taken over); a folder holding a run is refused without --resume or --overwrite; resumed runs keep
// their configuration; a damaged checkpoint is refused naming the tensor; a diverging run stops naming
// the parameter; an unwritable folder is found before any data is loaded. Child processes run the CLI,
// so that a crash is a real SIGKILL.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { main, type CliIo } from '../src/cli/train.js';
import { loadSafetensors } from '../src/io/node/safetensors.js';
import { useTempDirs } from './helpers.js';

const tempDir = useTempDirs('wgc-runs-');
let dir = '';
beforeAll(async () => {
  await T.init({ log: false });
  dir = tempDir();
});

/** 160 images, 10 steps an epoch, 3 epochs; a progress record every 2 steps. */
const RUN = ['--limit-per-class', '16', '--test-per-class', '4', '--widths', '4,4,4', '--batch-size', '16', '--epochs', '3', '--warmup-epochs', '0', '--log-every', '2', '--seed', '5'];

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process; `fault` names a fault point (src/io/node/faults.ts) where it kills itself. */
function cli(args: string[], opts: { fault?: string; uid?: number } = {}): Promise<Child> {
  const env = { ...process.env, ...(opts.fault ? { WEBGPU_CONTRASTIVE_FAULT: opts.fault } : {}) };
  const child = spawn('node_modules/.bin/tsx', ['src/cli/train.ts', ...args], { env, ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Killed by SIGKILL (tsx, between us and the node process, reports it as status 128 + 9). */
function expectKilled(r: Child) {
  expect(r.signal === 'SIGKILL' || r.code === 137, `exit ${r.code} / ${r.signal}: ${r.stderr}`).toBe(true);
}

/** The CLI in this process. */
async function cliHere(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), tty: false, write: () => {} };
  return { code: await main(args, io), out, err };
}

const records = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/** Every checkpoint tensor byte for byte, the final metrics, the log's records: as the uninterrupted run. */
async function expectSameRun(out: string, reference: string) {
  const [a, b] = await Promise.all([reference, out].map((d) => loadSafetensors(join(d, 'checkpoint.safetensors'))));
  expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
  for (const [name, t] of a.tensors) expect(Buffer.compare(Buffer.from(b.tensors.get(name)!.data.buffer), Buffer.from(t.data.buffer)), name).toBe(0);
  const summary = (d: string) => JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8'));
  expect(summary(out).final).toEqual(summary(reference).final);
  const metrics = (d: string) => JSON.parse(readFileSync(join(d, 'metrics.json'), 'utf8'));
  expect(metrics(out)).toEqual(metrics(reference));
  // One record per window and per epoch, none twice, none ahead of the run; losses as the reference's.
  const strip = (rs: Record<string, unknown>[]) => rs.map(({ imagesPerSecond: _, ...r }) => r);
  expect(strip(records(out))).toEqual(strip(records(reference)));
  expect(readdirSync(out).filter((n) => n.endsWith('.tmp') || n === '.lock')).toEqual([]);
}

describe('crash and resume', () => {
  const whole = () => join(dir, 'whole');
  beforeAll(async () => {
    const r = await cli([...RUN, '--out', whole()]);
    expect(r.stderr.replace(/^.*XDG_RUNTIME_DIR.*\n/m, '')).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);

  it('killed at a step of epoch 2: the log is cut back to the checkpoint, the resumed run ends as the uninterrupted one', async () => {
    const out = join(dir, 'kill-step');
    const killed = await cli([...RUN, '--out', out], { fault: 'step:16' });
    expectKilled(killed);
    // The log ran ahead of the epoch-1 checkpoint (steps 12-16); the resume removes those records.
    expect(records(out).filter((r) => !('top1' in r)).map((r) => r.step)).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    const resumed = await cli(['--resume', '--out', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resumed from');
    expect(resumed.stdout).toContain('after epoch 1 (3 log record(s) past it removed)');
    await expectSameRun(out, whole());
  }, 120_000);

  it('killed while writing the epoch-2 checkpoint: the epoch-1 one is intact, the temporary file is removed', async () => {
    const out = join(dir, 'kill-write');
    const killed = await cli([...RUN, '--out', out], { fault: 'before-rename:checkpoint.safetensors#2' });
    expectKilled(killed);
    expect(readdirSync(out).some((n) => n.endsWith('.tmp'))).toBe(true);
    expect((await loadSafetensors(join(out, 'checkpoint.safetensors'))).metadata.epoch).toBe('1');
    const resumed = await cli(['--resume', '--out', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/removed 1 unfinished write\(s\) of an interrupted run: \.checkpoint\.safetensors\.\d+\.[0-9a-f]+\.tmp/);
    await expectSameRun(out, whole());
  }, 120_000);

  it('killed during the diagnostics: resuming the finished run evaluates again and gives the same numbers', async () => {
    const out = join(dir, 'kill-diag');
    const killed = await cli([...RUN, '--out', out], { fault: 'diagnostics' });
    expectKilled(killed);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    const resumed = await cli(['--resume', '--out', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const last = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!);
    expect(last.final.top1).toBeGreaterThan(0);
    expect(last.final.loss).toBeGreaterThan(0);
    await expectSameRun(out, whole());
    // And resuming it once more changes nothing.
    expect((await cli(['--resume', '--out', out])).code).toBe(0);
    await expectSameRun(out, whole());
  }, 120_000);
});

describe('one run per folder', () => {
  it('a second run into a folder in use fails at once naming the holder; a stale lock is taken over', async () => {
    const out = join(dir, 'busy');
    const first = cli([...RUN, '--epochs', '6', '--out', out]);
    // Wait for the first run's lock.
    for (let i = 0; i < 400 && !existsSync(join(out, '.lock')); i++) await new Promise((r) => setTimeout(r, 50));
    const holder = JSON.parse(readFileSync(join(out, '.lock'), 'utf8')).pid;
    const t0 = performance.now();
    const second = await cliHere([...RUN, '--resume', '--out', out]).catch((e) => ({ code: -1, out: [], err: [String(e)] }));
    const third = await cliHere([...RUN, '--overwrite', '--out', out]);
    expect(performance.now() - t0).toBeLessThan(5000);
    for (const r of [second, third]) {
      expect(r.code).not.toBe(0);
      expect(r.err.join('\n')).toMatch(new RegExp(`in use by process ${holder}|holds no checkpoint`));
    }
    expect(third.err[0]).toContain(`in use by process ${holder}`);
    expect((await first).code).toBe(0);
    expect(records(out).filter((r) => 'top1' in r).map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6]);

    // A lock left by a process that is gone.
    const dead = spawnSync('true').pid!;
    writeFileSync(join(out, '.lock'), JSON.stringify({ pid: dead, host: (await import('node:os')).hostname(), started: 'earlier' }));
    const again = await cliHere([...RUN, '--epochs', '7', '--resume', '--out', out]);
    expect(again.err).toEqual([]);
    expect(again.code).toBe(0);
    expect(existsSync(join(out, '.lock'))).toBe(false);
  }, 180_000);

  it('a fresh run into a folder that holds a run is refused; --overwrite replaces it', async () => {
    const out = join(dir, 'twice');
    expect((await cliHere([...RUN, '--epochs', '1', '--out', out])).code).toBe(0);
    const refused = await cliHere([...RUN, '--epochs', '1', '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.err).toEqual([`train: ${out} holds a run (log.jsonl, checkpoint.safetensors, summary.json, metrics.json, embeddings.safetensors, report.html): give --resume to continue it, --overwrite to replace it, or another --out (see --help)`]);
    const again = await cliHere([...RUN, '--epochs', '1', '--overwrite', '--out', out]);
    expect(again.code).toBe(0);
    expect(records(out).filter((r) => 'top1' in r).map((r) => r.epoch)).toEqual([1]);
  }, 120_000);
});

describe('resume keeps the run\'s configuration', () => {
  it('a contradicting flag is refused naming both values and the file; --epochs may grow', async () => {
    const out = join(dir, 'config');
    expect((await cliHere([...RUN, '--epochs', '1', '--out', out])).code).toBe(0);
    const file = join(out, 'checkpoint.safetensors');
    const cases: [string[], string][] = [
      [['--lr', '0.2'], `train: --lr 0.2 contradicts the run's 0.05 in ${file}`],
      [['--widths', '4,8,8'], `train: --widths [4,8,8] contradicts the run's [4,4,4] in ${file}`],
      [['--seed', '6'], `train: --seed 6 contradicts the run's 5 in ${file}`],
      [['--recipe', 'ce-la'], `train: --recipe "ce-la" contradicts the run's "ce" in ${file}`],
      [['--pad', '4'], `train: --pad 4 contradicts the run's 2 in ${file}`],
      [['--epochs', '0'], 'train: --epochs must be an integer ≥ 1'],
    ];
    for (const [flags, message] of cases) {
      const r = await cliHere(['--resume', '--out', out, ...flags]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0].startsWith(message), `${r.err[0]} should start with ${message}`).toBe(true);
    }
    // Safe: more epochs and another log interval; the other settings come from the checkpoint.
    const more = await cliHere(['--resume', '--out', out, '--epochs', '2', '--log-every', '5']);
    expect(more.err).toEqual([]);
    expect(more.code).toBe(0);
    const summary = JSON.parse(more.out.at(-1)!);
    expect(summary.config).toMatchObject({ epochs: 2, logEvery: 5, widths: [4, 4, 4], limitPerClass: 16, seed: 5 });
    expect((await cliHere(['--resume', '--out', out, '--epochs', '1'])).err[0]).toMatch(/^train: --epochs 1: the run in .* has already trained 2 epochs/);
  }, 120_000);
});

describe('damage and divergence', () => {
  it('a checkpoint with one flipped bit is refused, naming the tensor and the file', async () => {
    const out = join(dir, 'flipped');
    expect((await cliHere([...RUN, '--epochs', '1', '--out', out])).code).toBe(0);
    const path = join(out, 'checkpoint.safetensors');
    const bytes = readFileSync(path);
    const file = await loadSafetensors(path);
    // A bit in the middle of fc.weight's data: the header is 8 + N bytes, then the data.
    const header = Number(bytes.readBigUInt64LE(0));
    const layout = JSON.parse(bytes.subarray(8, 8 + header).toString('utf8'));
    const [begin] = layout['fc.weight'].data_offsets;
    bytes[8 + header + begin + 5] ^= 0x10;
    writeFileSync(path, bytes);
    expect(file.tensors.has('fc.weight')).toBe(true);
    const r = await cliHere(['--resume', '--epochs', '2', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([expect.stringMatching(new RegExp(`^train: ${path.replace(/[.]/g, '\\.')}: tensor 'fc\\.weight' fails its checksum \\(stored [0-9a-f]{8}, computed [0-9a-f]{8}\\): the file is damaged$`))]);
  }, 120_000);

  it('a diverging run stops at the progress record that saw it, naming the first parameter that went non-finite', async () => {
    const out = join(dir, 'diverge');
    const r = await cliHere([...RUN, '--lr', '1e30', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^train: a NaN or infinite value appeared in parameter '[a-z0-9_.]+' or its gradient at epoch 1, steps \d+-\d+; stopped\. No checkpoint was written/);
  }, 120_000);

  it('an unwritable run folder is found before any data is loaded, and nothing is created', async () => {
    const parent = join(dir, 'read-only');
    mkdirSync(parent);
    chmodSync(parent, 0o555);
    chmodSync(dir, 0o755);
    // Root ignores file modes: run the child as nobody then.
    const asRoot = process.getuid?.() === 0;
    const out = join(parent, 'run');
    const r = await cli([...RUN, '--data-dir', join(dir, 'no-data-here'), '--out', out], asRoot ? { uid: 65534 } : {});
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => !l.includes('XDG_RUNTIME_DIR'))).toEqual([`train: cannot write the run folder ${out}: writing in ${parent} fails (EACCES)`]);
    expect(existsSync(out)).toBe(false);
    chmodSync(parent, 0o755);
  }, 60_000);
});
