// The landing page: says which WebGPU adapter the demos will use, or that there is none.
import { startEngine } from './shared.js';

void startEngine().catch(() => {});
