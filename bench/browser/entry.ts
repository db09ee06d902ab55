// The page side of bench/browser.ts: the same run as Node's, started by the bench through window.runBench.
import { init } from '../../src/index.js';
import { browserBenchRun, type BrowserBenchRun } from './run.js';

declare global {
  interface Window {
    runBench: () => Promise<BrowserBenchRun>;
  }
}

window.runBench = async () => {
  await init({ log: false, matmul: 'register' });
  return browserBenchRun();
};
