// Node-only: atomic file replacement, so that a crash or a full disk while saving a checkpoint never
// leaves a half-written file where the previous good one was.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { faultPoint } from './faults.js';

/**
 * Writes `bytes` to `path` atomically: into a new temporary file in the same directory (rename is atomic
 * only within one file system), flushed to disk with fsync, then renamed over `path`. Readers see the old
 * file or the complete new one, never a mix. On failure the temporary file is removed and `path` is left
 * as it was; the error names `path`.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  // Hidden, with the pid and random bytes: concurrent writers never share a temporary file.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    faultPoint(`before-rename:${basename(path)}`);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`writeFileAtomic: cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
  // The rename itself lives in the directory: flush it too, so the new file survives a power cut.
  // Windows cannot open a directory for this.
  if (process.platform !== 'win32') {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
