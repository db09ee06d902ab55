// Acquires a GPUDevice the same way for Node (Dawn through the `webgpu` package) and browsers
// (navigator.gpu), or adopts one the caller injects. Everything above this file is platform-neutral, and
// so is this file: Node's adapter search (./node/dawn.ts) is registered by the Node entry, never imported
// from here, so a browser bundle holds no Node import at all.
import { BROWSER_HINT, NODE_HINT, WebGPUUnavailableError } from './errors.js';

/** How to obtain the device. Every field is optional. */
export interface DeviceOptions {
  /** Use this device as it is (its adapter info is taken from `device.adapterInfo`). */
  device?: GPUDevice;
  /** Use this GPU object (navigator.gpu, or the result of `webgpu`'s create()) instead of the default. */
  gpu?: GPU;
  /**
   * 'auto' (default: a real GPU, else SwiftShader under Node), 'fallback' (force the CPU adapter) or,
   * under Node, a Dawn adapter name. Defaults to the environment variable WEBGPU_ADAPTER.
   */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
  /** Extra Dawn instance flags under Node, e.g. 'enable-dawn-features=disable_robustness'. */
  dawnFlags?: string[];
}

/** What we know of the adapter; printed with every benchmark and training log. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  platform: 'node' | 'browser' | 'injected';
  /** A line worth logging about how the adapter was chosen, if any. */
  note?: string;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: AdapterDescription;
}

/** Optional features we use when the adapter has them. */
export const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'];

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Finds an adapter under Node: `which` is 'auto', 'fallback' or a Dawn adapter name. */
export type NodeAdapterSearch = (which: string, flags: string[], power?: GPUPowerPreference) => Promise<{ adapter: GPUAdapter; note?: string }>;

let nodeSearch: NodeAdapterSearch | null = null;

/** Registers Node's adapter search (the Node entry does, with Dawn). */
export function setNodeAdapterSearch(search: NodeAdapterSearch): void {
  nodeSearch = search;
}

function envAdapter(): string | undefined {
  return isNode ? process.env.WEBGPU_ADAPTER : undefined;
}

function describe(info: GPUAdapterInfo | undefined, platform: AdapterDescription['platform'], note?: string): AdapterDescription {
  const i = (info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const architecture = i.architecture ?? '';
  return {
    vendor: i.vendor ?? '',
    architecture,
    device: i.device ?? '',
    description: i.description ?? '',
    // Dawn reports SwiftShader as a fallback adapter; older browsers lack the field, so check the name too.
    isFallbackAdapter: !!i.isFallbackAdapter || architecture === 'swiftshader',
    platform,
    note,
  };
}

/** The adapter's own limits: WebGPU's defaults (128 MiB bindings, 256 MiB buffers) are far lower. */
function adapterLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  const source = adapter.limits as unknown as Record<string, unknown>;
  for (const key in source) {
    const v = source[key];
    if (typeof v === 'number') limits[key] = v;
  }
  return limits;
}

async function findAdapter(opts: DeviceOptions): Promise<{ adapter: GPUAdapter; platform: 'node' | 'browser'; note?: string }> {
  const which = opts.adapter ?? envAdapter() ?? 'auto';
  const gpu = opts.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (gpu) {
    const adapter = await gpu.requestAdapter({
      powerPreference: opts.powerPreference,
      forceFallbackAdapter: which === 'fallback' || undefined,
    });
    if (!adapter) {
      throw new WebGPUUnavailableError('request-adapter', 'requestAdapter() returned null', isNode ? NODE_HINT : BROWSER_HINT);
    }
    return { adapter, platform: isNode ? 'node' : 'browser' };
  }
  if (isNode) {
    if (!nodeSearch) {
      throw new WebGPUUnavailableError('load-webgpu', "under Node, import the package's Node entry: `import ... from 'webgpu-contrastive'` resolves to it under Node (from this repository's sources: src/node.ts), or pass init({gpu})", NODE_HINT);
    }
    const choice = await nodeSearch(which, opts.dawnFlags ?? [], opts.powerPreference);
    return { ...choice, platform: 'node' };
  }
  throw new WebGPUUnavailableError('navigator.gpu', 'navigator.gpu is undefined in this browser', BROWSER_HINT);
}

/** Finds an adapter and requests a device with the adapter's limits and the optional features it has. */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<AcquiredDevice> {
  if (opts.device) {
    return { device: opts.device, adapter: describe(opts.device.adapterInfo, 'injected') };
  }
  const { adapter, platform, note } = await findAdapter(opts);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits = adapterLimits(adapter);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (e) {
    throw new WebGPUUnavailableError(
      'request-device',
      `requestDevice({features: [${requiredFeatures.join(', ')}], maxBufferSize: ${requiredLimits.maxBufferSize}}) failed: ${(e as Error).message}`,
      isNode ? NODE_HINT : BROWSER_HINT,
    );
  }
  return { device, adapter: describe(adapter.info, platform, note) };
}
