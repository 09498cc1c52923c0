/**
 * The transport-agnostic core through its Connection seam, with a log whose reads can be
 * held back, to pin down the replay/live race deterministically.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createGatewayCore,
  createMemoryLog,
  type Connection,
  type ConnectionHandler,
  type GatewayCore,
  type MessageLog,
} from '../../src/entries/server.js';
import { testAuthenticate, waitFor } from './fixtures.js';

function accept(core: GatewayCore, connection: FakeConnection): ConnectionHandler {
  connection.handler = core.accept(connection);
  return connection.handler;
}

interface FakeConnection extends Connection {
  readonly frames: Record<string, unknown>[];
  readonly raw: string[];
  closedWith: number | undefined;
  terminated: boolean;
  /** Set by the test: told when the "transport" finished closing. */
  handler?: ConnectionHandler;
}

function fakeConnection(): FakeConnection {
  const raw: string[] = [];
  const connection: FakeConnection = {
    info: { remoteAddress: '127.0.0.1', headers: {}, transport: 'websocket' },
    raw,
    get frames() {
      return raw.map((t) => JSON.parse(t) as Record<string, unknown>);
    },
    closedWith: undefined,
    terminated: false,
    bufferedAmount: 0,
    send: (text) => raw.push(text),
    close(code, reason) {
      connection.closedWith = code;
      // Like a real transport, report the close asynchronously.
      queueMicrotask(() => connection.handler?.closed(code, reason));
    },
    terminate() {
      connection.terminated = true;
      queueMicrotask(() => connection.handler?.closed(1006, ''));
    },
  };
  return connection;
}

/** A memory log whose reads wait for `release()`, reading before or after the wait. */
function gatedLog(readAt: 'before-gate' | 'after-gate'): MessageLog & { release(): void } {
  const inner = createMemoryLog();
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    ...inner,
    async read(stream, after, limit) {
      if (readAt === 'before-gate') {
        const slice = await inner.read(stream, after, limit);
        await gate;
        return slice;
      }
      await gate;
      return inner.read(stream, after, limit);
    },
    release: () => release(),
  };
}

for (const readAt of ['before-gate', 'after-gate'] as const) {
  test(`a message published during a replay arrives once, in order (read ${readAt})`, async () => {
    const log = gatedLog(readAt);
    const core = createGatewayCore({ authenticate: testAuthenticate, messageLog: log });
    try {
      const first = await core.publish({ to: { channel: 'room' }, data: 'a' });
      await core.publish({ to: { channel: 'room' }, data: 'b' });
      const epoch = first.positions[0]?.epoch;
      const connection = fakeConnection();
      const handler = accept(core, connection);
      const send = (frame: unknown): void => {
        const text = JSON.stringify(frame);
        handler.message(text, Buffer.byteLength(text));
      };
      send({ type: 'hello', token: 'u:alice' });
      await waitFor(() => assert.equal(connection.frames[0]?.['type'], 'welcome'));
      send({ type: 'subscribe', id: 's1', channel: 'room', from: { epoch, offset: 1 } });
      await waitFor(() => assert.equal(connection.frames[1]?.['type'], 'reply'));

      const live = await core.publish({ to: { channel: 'room' }, data: 'c' });
      assert.equal(live.delivered, 1, 'held for the session, so counted as delivered');
      assert.equal(connection.frames.length, 2, 'nothing is written while the replay is pending');

      log.release();
      await waitFor(() => assert.equal(connection.frames.length, 4));
      assert.deepEqual(
        connection.frames.slice(2).map((f) => [f['offset'], f['data']]),
        [
          [2, 'b'],
          [3, 'c'],
        ],
      );
      await core.publish({ to: { channel: 'room' }, data: 'd' });
      assert.equal(connection.frames[4]?.['offset'], 4, 'live again after the replay');
      assert.equal(connection.frames.length, 5);
    } finally {
      await core.close();
    }
  });
}

test('a session whose transport fails is dropped, others carry on', async () => {
  const core = createGatewayCore({ authenticate: testAuthenticate });
  try {
    const broken = fakeConnection();
    const healthy = fakeConnection();
    const brokenHandler = accept(core, broken);
    const healthyHandler = accept(core, healthy);
    const hello = (h: typeof brokenHandler, user: string): void => {
      const text = JSON.stringify({ type: 'hello', token: `u:${user}` });
      h.message(text, text.length);
    };
    hello(brokenHandler, 'broken');
    hello(healthyHandler, 'healthy');
    await waitFor(() => assert.equal(core.stats().sessions, 2));
    broken.send = () => {
      throw new Error('socket exploded');
    };
    const ping = JSON.stringify({ type: 'ping' });
    brokenHandler.message(ping, ping.length);
    // Not even the close frame can be written, so the connection is dropped.
    assert.equal(broken.terminated, true);
    healthyHandler.message(ping, ping.length);
    assert.deepEqual(healthy.frames.at(-1), { type: 'pong' });
    assert.equal(core.stats().sessions, 1);
  } finally {
    await core.close();
  }
});

test('a slow consumer check counts the transport’s buffered bytes', async () => {
  const core = createGatewayCore({ authenticate: testAuthenticate, maxBufferedBytes: 1000 });
  try {
    const connection = fakeConnection();
    const handler = accept(core, connection);
    const text = JSON.stringify({ type: 'hello', token: 'u:alice' });
    handler.message(text, text.length);
    await waitFor(() => assert.equal(core.stats().sessions, 1));
    Object.defineProperty(connection, 'bufferedAmount', { value: 5000 });
    const result = await core.publish({ to: { user: 'alice' }, data: 1 });
    assert.equal(result.delivered, 0);
    assert.equal(connection.closedWith, 4006);
    assert.deepEqual(connection.frames.at(-1), {
      type: 'close',
      code: 4006,
      reason: 'slow consumer',
    });
  } finally {
    await core.close();
  }
});
