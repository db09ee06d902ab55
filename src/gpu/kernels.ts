// Shader modules (one per kernel family and specialisation, compiled once) and the pipeline cache. A
// pipeline is keyed by family, entry point, its generated constants and its pipeline constants (WGSL
// `override`s); shapes travel in uniforms, so one pipeline serves every size.
//
// Two ways to specialise a family without copying a kernel:
// - pipeline constants (`override NAME: u32 = ...;`), set per pipeline: the usual way;
// - generated constants, for what an override cannot do (size a function-scope array, name a type):
//   module-scope `const NAME: u32 = ...;`, `const NAME: bool = ...;` or `alias NAME = ...;` whose value
//   the cache rewrites in the source before compiling it (the file's value is the default). A kernel
//   that needs an optional WebGPU feature sits between `// #if <feature>` and `// #endif` lines: it is
//   compiled, with the WGSL `enable`, only into modules that ask for the feature.
import { ShaderCompileError } from './errors.js';
import { SHADER_SOURCES, type ShaderFamily } from './shaders.gen.js';

export type Constants = Record<string, number | boolean>;

/** Optional WebGPU features a kernel may use, and the WGSL extension each one enables. */
const EXTENSIONS = { 'shader-f16': 'f16', subgroups: 'subgroups' } as const;
export type ShaderFeature = keyof typeof EXTENSIONS;

/** How a family's source is specialised before compiling (see the file header). */
export interface Generated {
  /** Values of generated constants: numbers and booleans for `const`, WGSL type names for `alias`. */
  consts?: Record<string, number | boolean | string>;
  /** Features whose `#if` sections are kept (and whose WGSL extensions are enabled). */
  features?: readonly ShaderFeature[];
}

const SECTION = /^\/\/ #if ([\w-]+)\n([\s\S]*?)^\/\/ #endif$/gm;

/** Blank lines in place of `text`, so that compile errors keep the file's line numbers. */
const blank = (text: string) => text.replace(/[^\n]/g, '');

/** A generated constant's declaration: `const NAME: TYPE = value;` or `alias NAME = type;`. */
function declaration(name: string): RegExp {
  return new RegExp(`^(?:const ${name}: (u32|i32|bool) = |alias ${name} = )[^;]+;`, 'm');
}

function formatValue(family: string, name: string, type: string | undefined, value: number | boolean | string): string {
  const bad = () => new Error(`shaders/${family}.wgsl: generated constant ${name} (${type ?? 'alias'}) cannot take ${JSON.stringify(value)}`);
  if (type === undefined) {
    if (typeof value !== 'string' || !/^[\w<>, ]+$/.test(value)) throw bad();
    return `alias ${name} = ${value};`;
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') throw bad();
    return `const ${name}: bool = ${value};`;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || (type === 'u32' && value < 0)) throw bad();
  return `const ${name}: ${type} = ${value}${type === 'u32' ? 'u' : 'i'};`;
}

/**
 * The WGSL of `family` specialised by `g`: generated constants rewritten, the `#if` sections of the
 * requested features kept and the others blanked, their extensions enabled on the first line (so line
 * numbers stay those of the file).
 */
function specialise(family: ShaderFamily, g: Generated = {}): string {
  const features = g.features ?? [];
  let text = SHADER_SOURCES[family].replace(SECTION, (whole, feature: string, body: string) => {
    if (!(feature in EXTENSIONS)) throw new Error(`shaders/${family}.wgsl: '#if ${feature}' names no optional feature (${Object.keys(EXTENSIONS).join(', ')})`);
    return features.includes(feature as ShaderFeature) ? `//\n${body}//` : blank(whole);
  });
  for (const [name, value] of Object.entries(g.consts ?? {})) {
    const re = declaration(name);
    const found = re.exec(text);
    if (!found) throw new Error(`shaders/${family}.wgsl declares no generated constant ${name} (const ${name}: u32|i32|bool = ...; or alias ${name} = ...;)`);
    text = text.replace(re, formatValue(family, name, found[1], value));
  }
  const enables = features.map((f) => `enable ${EXTENSIONS[f]}; `).join('');
  return enables + text;
}

/** A stable key of a specialisation (order of fields and features does not matter). */
function generatedKey(g: Generated | undefined): string {
  if (!g) return '';
  const consts = Object.keys(g.consts ?? {}).sort().map((n) => `${n}=${g.consts![n]}`);
  return `[${[...(g.features ?? [])].sort().join('+')}|${consts.join(',')}]`;
}

export class KernelCache {
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  /** Compiles every family as written and throws a ShaderCompileError (file:line:column) on the first error. */
  async compileAll(): Promise<void> {
    for (const family of Object.keys(SHADER_SOURCES) as ShaderFamily[]) {
      const info = await this.module(family).getCompilationInfo();
      const error = info.messages.find((m) => m.type === 'error');
      if (error) throw new ShaderCompileError(`shaders/${family}.wgsl`, error.lineNum, error.linePos, error.message);
    }
  }

  private module(family: ShaderFamily, g?: Generated): GPUShaderModule {
    const key = `${family}${generatedKey(g)}`;
    let m = this.modules.get(key);
    if (!m) {
      const missing = (g?.features ?? []).filter((f) => !this.device.features.has(f));
      if (missing.length) throw new Error(`shaders/${family}.wgsl: the kernel needs the adapter feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which this adapter lacks`);
      m = this.device.createShaderModule({ label: `shaders/${family}.wgsl${generatedKey(g)}`, code: specialise(family, g) });
      this.modules.set(key, m);
    }
    return m;
  }

  pipeline(family: ShaderFamily, entry: string, constants: Constants = {}, generated?: Generated): GPUComputePipeline {
    const names = Object.keys(constants).sort();
    const key = `${family}${generatedKey(generated)}:${entry}:${names.map((n) => `${n}=${+constants[n]}`).join(',')}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const values: Record<string, number> = {};
      for (const n of names) values[n] = +constants[n];
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(family, generated), entryPoint: entry, constants: values },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
