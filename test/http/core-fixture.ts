/**
 * The gateway core behind the real HTTP API on port 0, with clients that speak raw
 * frames over in-process connections (the core's Connection seam). Used for
 * `GET /api/messages/:id` where a test scripts the client's frames and acks by hand.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApi } from '../../src/adapters/http-api.js';
import {
  createGatewayCore,
  type Connection,
  type ConnectionHandler,
  type GatewayCore,
  type GatewayCoreOptions,
} from '../../src/entries/server.js';
import { testAuthenticate } from '../server/fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { API_KEY } from './fixture.js';

/** A client writing frames straight into the core, reading what the core writes back. */
export interface FrameClient {
  send(frame: unknown): void;
  /** Every frame the gateway wrote, parsed. */
  readonly frames: Record<string, unknown>[];
  /** The pushes received so far. */
  pushes(): Record<string, unknown>[];
  /** Wait until at least `count` pushes arrived. */
  waitForPushes(count: number): Promise<Record<string, unknown>[]>;
  /** Close as a client would (1000), and wait until the core released the session. */
  close(): Promise<void>;
}

export interface CoreApiFixture extends AsyncDisposable {
  readonly url: string;
  readonly core: GatewayCore;
  /** A client that said `hello` with token `u:<user>` and got `welcome`. */
  open(user: string, hello?: Record<string, unknown>): Promise<FrameClient>;
}

export async function startCoreApi(
  options: Partial<GatewayCoreOptions> = {},
): Promise<CoreApiFixture> {
  const core = createGatewayCore({ authenticate: testAuthenticate, ...options });
  const api = createHttpApi(core, { apiKey: API_KEY });
  const server = createServer((req, res) => {
    void (async () => {
      if (await api(req, res)) return;
      res.writeHead(404).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  async function open(user: string, hello: Record<string, unknown> = {}): Promise<FrameClient> {
    const raw: string[] = [];
    let released: (() => void) | undefined;
    const gone = new Promise<void>((resolve) => (released = resolve));
    const connection: Connection = {
      info: { remoteAddress: '127.0.0.1', headers: {}, transport: 'websocket' },
      bufferedAmount: 0,
      send: (text) => raw.push(text),
      close(code, reason) {
        queueMicrotask(() => {
          handler.closed(code, reason);
          released?.();
        });
      },
      terminate() {
        queueMicrotask(() => {
          handler.closed(1006, '');
          released?.();
        });
      },
    };
    const handler: ConnectionHandler = core.accept(connection);
    const client: FrameClient = {
      send(frame) {
        const text = JSON.stringify(frame);
        handler.message(text, Buffer.byteLength(text));
      },
      get frames() {
        return raw.map((t) => JSON.parse(t) as Record<string, unknown>);
      },
      pushes: () => client.frames.filter((f) => f['type'] === 'push'),
      waitForPushes: (count) =>
        waitFor(() => {
          const found = client.pushes();
          assert.ok(found.length >= count, `${found.length} of ${count} pushes`);
          return found;
        }),
      async close() {
        handler.closed(1000, '');
        released?.();
        await gone;
      },
    };
    client.send({ type: 'hello', token: `u:${user}`, ...hello });
    await waitFor(() => assert.equal(client.frames[0]?.['type'], 'welcome'));
    return client;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    core,
    open,
    async [Symbol.asyncDispose]() {
      await core.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
