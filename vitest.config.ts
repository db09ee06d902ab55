import { defineConfig } from 'vitest/config';

// Without a GPU, Dawn finds SwiftShader's Vulkan driver through this manifest (Debian chromium-common).
// Set here rather than in test.env, which does not reach the worker pool (see PLATFORM.md).
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // dawn.node is unsafe in worker threads; one process per file.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: files run one at a time, each with the whole machine (SwiftShader is multi-threaded).
    fileParallelism: false,
  },
});
