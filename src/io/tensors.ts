// Engine tensors to and from safetensors entries: the bridge between checkpoints and the GPU.
import { tensor } from '../ops/creation.js';
import type { DType, Tensor } from '../tensor.js';
import { namedEntries, type Named, type SafetensorsDType, type SafetensorsInput, type SafetensorsTensor } from './safetensors.js';

const TO_SAFETENSORS: Record<DType, SafetensorsDType> = { f32: 'F32', i32: 'I32', u32: 'U32' };
const FROM_SAFETENSORS: Partial<Record<SafetensorsDType, DType>> = { F32: 'f32', I32: 'i32', U32: 'u32' };

/**
 * Reads tensors back from the GPU as safetensors entries (F32, I32, U32), e.g. for encodeSafetensors.
 * One read-back per tensor, after all recorded work.
 */
export async function readTensorEntries(tensors: Named<Tensor>): Promise<Map<string, SafetensorsInput>> {
  const out = new Map<string, SafetensorsInput>();
  for (const [name, t] of namedEntries(tensors)) {
    out.set(name, { dtype: TO_SAFETENSORS[t.dtype], shape: [...t.shape], data: await t.read() });
  }
  return out;
}

/**
 * Uploads decoded safetensors entries as tensors (created in the current scope). Throws, naming the
 * tensor, for a dtype the engine has no tensors of (only F32, I32 and U32 map to f32, i32, u32).
 */
export function entriesToTensors(entries: ReadonlyMap<string, SafetensorsTensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, e] of entries) {
    const dtype = FROM_SAFETENSORS[e.dtype];
    if (!dtype) throw new Error(`entriesToTensors: tensor "${name}" is ${e.dtype}; the engine holds only F32, I32 and U32 tensors`);
    out.set(name, tensor(e.data as Float32Array | Int32Array | Uint32Array, e.shape, dtype));
  }
  return out;
}
