/**
 * Lifeline: `createGateway` on a plain HTTP server with default limits, on the store
 * `lifeline serve` uses by default (SQLite: message log and acks in one file), or on the
 * in-memory log with `--store memory`. Publishes go through `gateway.publish`, exactly
 * as a backend would call it.
 */
import { createGateway, createSqliteStore, type SqliteStore } from '../../src/entries/server.js';
import { WS_PATH } from '../protocol.js';
import { runPeerServer } from './host.js';
import type { PeerFactory, PeerOptions } from './types.js';

function openStore(store: string): SqliteStore | undefined {
  if (store === 'memory') return undefined;
  if (!store.startsWith('sqlite:')) throw new Error(`unknown --store ${store}`);
  return createSqliteStore({ path: store.slice('sqlite:'.length) });
}

const createLifelinePeer: PeerFactory = async (server, options: PeerOptions) => {
  const store = openStore(options.store);
  const gateway = createGateway({
    server,
    path: WS_PATH,
    ...(options.auth === 'jwt'
      ? { jwt: { secret: options.secret } }
      : { authenticate: ({ token }) => ({ userId: token ?? '' }) }),
    ...(store ? { messageLog: store.log, ackStore: store.acks } : {}),
  });
  return {
    peer: 'lifeline',
    store: store ? 'sqlite' : 'memory',
    auth: options.auth === 'jwt' ? 'HS256 JWT' : 'authenticate hook (token = user id)',
    count(channel) {
      if (channel === undefined) return gateway.stats().sessions;
      let n = 0;
      for (const session of gateway.sessions()) if (session.channels.has(channel)) n++;
      return n;
    },
    broadcast: (channel, data) => gateway.publish({ to: { channel }, data }),
    push: (user, data) => gateway.publish({ to: { user }, data }),
    async close() {
      // The gateway first, then the store, once no publish can still be appending.
      await gateway.close();
      await store?.close();
    },
  };
};

await runPeerServer(createLifelinePeer);
