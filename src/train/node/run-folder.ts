// The run folder as one consistent state: one process at a time (a lock file naming its holder), no
// leftovers of an interrupted atomic write, a log that never runs ahead of the checkpoint it resumes
// from, and no silent mixing of two runs (a folder that holds a run is continued with --resume or
// replaced with --overwrite, never appended to).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/node/atomic.js';

/** The files a run writes into its folder. */
export const RUN_FILES = ['log.jsonl', 'checkpoint.safetensors', 'summary.json', 'metrics.json', 'embeddings.safetensors', 'report.html'] as const;
const LOCK = '.lock';

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** A file-system failure as one line naming the path. */
function fsError(path: string, what: string, e: unknown): Error {
  return new Error(`cannot ${what} ${path}: ${code(e) ?? (e as Error).message}`, { cause: e });
}

/**
 * Checks that `dir` can hold a run, without creating it: creates, writes and renames a probe file in
 * `dir` or, when it does not exist yet, in its nearest existing ancestor (which must be a folder).
 */
export async function probeWritable(dir: string): Promise<void> {
  let at = resolve(dir);
  for (;;) {
    try {
      if (!(await stat(at)).isDirectory()) throw new Error(`cannot use ${dir} as the run folder: ${at} is not a folder`);
      break;
    } catch (e) {
      if (code(e) !== 'ENOENT' || dirname(at) === at) throw code(e) ? fsError(at, 'use', e) : e;
      at = dirname(at);
    }
  }
  const probe = join(at, `.write-probe.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx');
    try {
      await handle.writeFile('probe');
    } finally {
      await handle.close();
    }
    await rename(probe, `${probe}.renamed`);
    await rm(`${probe}.renamed`);
  } catch (e) {
    await rm(probe, { force: true }).catch(() => {});
    throw new Error(`cannot write the run folder ${dir}: writing in ${at} fails (${code(e) ?? (e as Error).message})`, { cause: e });
  }
}

/** Which run files `dir` holds (none when it does not exist). */
export async function runFilesIn(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((e) => {
    if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return [] as string[];
    throw fsError(dir, 'read', e);
  });
  return RUN_FILES.filter((f) => names.includes(f));
}

/** The exclusive right to write a run folder, held through a lock file with the holder's process id. */
export class RunLock {
  private constructor(readonly path: string) {}

  /**
   * Takes the lock of `dir` (which must exist). A lock held by a live process fails at once, naming its
   * process id; a lock left by a process that is gone (on this host) is taken over.
   */
  static async acquire(dir: string): Promise<RunLock> {
    const path = join(dir, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx');
        try {
          await handle.writeFile(`${JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() })}\n`);
        } finally {
          await handle.close();
        }
        return new RunLock(path);
      } catch (e) {
        if (code(e) !== 'EEXIST') throw fsError(path, 'create', e);
      }
      const holder = await readHolder(path);
      if (holder && holder.host === hostname() && isAlive(holder.pid)) {
        throw new Error(`${dir} is in use by process ${holder.pid} (running since ${holder.started}); wait for it to end, or give another --out`);
      }
      if (holder && holder.host !== hostname()) {
        throw new Error(`${dir} is locked by process ${holder.pid} on host ${holder.host}; if that run is gone, remove ${path}`);
      }
      // Stale: its process is gone (or the file is unreadable, a crash while writing it).
      await rm(path, { force: true });
    }
    throw new Error(`cannot lock ${dir}: ${path} keeps reappearing (another run starting at the same time?)`);
  }

  /** Gives the lock up. */
  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

async function readHolder(path: string): Promise<{ pid: number; host: string; started: string } | null> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8'));
    return Number.isInteger(h.pid) ? h : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by another user.
    return code(e) === 'EPERM';
  }
}

/** Removes the temporary files of atomic writes that a crash interrupted; returns their names. */
export async function removeLeftovers(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('.') && n.endsWith('.tmp'));
  await Promise.all(names.map((n) => rm(join(dir, n), { force: true })));
  return names;
}

/** Removes a run's files (for --overwrite). */
export async function removeRun(dir: string): Promise<void> {
  await Promise.all(RUN_FILES.map((f) => rm(join(dir, f), { force: true })));
}

/**
 * Cuts `log.jsonl` back to what the checkpoint holds: progress records up to step `step`, epoch records
 * up to epoch `epoch`; anything after (written before a crash) goes, and so does a torn last line.
 * Returns the number of records removed.
 */
export async function truncateLog(dir: string, step: number, epoch: number): Promise<number> {
  const path = join(dir, 'log.jsonl');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (code(e) === 'ENOENT') return 0;
    throw fsError(path, 'read', e);
  }
  const lines = text.split('\n').filter((l) => l.trim());
  const kept = lines.filter((line) => {
    try {
      const r = JSON.parse(line);
      return 'top1' in r ? r.epoch <= epoch : !(r.step > step);
    } catch {
      return false;
    }
  });
  if (kept.length !== lines.length) await writeFileAtomic(path, new TextEncoder().encode(kept.map((l) => `${l}\n`).join('')));
  return lines.length - kept.length;
}
