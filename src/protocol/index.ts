/**
 * `lifeline/protocol`: the wire format of protocol version 1. Imports nothing, so it is
 * safe in browsers, mini-programs and Node alike.
 */
export * from './codes.js';
export * from './errors.js';
export * from './frames.js';
export * from './parse.js';
export * from './streams.js';
