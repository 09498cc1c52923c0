/**
 * End-to-end fixture for both transports: a real gateway (JWT over HS256) serving
 * WebSocket and polling on one HTTP server, reached through a proxy that can refuse or
 * black-hole WebSocket upgrades and cut connections.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/entries/server.js';
import {
  createNodeClient,
  type ClientOptions,
  type ConnectionState,
  type LifelineClient,
  type PushMessage,
} from '../../src/entries/node.js';
import { signHs256 } from '../helpers/jwt.js';
import { waitFor } from '../helpers/wait.js';
import {
  startWsRefusingProxy,
  type UpgradeMode,
  type WsRefusingProxy,
} from '../helpers/ws-refusing-proxy.js';

export const SECRET = 'transports-secret-that-is-long-enough-for-hs256';

export interface TransportsE2E extends AsyncDisposable {
  readonly proxy: WsRefusingProxy;
  readonly url: string;
  readonly gateway: Gateway;
  client(user: string, options?: Partial<ClientOptions>): LifelineClient;
  publish(user: string, data: unknown): Promise<void>;
}

export async function startTransportsE2E(
  mode: UpgradeMode = 'allow',
  gatewayOptions: Partial<GatewayOptions> = {},
): Promise<TransportsE2E> {
  const server = http.createServer();
  const gateway = createGateway({ server, jwt: { secret: SECRET }, ...gatewayOptions });
  server.on('request', (req, res) => {
    if (!gateway.handleRequest(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = await startWsRefusingProxy((server.address() as AddressInfo).port, mode);
  const clients: LifelineClient[] = [];
  const url = `ws://127.0.0.1:${proxy.port}/ws`;
  return {
    proxy,
    url,
    gateway,
    client(user, options = {}) {
      const client = createNodeClient({
        url,
        token: () => signHs256(SECRET, { sub: user }),
        transports: ['websocket', 'polling'],
        minReconnectDelayMs: 20,
        maxReconnectDelayMs: 200,
        ...options,
      });
      clients.push(client);
      return client;
    },
    async publish(user, data) {
      await gateway.publish({ to: { user }, data });
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((c) => c.close()));
      await gateway.close();
      await proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function collect(client: LifelineClient): PushMessage[] {
  const seen: PushMessage[] = [];
  client.on('message', (m) => seen.push(m));
  return seen;
}

export function states(client: LifelineClient): ConnectionState[] {
  const seen: ConnectionState[] = [];
  client.on('state', ({ to }) => seen.push(to));
  return seen;
}

/** Wait until the client is open on `transport`. */
export function openOn(
  client: LifelineClient,
  transport: 'websocket' | 'polling',
  timeoutMs = 5_000,
): Promise<void> {
  return waitFor(
    () => {
      const s = client.state;
      if (s.kind !== 'open' || s.transport !== transport)
        throw new Error(`state is ${s.kind}/${'transport' in s ? s.transport : '-'}`);
    },
    { timeoutMs },
  );
}
