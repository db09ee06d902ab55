// Safetensors to and from Blob, for web pages: a checkpoint to download, a file the user picked to load.
import { decodeSafetensors, encodeSafetensors, type Named, type SafetensorsFile, type SafetensorsInput } from './safetensors.js';

/** `tensors` and `metadata` as a safetensors Blob (type application/octet-stream). */
export function safetensorsBlob(tensors: Named<SafetensorsInput>, metadata: Readonly<Record<string, string>> = {}): Blob {
  return new Blob([encodeSafetensors(tensors, metadata) as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
}

/** Decodes a safetensors Blob or File (`source` names it in errors; default the file's name). */
export async function decodeSafetensorsBlob(blob: Blob, source = (blob as File).name ?? 'safetensors blob'): Promise<SafetensorsFile> {
  return decodeSafetensors(new Uint8Array(await blob.arrayBuffer()), source);
}
