// The engine owns the device and records work: every op appends a dispatch to one open command encoder
// (one compute pass), and the recorded dispatches go to the GPU together when the caller reads a result,
// calls flush(), or the uniform arena fills. Nothing is read back unless asked.
import { acquireDevice, type AdapterDescription, type DeviceOptions } from './gpu/device.js';
import { DeviceError } from './gpu/errors.js';
import { KernelCache, type Constants, type Generated } from './gpu/kernels.js';
import { BufferPool } from './gpu/pool.js';
import type { ShaderFamily } from './gpu/shaders.gen.js';
import type { Tensor } from './tensor.js';

/** Options of {@link init}: how to get the device, and engine tuning. */
export interface EngineOptions extends DeviceOptions {
  /**
   * Matmul style: 'auto' takes the adapter's entry in the winners table (src/ops/tuning/winners.json)
   * or, for an adapter it does not know, measures both styles at start-up and keeps the faster;
   * 'register' or 'shared' forces one.
   */
  matmul?: 'auto' | 'register' | 'shared';
  /** A winners table to use instead of the bundled one (same format; `npm run bench:sweep` writes entries). */
  winners?: unknown;
  /**
   * Store the operands of matmul and conv2d as f16 (accumulating in f32): half the memory traffic, about
   * 3 significant digits per operand. Needs the adapter feature `shader-f16`. Default false.
   */
  f16Storage?: boolean;
  /** Pooled (free) buffer bytes kept for reuse before released buffers are destroyed. Default 1 GiB. */
  maxPooledBytes?: number;
  /** Dispatches recorded before an automatic submit. Default 512. */
  maxDispatchesPerSubmit?: number;
  /** Print the adapter line once at start-up (default true under Node). */
  log?: boolean;
}

/** Memory counters, for tests and for users hunting leaks. */
export interface MemoryInfo {
  /** Tensors created and not yet disposed. */
  liveTensors: number;
  /** Bytes of the live tensors' storage (views of one storage counted once). */
  liveBytes: number;
  /** Bytes of every GPU buffer the engine holds (live, pooled, staging). */
  allocatedBytes: number;
  /** Bytes in free buffers kept for reuse. */
  pooledBytes: number;
  pooledBuffers: number;
  /** Compute pipelines compiled so far. */
  pipelines: number;
}

/** One dispatch: a kernel entry point, its uniforms, storage buffers for bindings 1..n, the grid. */
export interface Dispatch {
  family: ShaderFamily;
  entry: string;
  constants?: Constants;
  /** Generated constants and optional features of the module (see src/gpu/kernels.ts). */
  generated?: Generated;
  /** Contents of the uniform at binding 0 (at most 256 bytes). */
  params: ArrayBuffer;
  /** Storage buffers bound at 1, 2, ... in order; null leaves a binding the entry point does not use. */
  buffers: (GPUBuffer | null)[];
  groups: [number, number, number];
}

const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */
const STAGING_USAGE = 0x1 /* MAP_READ */ | 0x8; /* COPY_DST */
const UNIFORM_USAGE = 0x40 /* UNIFORM */ | 0x8; /* COPY_DST */
const PARAMS_MAX = 256;

/** The device, its kernels, buffers and recorder. Get the current one with {@link engine}. */
export class Engine {
  readonly kernels: KernelCache;
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  /**
   * Threads that cooperate on one row or one reduction output (row-wise kernels, tree reductions): up
   * to 256 on GPUs; 4, one SIMD vector, on CPU adapters, where SwiftShader runs invocations as SIMD lanes
   * and workgroup barriers are costly (bench/RESULTS.md, "cooperative threads").
   * Settable, so tests can run the GPU geometry on a CPU adapter.
   */
  cooperativeThreads: number;
  /**
   * Matmul style (see EngineOptions.matmul): 'register' (no workgroup memory) or 'shared' (workgroup
   * tiling). Start-up sets it; each product then runs the variant picked for its shape class. Set to the
   * other style (tests, demos), products run that style's variants (src/ops/matmul.ts).
   */
  matmulVariant: 'register' | 'shared' = 'register';
  /** Whether matmul and conv2d store their operands as f16 (see EngineOptions.f16Storage). Settable. */
  f16Storage = false;

