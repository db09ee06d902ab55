// NumPy's .npz: a ZIP archive of .npy members (np.savez stores them, np.savez_compressed deflates them).
import { parseNpy, type NpyArray } from './npy.js';
import { readZip, type InflateRaw } from './zip.js';

/**
 * The arrays of an .npz archive by name (member name without `.npy`), each member checked (CRC-32, size)
 * and parsed. Throws, naming `source` and the member, on any problem; members that are not .npy are refused.
 */
export async function parseNpz(bytes: Uint8Array, source: string, inflate: InflateRaw): Promise<Map<string, NpyArray>> {
  const out = new Map<string, NpyArray>();
  for (const [name, member] of await readZip(bytes, source, inflate)) {
    if (!name.endsWith('.npy')) throw new Error(`${source}: ZIP member '${name}' is not a .npy array (not an .npz file?)`);
    out.set(name.slice(0, -4), parseNpy(member, `${source}: ${name}`));
  }
  return out;
}
