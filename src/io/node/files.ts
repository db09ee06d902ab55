// Node-only: reading a whole file with an error that names it (Node's own EISDIR message does not).
import { readFile } from 'node:fs/promises';

/** The bytes of a file; a failure (EISDIR, EACCES, ...) is one line naming the path. */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const raw = await readFile(path);
    return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${path}: ${code === 'EISDIR' ? 'it is a folder, not a file' : code ?? (e as Error).message}`, { cause: e });
  }
}
