/**
 * `lifeline/shared`: everything `lifeline/client` exports, with a `createClient` that also
 * takes `shareConnection` — one connection shared by all tabs of an origin and user. Its
 * own entry (and browser bundle), so that `lifeline/client` does not carry the sharing code.
 */
export * from './client.js';
export {
  createClient,
  DEFAULT_SHARE_CATCH_UP_LIMIT,
  DEFAULT_SHARE_CONFIRM_TIMEOUT_MS,
} from '../client/share/index.js';
export type { SharedClientOptions } from '../client/share/index.js';
export type {
  BroadcastChannelConstructorLike,
  BroadcastChannelLike,
  LockManagerLike,
} from '../client/share/env.js';
