/**
 * End-to-end fixture: a real gateway (JWT auth over HS256) on a loopback port, reached by
 * real Lifeline clients through a TCP proxy that can freeze, cut or refuse connections.
 * The gateway can be stopped and started again on the same port, as a restart would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/entries/server.js';
import {
  createNodeClient,
  type ClientOptions,
  type ConnectionState,
  type LifelineClient,
} from '../../src/entries/node.js';
import { signHs256 } from '../helpers/jwt.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

export const SECRET = 'e2e-secret-that-is-long-enough-for-hs256';

/** A `ws` WebSocket that counts the instances still not closed. */
export class CountingWebSocket extends WebSocket {
  static live = new Set<CountingWebSocket>();
  static created = 0;
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    CountingWebSocket.created++;
    CountingWebSocket.live.add(this);
    this.on('close', () => CountingWebSocket.live.delete(this));
  }
}

export interface E2E extends AsyncDisposable {
  readonly proxy: TcpProxy;
  /** URL clients use: through the proxy. */
  readonly url: string;
  gateway(): Gateway;
  /** Stop the gateway like a crash: every TCP connection destroyed, no close frames. */
  kill(): Promise<void>;
  /** Stop the gateway gracefully (sessions get 4007). */
  stop(): Promise<void>;
  /** Start the gateway again on the same port. */
  start(): Promise<void>;
  token(user: string): Promise<string>;
  client(user: string, options?: Partial<ClientOptions>): LifelineClient;
}

export async function startE2E(gatewayOptions: Partial<GatewayOptions> = {}): Promise<E2E> {
  let server: http.Server | undefined;
  let gateway: Gateway | undefined;
  let port = 0;
  const clients: LifelineClient[] = [];

  async function start(): Promise<void> {
    const s = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    port = (s.address() as AddressInfo).port;
    server = s;
    gateway = createGateway({ server: s, jwt: { secret: SECRET }, ...gatewayOptions });
  }

  async function shutdown(graceful: boolean): Promise<void> {
    const s = server;
    const g = gateway;
    server = undefined;
    gateway = undefined;
    if (s === undefined || g === undefined) return;
    if (graceful) await g.close();
    else {
      s.closeAllConnections();
      void g.close();
    }
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  await start();
  const proxy = await startTcpProxy(port);

  const e2e: E2E = {
    proxy,
    url: `ws://127.0.0.1:${proxy.port}/ws`,
    gateway() {
      if (gateway === undefined) throw new Error('the gateway is stopped');
      return gateway;
    },
    kill: () => shutdown(false),
    stop: () => shutdown(true),
    start,
    token: (user) => signHs256(SECRET, { sub: user }),
    client(user, options = {}) {
      const client = createNodeClient({
        url: e2e.url,
        token: () => e2e.token(user),
        WebSocket: CountingWebSocket,
        minReconnectDelayMs: 20,
        maxReconnectDelayMs: 200,
        ...options,
      });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((c) => c.close()));
      await proxy.close();
      await shutdown(true);
    },
  };
  return e2e;
}

export function stateKind(client: LifelineClient): ConnectionState['kind'] {
  return client.state.kind;
}

/** Wait until `client` is in state `kind`. */
export function reach(
  client: LifelineClient,
  kind: ConnectionState['kind'],
  timeoutMs = 5_000,
): Promise<void> {
  return waitFor(
    () => {
      if (client.state.kind !== kind) {
        throw new Error(`state is ${client.state.kind}, expected ${kind}`);
      }
    },
    { timeoutMs },
  );
}
