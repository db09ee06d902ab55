// Browser bundle entry for test/browser.test.ts: the library, bundled by esbuild for the browser, runs the
// same MLP step as the Node side of the test. The page awaits `window.smokeReady`, then calls `runSmoke()`.
import * as lib from '../../src/index.js';
import { mlpStep, type MatmulVariant, type MlpStepResult } from '../fixtures/mlp-step.js';

declare global {
  interface Window {
    smokeReady: Promise<void>;
    runSmoke: (matmul?: MatmulVariant) => Promise<MlpStepResult>;
  }
}

// The tiling is fixed rather than 'auto': the auto choice times 384³ products, which takes tens of
// seconds on SwiftShader, and each step below names its tiling anyway.
window.smokeReady = lib.init({ log: false, matmul: 'register' }).then(() => {
  window.runSmoke = (matmul) => mlpStep(lib, { matmul });
});
