import { defineConfig } from 'vitest/config';

// No VK_ICD_FILENAMES here: init() finds a real GPU when there is one and falls back to SwiftShader
// by itself, so the same suite exercises the GPU code paths on a GPU machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // dawn.node is unsafe in worker threads; one process per file.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: files run one at a time, each with the whole machine (SwiftShader is multi-threaded).
    fileParallelism: false,
  },
});
