/**
 * The client in Node: `createClient` with the `ws` package's WebSocket, which Node 20
 * does not have as a global.
 */
import { WebSocket } from 'ws';
import { createClient } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import type { LifelineClient } from '../client/types.js';

/** Options of {@link createNodeClient}: those of `createClient`; `WebSocket` defaults to `ws`. */
export type NodeClientOptions = ClientOptions;

/** {@link createClient} for Node, with `WebSocket` from the `ws` package unless one is given. */
export function createNodeClient(options: NodeClientOptions): LifelineClient {
  return createClient({ ...options, WebSocket: options.WebSocket ?? WebSocket });
}
