// Every test file runs under Node: init() finds its WebGPU through Dawn, as the package's Node entry
// arranges (src/node.ts). The files themselves import the browser entry, src/index.ts.
import { useDawn } from '../src/gpu/node/dawn.js';

useDawn();
