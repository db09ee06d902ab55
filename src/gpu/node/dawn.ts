// Node's WebGPU: the `webgpu` package (Dawn, an optional peer dependency: loaded on first use, with a
// clear error when it is not installed). useDawn() registers it with the device layer; the Node entry
// (src/node.ts) and the Node programs call it, browser code never imports this file.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setNodeAdapterSearch } from '../device.js';
import { NODE_HINT, WebGPUUnavailableError } from '../errors.js';

/** Where Debian's chromium-common installs SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// dawn.node crashes if the object returned by create() is garbage-collected while an adapter or a
// device made from it lives, so every instance we create stays referenced for the process lifetime.
const instances: GPU[] = [];

export interface NodeAdapterChoice {
  adapter: GPUAdapter;
  /** Set when the choice deserves a line in the log (the CPU fallback, a forced adapter). */
  note?: string;
}

type CreateFn = (flags: string[]) => GPU;

async function loadCreate(): Promise<CreateFn> {
  try {
    const mod = (await import('webgpu')) as unknown as { create: CreateFn };
    return mod.create;
  } catch (e) {
    throw new WebGPUUnavailableError('load-webgpu', `cannot load the 'webgpu' package (${(e as Error).message})`, NODE_HINT);
  }
}

function swiftshaderAvailable(): boolean {
  return existsSync(SWIFTSHADER_ICD);
}

/**
 * Whether the Vulkan loader can find any driver manifest (ICD) in its standard places or through its
 * environment variables. With none, asking it for a GPU only makes it print "Found no drivers" before
 * we fall back, so the fallback is taken at once.
 */
function vulkanDriversListed(): boolean {
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES || process.env.VK_ADD_DRIVER_FILES) return true;
  const data = (process.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  const config = (process.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const home = process.env.XDG_DATA_HOME || (process.env.HOME ? join(process.env.HOME, '.local/share') : '');
  const dirs = [...config, '/etc', ...data, home].filter(Boolean).map((d) => join(d, 'vulkan/icd.d'));
  return dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

async function requestFrom(create: CreateFn, flags: string[], power?: GPUPowerPreference): Promise<GPUAdapter | null> {
  const gpu = create(flags);
  instances.push(gpu);
  return gpu.requestAdapter(power ? { powerPreference: power } : undefined);
}

/**
 * Finds an adapter under Node. `which` is 'auto' (a real GPU, else SwiftShader if installed),
 * 'fallback' (SwiftShader) or a Dawn adapter name.
 */
export async function nodeAdapter(which: string, flags: string[], power?: GPUPowerPreference): Promise<NodeAdapterChoice> {
  const create = await loadCreate();
  const useSwiftshader = async (why: string): Promise<NodeAdapterChoice> => {
    if (!swiftshaderAvailable()) {
      throw new WebGPUUnavailableError('request-adapter', `${why}, and SwiftShader is not installed at ${SWIFTSHADER_ICD}`, NODE_HINT);
    }
    // The Vulkan loader reads this when an instance is created, so it must be set before create().
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const adapter = await requestFrom(create, flags, power);
    if (!adapter) throw new WebGPUUnavailableError('request-adapter', `${why}, and SwiftShader (${SWIFTSHADER_ICD}) gave no adapter either`, NODE_HINT);
    return { adapter, note: `${why}; using SwiftShader, Vulkan on the CPU (${SWIFTSHADER_ICD}): expect CPU speed` };
  };
  if (which === 'fallback' || which === 'swiftshader') return useSwiftshader('CPU fallback requested');
  const named = which !== 'auto';
  if (!named && process.platform === 'linux' && !vulkanDriversListed()) return useSwiftshader('no Vulkan driver installed');
  const adapter = await requestFrom(create, named ? [...flags, `adapter=${which}`] : flags, power);
  if (adapter) return { adapter, note: named ? `adapter '${which}' requested` : undefined };
  if (named) {
    throw new WebGPUUnavailableError('request-adapter', `no adapter named '${which}' (Dawn printed the adapters it found above)`, NODE_HINT);
  }
  return useSwiftshader('no GPU adapter found');
}

/** Makes init() find its adapter under Node through Dawn (idempotent). */
export function useDawn(): void {
  setNodeAdapterSearch(nodeAdapter);
}
