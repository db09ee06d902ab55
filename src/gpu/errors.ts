/** The step of bringing up WebGPU that failed. */
export type WebGPUStep = 'load-webgpu' | 'navigator.gpu' | 'request-adapter' | 'request-device';

/**
 * Thrown when no usable WebGPU device can be obtained. `step` says which check failed and `hint`
 * what to install or set to fix it, for Node and for browsers.
 */
export class WebGPUUnavailableError extends Error {
  constructor(
    readonly step: WebGPUStep,
    detail: string,
    readonly hint: string,
  ) {
    super(`WebGPU unavailable at step '${step}': ${detail}\nHow to fix: ${hint}`);
    this.name = 'WebGPUUnavailableError';
  }
}

/** A WGSL compile error, located in its `shaders/<family>.wgsl` file. */
export class ShaderCompileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
    this.name = 'ShaderCompileError';
  }
}

/** Raised on the next operation after the device was lost or reported a validation error. */
export class DeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

export const BROWSER_HINT =
  'use a browser with WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows) on https:// or localhost; ' +
  'headless Chromium needs --enable-unsafe-webgpu (enough for compute, also on SwiftShader without a GPU)';

export const NODE_HINT =
  "install the npm package 'webgpu' (npm install) and the Vulkan loader (apt-get install libvulkan1); " +
  'without a GPU install SwiftShader (apt-get install chromium-common, which ships ' +
  '/usr/lib/chromium/vk_swiftshader_icd.json) or point VK_ICD_FILENAMES at a Vulkan driver manifest';
