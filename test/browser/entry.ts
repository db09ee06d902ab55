// Browser bundle entry for test/browser.test.ts: the library, bundled by esbuild for the browser, runs the
// same MLP step as the Node side of the test, and the same small training run through the loop. The page awaits `window.smokeReady`, then calls `runSmoke()`.
import * as lib from '../../src/index.js';
import { loopRun, type LoopRunResult } from '../fixtures/loop-run.js';
import { mlpStep, type MatmulVariant, type MlpStepResult } from '../fixtures/mlp-step.js';

declare global {
  interface Window {
    smokeReady: Promise<void>;
    runSmoke: (matmul?: MatmulVariant) => Promise<MlpStepResult>;
    runLoop: () => Promise<LoopRunResult>;
  }
}

// The tiling is fixed rather than 'auto': the auto choice times 384³ products, which takes tens of
// seconds on SwiftShader, and each step below names its tiling anyway.
window.smokeReady = lib.init({ log: false, matmul: 'register' }).then(() => {
  window.runSmoke = (matmul) => mlpStep(lib, { matmul });
  window.runLoop = loopRun;
});
