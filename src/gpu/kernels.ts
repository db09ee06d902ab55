// Shader modules (one per kernel family, compiled once) and the pipeline cache. A pipeline is keyed by
// family, entry point and its specialisation constants (WGSL `override`s); shapes travel in uniforms,
// so one pipeline serves every size.
import { ShaderCompileError } from './errors.js';
import { SHADER_SOURCES, type ShaderFamily } from './shaders.gen.js';

export type Constants = Record<string, number | boolean>;

export class KernelCache {
  private modules = new Map<ShaderFamily, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  /** Compiles every family and throws a ShaderCompileError (file:line:column) on the first error. */
  async compileAll(): Promise<void> {
    for (const family of Object.keys(SHADER_SOURCES) as ShaderFamily[]) {
      const info = await this.module(family).getCompilationInfo();
      const error = info.messages.find((m) => m.type === 'error');
      if (error) throw new ShaderCompileError(`shaders/${family}.wgsl`, error.lineNum, error.linePos, error.message);
    }
  }

  private module(family: ShaderFamily): GPUShaderModule {
    let m = this.modules.get(family);
    if (!m) {
      m = this.device.createShaderModule({ label: `shaders/${family}.wgsl`, code: SHADER_SOURCES[family] });
      this.modules.set(family, m);
    }
    return m;
  }

  pipeline(family: ShaderFamily, entry: string, constants: Constants = {}): GPUComputePipeline {
    const names = Object.keys(constants).sort();
    const key = `${family}:${entry}:${names.map((n) => `${n}=${+constants[n]}`).join(',')}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const values: Record<string, number> = {};
      for (const n of names) values[n] = +constants[n];
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(family), entryPoint: entry, constants: values },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