  /** Scopes opened by `scope()`: tensors created inside each, disposed when it ends. */
  readonly scopes: Set<Tensor>[] = [];
  /** False inside `noGrad()`. */
  gradEnabled = true;
  liveTensors = 0;
  liveBytes = 0;
  /** Dispatches recorded since start-up: tests use it to show that bad input fails before GPU work. */
  dispatchCount = 0;
  /** Counter mixed into the key of each random tensor drawn without an explicit seed. */
  randomCounter = 0;
  randomSeed = 0x5eed;

  private pool: BufferPool;
  private staging: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arena: GPUBuffer;
  private arenaData: Uint8Array;
  private slot: number;
  private dispatches = 0;
  private readonly maxDispatches: number;
  private failure: string | null = null;
  private readonly maxX: number;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    opts: EngineOptions = {},
  ) {
    this.limits = device.limits;
    this.features = new Set(device.features as unknown as Iterable<string>);
    this.kernels = new KernelCache(device);
    this.cooperativeThreads = adapter.isFallbackAdapter ? 4 : 256;
    const maxPooled = opts.maxPooledBytes ?? 1 << 30;
    this.pool = new BufferPool(device, STORAGE_USAGE, maxPooled);
    this.staging = new BufferPool(device, STAGING_USAGE, 64 << 20);
    this.maxDispatches = opts.maxDispatchesPerSubmit ?? 512;
    this.slot = Math.max(PARAMS_MAX, device.limits.minUniformBufferOffsetAlignment);
    this.arena = device.createBuffer({ size: this.slot * this.maxDispatches, usage: UNIFORM_USAGE, label: 'uniform arena' });
    this.arenaData = new Uint8Array(this.slot * this.maxDispatches);
    this.maxX = device.limits.maxComputeWorkgroupsPerDimension;
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.failure ??= `GPU device lost (${info.reason}): ${info.message}`;
    });
    device.addEventListener('uncapturederror', (ev) => {
      const message = (ev as GPUUncapturedErrorEvent).error.message;
      this.failure ??= `WebGPU error: ${message}`;
    });
  }

  /** Throws if the device was lost or reported an error since the last check. */
  checkHealthy(): void {
    if (this.failure) throw new DeviceError(this.failure);
  }

  /** A storage buffer of at least `bytes` bytes from the pool. */
  allocBuffer(bytes: number): GPUBuffer {
    const max = this.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new Error(`allocation of ${bytes} bytes exceeds this adapter's maxStorageBufferBindingSize (${max})`);
    }
    return this.pool.acquire(bytes);
  }

  /** Gives a buffer back; it is reused only after the work recorded so far is submitted. */
  freeBuffer(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  /**
   * Workgroup grid for `count` workgroups in a row: x up to the adapter's limit, the rest folded into y.
   * Kernels recover the flat index as id.x + id.y * num_workgroups.x (times the workgroup width).
   */
  grid(count: number): [number, number, number] {
    const n = Math.max(1, count);
    if (n <= this.maxX) return [n, 1, 1];
    return [this.maxX, Math.ceil(n / this.maxX), 1];
  }

  /** Records one dispatch into the open compute pass. */
  dispatch(d: Dispatch): void {
    this.checkHealthy();
    if (d.params.byteLength > PARAMS_MAX) throw new Error(`${d.family}.${d.entry}: uniforms exceed ${PARAMS_MAX} bytes`);
    if (this.dispatches >= this.maxDispatches) this.flush();
    const pipeline = this.kernels.pipeline(d.family, d.entry, d.constants, d.generated);
    const offset = this.dispatches * this.slot;
    this.arenaData.set(new Uint8Array(d.params), offset);
    this.dispatches++;
    this.dispatchCount++;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset, size: d.params.byteLength } }];
    d.buffers.forEach((buffer, i) => buffer && entries.push({ binding: i + 1, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
  }

  private openEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private openPass(): GPUComputePassEncoder {
    this.pass ??= this.openEncoder().beginComputePass();
    return this.pass;
  }

  private closePass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Submits everything recorded so far as one command buffer. */
  flush(): void {
    this.checkHealthy();
    if (!this.encoder) return;
    this.closePass();
    if (this.dispatches > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaData, 0, this.dispatches * this.slot);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.dispatches = 0;
    this.pool.submitted();
  }

  /** Waits until the GPU has finished all submitted work (flushing first). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkHealthy();
  }

  /** Copies `bytes` bytes of `buffer` back to the CPU, after all recorded work. */
  async readBuffer(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const staging = this.staging.acquire(bytes);
    this.closePass();
    this.openEncoder().copyBufferToBuffer(buffer, 0, staging, 0, Math.ceil(bytes / 4) * 4);
    this.flush();
    await staging.mapAsync(1 /* GPUMapMode.READ */, 0, Math.ceil(bytes / 4) * 4);
    const copy = staging.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes);
    staging.unmap();
    this.staging.releaseNow(staging);
    this.checkHealthy();
    return copy;
  }

  /**
   * Uploads data into a buffer. Queue writes run ahead of commands still being recorded, so unless the
   * buffer is `fresh` from the pool (no recorded command uses it), the recorded work is submitted first.
   */
  writeBuffer(buffer: GPUBuffer, data: ArrayBufferView, fresh = false): void {
    if (!fresh && this.dispatches > 0) this.flush();
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Destroys pooled buffers that are not in use. */
  trim(): void {
    this.pool.trim();
    this.staging.trim();
  }

  memory(): MemoryInfo {
    const p = this.pool.stats();
    const s = this.staging.stats();
    return {
      liveTensors: this.liveTensors,
      liveBytes: this.liveBytes,
      allocatedBytes: p.allocatedBytes + s.allocatedBytes + this.arena.size,
      pooledBytes: p.pooledBytes + s.pooledBytes,
      pooledBuffers: p.pooledBuffers + s.pooledBuffers,
      pipelines: this.kernels.size,
    };
  }

  /** One line describing the adapter, for logs and benchmark output. */
  describeAdapter(): string {
    const a = this.adapter;
    const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'unknown adapter';
    return `${name}${a.isFallbackAdapter ? ' (CPU fallback)' : ''} [${a.platform}]`;
  }

  /** Releases the device. Tensors of this engine must not be used afterwards. */
  destroy(): void {
    this.flush();
    this.trim();
    this.arena.destroy();
    this.device.destroy();
    if (current === this) current = null;
  }
}

let current: Engine | null = null;

/**
 * A start-up step of {@link init}, run on each new engine before the adapter line is logged; what it
 * returns is logged with that line.
 */
export type InitHook = (e: Engine, opts: EngineOptions) => Promise<string | void>;

// Ops that tune themselves to the adapter (the matmul tiling) register here as their module loads:
// the engine sits below ops and must not import them, yet their measurement belongs to start-up.
const initHooks: InitHook[] = [];

/** Registers a start-up step that init() runs, in registration order, on every engine it brings up. */
export function onInit(hook: InitHook): void {
  initHooks.push(hook);
}

/** The engine that ops run on; throws if {@link init} has not been awaited. */
export function engine(): Engine {
  if (!current) throw new Error('no WebGPU engine: call `await init()` before creating tensors');
  return current;
}

/**
 * Brings up WebGPU (Node or browser), compiles the kernels and makes the engine current.
 * Calling it again returns the current engine unless it was destroyed.
 */
export async function init(opts: EngineOptions = {}): Promise<Engine> {
  if (current) return current;
  const { device, adapter } = await acquireDevice(opts);
  const e = new Engine(device, adapter, opts);
  if (opts.f16Storage) {
    if (!e.features.has('shader-f16')) {
      e.destroy();
      throw new Error(`init: f16Storage needs the adapter feature shader-f16, which ${e.describeAdapter()} lacks (its features: ${[...e.features].join(', ') || 'none'})`);
    }
    e.f16Storage = true;
  }
  await e.kernels.compileAll();
  current = e;
  const notes: string[] = [];
  for (const hook of initHooks) {
    const note = await hook(e, opts);
    if (note) notes.push(note);
  }
  const log = opts.log ?? (typeof process !== 'undefined' && !!process.versions?.node);
  if (log) {
    console.log(`[webgpu] adapter: ${e.describeAdapter()}; matmul: ${e.matmulVariant}`);
    for (const line of [...notes, adapter.note ?? '']) if (line) console.log(`[webgpu] ${line}`);
  }
  return e;
}
