/**
 * `lifeline/node`: everything in `lifeline/client`, plus {@link createNodeClient}, which
 * brings its own WebSocket (from `ws`).
 */
export * from './client.js';
export { createNodeClient, type NodeClientOptions } from '../adapters/node-client.js';
