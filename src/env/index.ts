export * from './backoff.js';
export * from './clock.js';
export * from './dev.js';
export * from './page.js';
export * from './scope.js';
