import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createNodeClient } from '../../src/entries/node.js';
import { ClientClosedError, ReplacedError, type PushMessage } from '../../src/entries/client.js';
import { SUBPROTOCOL, decodeClientFrame, type ServerFrame } from '../../src/protocol/index.js';
import { nextEvent, waitFor } from '../helpers/wait.js';
import { stateOf } from './support.js';

/** A tiny gateway that speaks protocol frames by hand. */
async function scriptedGateway(): Promise<{
  url: string;
  sockets: Set<WebSocket>;
  protocols: string[];
  close(): Promise<void>;
}> {
  const protocols: string[] = [];
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (offered) => {
      protocols.push(...offered);
      return offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false;
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const send = (ws: WebSocket, frame: ServerFrame): void => ws.send(JSON.stringify(frame));
  wss.on('connection', (ws) => {
    ws.on('message', (raw, isBinary) => {
      assert.equal(isBinary, false);
      const frame = decodeClientFrame(String(raw));
      if (frame.type === 'hello') {
        send(ws, {
          type: 'welcome',
          protocol: 1,
          session: 'node-1',
          user: frame.token ?? 'anonymous',
          serverTime: Date.now(),
          pingIntervalMs: 25_000,
          idleTimeoutMs: 60_000,
          maxFrameBytes: 65_536,
        });
        send(ws, {
          type: 'push',
          id: 'm1',
          stream: 'user:alice',
          epoch: 'e',
          offset: 1,
          data: 'hi',
          publishedAt: 1,
        });
      } else if (frame.type === 'request') {
        send(ws, { type: 'reply', id: frame.id, ok: true, data: { echo: frame.data } });
      } else if (frame.type === 'ping') {
        send(ws, frame.t === undefined ? { type: 'pong' } : { type: 'pong', t: frame.t });
      }
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    sockets: wss.clients,
    protocols,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

describe('createNodeClient over a real ws server', () => {
  it('handshakes, receives pushes, gets replies, and honours a fatal close', async () => {
    const gateway = await scriptedGateway();
    const client = createNodeClient({ url: gateway.url, token: 'alice' });
    try {
      const firstMessage = nextEvent<PushMessage>((fn) => client.on('message', fn));
      await client.connect();
      assert.equal(client.state.kind, 'open');
      assert.deepEqual(gateway.protocols, [SUBPROTOCOL]);
      assert.equal((await firstMessage).data, 'hi');
      assert.deepEqual(await client.request({ n: 1 }), { echo: { n: 1 } });

      const [server] = [...gateway.sockets];
      assert.ok(server !== undefined);
      server.send(
        JSON.stringify({ type: 'close', code: 4102, reason: 'replaced by a newer session' }),
      );
      server.close(4102, 'replaced by a newer session');
      const { reason } = await waitFor(() => stateOf(client, 'closed'));
      assert.ok(reason.initiator === 'server' && reason.error instanceof ReplacedError);
      await waitFor(() => assert.equal(gateway.sockets.size, 0));
    } finally {
      await client.close();
      await gateway.close();
    }
  });

  it('closes a socket that is still connecting without an uncaught error', async () => {
    // An HTTP server that never answers the upgrade: the socket stays CONNECTING.
    const held: { destroy(): void }[] = [];
    const server: Server = createServer();
    server.on('upgrade', (_req, socket) => held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = createNodeClient({ url: `ws://127.0.0.1:${port}/` });
    const ready = client.connect();
    await waitFor(() => assert.equal(held.length, 1));
    await client.close();
    await assert.rejects(ready, ClientClosedError);
    // ws reports the aborted handshake on the next tick; it must not become uncaught.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reports a refused connection and keeps trying', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = createNodeClient({
      url: `ws://127.0.0.1:${port}/`,
      minReconnectDelayMs: 60_000,
    });
    client.connect().catch(() => {});
    await waitFor(() => assert.equal(client.state.kind, 'reconnecting'));
    await client.close();
  });
});
