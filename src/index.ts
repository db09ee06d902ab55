// The browser entry (and any runtime with its own WebGPU): the platform-neutral API. Under Node, the
// package resolves to ./node.ts instead, which adds Dawn and the file side.
export * from './api.js';
