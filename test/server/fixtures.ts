/**
 * Fixtures for gateway tests: a real HTTP server on an ephemeral port with a gateway
 * attached, raw clients that are cleaned up with it, and a counting clock for leak checks.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../src/env/index.js';
import {
  AuthError,
  createGateway,
  type Authenticate,
  type Gateway,
  type GatewayOptions,
} from '../../src/entries/server.js';
import { connectRaw, type RawClient, type RawClientOptions } from '../helpers/raw-ws.js';

/**
 * Test credentials: `u:<user>` or `u:<user>@<tenant>`; `expired` is refused as expired;
 * anything else is refused.
 */
export const testAuthenticate: Authenticate = ({ token }) => {
  if (token === 'expired') throw new AuthError('token expired', { expired: true });
  const match = /^u:([^@]+)(?:@(.+))?$/.exec(token ?? '');
  if (match === null) throw new AuthError(`unknown token ${String(token)}`);
  const [, userId = '', tenantId] = match;
  return tenantId === undefined ? { userId } : { userId, tenantId };
};

export interface GatewayFixture extends AsyncDisposable {
  readonly gateway: Gateway;
  readonly server: http.Server;
  readonly url: string;
  /** A raw client, closed when the fixture is disposed. */
  connect(options?: RawClientOptions & { path?: string }): Promise<RawClient>;
  /** A raw client that completed the handshake; `welcome` is consumed. */
  open(
    token: string,
    hello?: Record<string, unknown>,
  ): Promise<{ client: RawClient; welcome: Record<string, unknown> }>;
}

export async function startGateway(options: Partial<GatewayOptions> = {}): Promise<GatewayFixture> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const gateway = createGateway({
    server,
    ...(options.jwt === undefined ? { authenticate: testAuthenticate } : {}),
    ...options,
  });
  const url = `ws://127.0.0.1:${port}/ws`;
  const clients: RawClient[] = [];

  const fixture: GatewayFixture = {
    gateway,
    server,
    url,
    async connect(clientOptions = {}) {
      const target =
        clientOptions.path === undefined ? url : `ws://127.0.0.1:${port}${clientOptions.path}`;
      const client = await connectRaw(target, clientOptions);
      clients.push(client);
      return client;
    },
    async open(token, hello = {}) {
      const client = await fixture.connect();
      client.send({ type: 'hello', token, ...hello });
      const welcome = await client.next();
      assert.equal(welcome['type'], 'welcome', `expected welcome, got ${JSON.stringify(welcome)}`);
      return { client, welcome };
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((c) => c[Symbol.asyncDispose]()));
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fixture;
}

/** The gateway still serves a well-behaved client: handshake, then ping → pong. */
export async function assertServes(fixture: GatewayFixture): Promise<void> {
  const { client } = await fixture.open('u:probe');
  client.send({ type: 'ping', t: 42 });
  assert.deepEqual(await client.next(), { type: 'pong', t: 42 });
  client.close();
  await client.closed();
}

/** Expect the gateway's `close` frame, then the WebSocket close with the same code. */
export async function assertClosedWith(
  client: RawClient,
  code: number,
): Promise<Record<string, unknown>> {
  const frame = await client.nextOf('close');
  assert.equal(frame['code'], code, `close frame ${JSON.stringify(frame)}`);
  assert.equal(typeof frame['reason'], 'string');
  const closed = await client.closed();
  assert.equal(closed.code, code);
  assert.equal(closed.reason, frame['reason']);
  return frame;
}

/** Retry an assertion until it passes or the time is up; never a fixed sleep. */
export { waitFor } from '../helpers/wait.js';

/** The system clock, counting timers that are still pending. */
export function countingClock(): Clock & { readonly pending: number } {
  const pending = new Set<unknown>();
  return {
    now: () => systemClock.now(),
    setTimeout(fn, ms) {
      const handle: unknown = systemClock.setTimeout(() => {
        pending.delete(handle);
        fn();
      }, ms);
      pending.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      pending.delete(handle);
      systemClock.clearTimeout(handle);
    },
    get pending() {
      return pending.size;
    },
  };
}
