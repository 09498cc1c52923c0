/**
 * Resume end to end (PROTOCOL.md §10): real clients, a real gateway, a TCP proxy that
 * cuts connections, and a WebSocket relay that can lose one frame on its way.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { LifelineClient, PushMessage, ResyncEvent } from '../../src/entries/node.js';
import { waitFor } from '../helpers/wait.js';
import { reach, startE2E, type E2E } from './fixture.js';

function inbox(client: LifelineClient): PushMessage[] {
  const seen: PushMessage[] = [];
  client.on('message', (m) => seen.push(m));
  return seen;
}

function resyncs(client: LifelineClient): ResyncEvent[] {
  const seen: ResyncEvent[] = [];
  client.on('resync', (r) => seen.push(r));
  return seen;
}

function publish(e2e: E2E, data: unknown): Promise<unknown> {
  return e2e.gateway().publish({ to: { user: 'alice' }, data });
}

/** Wait for the last expected message, then check the inbox holds exactly `expected`, in order. */
async function assertExactly(seen: PushMessage[], expected: unknown[]): Promise<void> {
  // Polled with a message: a bare assert.ok that fails parses the test's source each time.
  const last = expected.at(-1);
  await waitFor(() =>
    assert.ok(
      seen.some((m) => m.data === last),
      `waiting for ${String(last)}`,
    ),
  );
  assert.deepEqual(
    seen.map((m) => m.data),
    expected,
  );
  const offsets = seen.map((m) => m.offset);
  assert.deepEqual(
    offsets,
    offsets.map((_, i) => (offsets[0] ?? 1) + i),
    'contiguous offsets',
  );
}

/**
 * A WebSocket relay between client and gateway that forwards every frame, except that it
 * drops the first gateway frame `lose` matches — a push lost on its way, as a broken
 * cross-node fan-out would lose it, while the session stays up.
 */
async function startRelay(
  target: string,
  lose: (frame: Record<string, unknown>) => boolean,
): Promise<{ url: string; dropped: () => number; close: () => Promise<void> }> {
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (protocols) => [...protocols][0] ?? false,
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  let dropped = 0;
  server.on('connection', (down, request) => {
    const protocol = request.headers['sec-websocket-protocol'] ?? '';
    const up = new WebSocket(
      target,
      protocol.split(',').map((p) => p.trim()),
    );
    const early: RawData[] = [];
    down.on('message', (data) =>
      up.readyState === WebSocket.OPEN ? up.send(String(data)) : early.push(data),
    );
    up.on('open', () => early.splice(0).forEach((data) => up.send(String(data))));
    up.on('message', (data) => {
      const text = String(data);
      if (dropped === 0 && lose(JSON.parse(text) as Record<string, unknown>)) {
        dropped++;
        return;
      }
      down.send(text);
    });
    const end = (): void => {
      up.terminate();
      down.terminate();
    };
    up.on('close', end).on('error', end);
    down.on('close', end).on('error', end);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}

describe('resume', () => {
  it('messages published while cut off arrive exactly once and in order after reconnecting', async () => {
    await using e2e = await startE2E();
    const client = e2e.client('alice');
    await client.connect();
    const seen = inbox(client);
    const events = resyncs(client);
    for (let i = 1; i <= 5; i++) await publish(e2e, i);
    await waitFor(() => assert.equal(seen.length, 5));

    e2e.proxy.refuse(true);
    e2e.proxy.cut();
    await waitFor(() => assert.notEqual(client.state.kind, 'open'));
    for (let i = 6; i <= 60; i++) await publish(e2e, i);
    e2e.proxy.refuse(false);
    // Published while the client comes back and its replay runs: the seam.
    const live = (async () => {
      for (let i = 61; i <= 100; i++) {
        await publish(e2e, i);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await reach(client, 'open');
    await live;
    await assertExactly(
      seen,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.deepEqual(events, []);
  });

  it('a history trimmed while cut off yields a resync event, then live messages', async () => {
    await using e2e = await startE2E({ retention: { maxMessages: 5 } });
    const client = e2e.client('alice');
    await client.connect();
    const seen = inbox(client);
    const events = resyncs(client);
    for (let i = 1; i <= 3; i++) await publish(e2e, i);
    await waitFor(() => assert.equal(seen.length, 3));
    const epoch = seen[0]?.epoch;

    e2e.proxy.refuse(true);
    e2e.proxy.cut();
    await waitFor(() => assert.notEqual(client.state.kind, 'open'));
    for (let i = 4; i <= 23; i++) await publish(e2e, i);
    e2e.proxy.refuse(false);
    await waitFor(() => assert.equal(events.length, 1));
    assert.deepEqual(events[0], {
      stream: 'user:alice',
      recovered: false,
      reason: 'trimmed',
      position: { stream: 'user:alice', epoch, offset: 23 },
    });
    await publish(e2e, 24);
    await waitFor(() => assert.equal(seen.at(-1)?.data, 24));
    assert.deepEqual(
      seen.map((m) => m.offset),
      [1, 2, 3, 24],
      'nothing of the trimmed range is presented as delivered',
    );
  });

  it('a push lost on a live session is repaired in order, without reconnecting', async () => {
    await using e2e = await startE2E();
    const relay = await startRelay(e2e.url, (f) => f['type'] === 'push' && f['data'] === 3);
    try {
      const client = e2e.client('alice', { url: relay.url });
      await client.connect();
      const session = client.state.kind === 'open' ? client.state.session.id : '';
      const seen = inbox(client);
      for (let i = 1; i <= 6; i++) await publish(e2e, i);
      await assertExactly(seen, [1, 2, 3, 4, 5, 6]);
      assert.equal(relay.dropped(), 1, 'push 3 was lost on its way');
      const state = client.state;
      assert.ok(state.kind === 'open' && state.session.id === session, 'the same session');
    } finally {
      await relay.close();
    }
  });
});
