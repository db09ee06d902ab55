// Node-only: safetensors checkpoints on disk (the format itself is in ../safetensors.ts).
import { decodeSafetensors, encodeSafetensors, type Named, type SafetensorsFile, type SafetensorsInput } from '../safetensors.js';
import { writeFileAtomic } from './atomic.js';
import { readBytes } from './files.js';

/** Encodes `tensors` and `metadata` and writes them to `path` atomically (see writeFileAtomic). */
export async function saveSafetensors(
  path: string,
  tensors: Named<SafetensorsInput>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads and decodes the safetensors file at `path`; a malformed file throws a CheckpointError naming it. */
export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await readBytes(path), path);
}
