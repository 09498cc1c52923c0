/**
 * Development or production build: defined in the protocol layer, the lowest one, so that
 * every layer above can read it (see src/protocol/dev.ts).
 */
export { DEV } from '../protocol/dev.js';
