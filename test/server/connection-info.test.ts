/**
 * What a session keeps of its connection: request headers reach `authenticate`, and the
 * transport is told when the handshake is over so it can let them go.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createGatewayCore,
  type AuthRequest,
  type Connection,
  type ConnectionHandler,
} from '../../src/entries/server.js';
import { startGateway, testAuthenticate, waitFor } from './fixtures.js';

interface RecordingConnection extends Connection {
  readonly sent: string[];
  handler?: ConnectionHandler;
}

function recordingConnection(opened: () => void): RecordingConnection {
  const connection: RecordingConnection = {
    info: { remoteAddress: '127.0.0.1', headers: { 'user-agent': 'test' }, transport: 'websocket' },
    sent: [],
    bufferedAmount: 0,
    send: (text) => connection.sent.push(text),
    close: (code, reason) => queueMicrotask(() => connection.handler?.closed(code, reason)),
    terminate: () => queueMicrotask(() => connection.handler?.closed(1006, '')),
    opened,
  };
  return connection;
}

test('authenticate sees the request headers of a WebSocket connection', async () => {
  const seen: AuthRequest[] = [];
  await using fx = await startGateway({
    authenticate(request) {
      seen.push(request);
      return testAuthenticate(request);
    },
  });
  await fx.open('u:alice', { device: 'phone' });
  assert.equal(seen.length, 1);
  const { connection } = seen[0] as AuthRequest;
  assert.equal(connection.transport, 'websocket');
  assert.equal(typeof connection.headers['host'], 'string');
  assert.equal(connection.headers['sec-websocket-protocol'], 'lifeline.v1');
});

test('the connection is told once that the handshake is over, and not when refused', async () => {
  const core = createGatewayCore({ authenticate: testAuthenticate });
  try {
    const calls: string[] = [];
    const open = (token: string): RecordingConnection => {
      const connection = recordingConnection(() => calls.push(token));
      connection.handler = core.accept(connection);
      connection.handler.message(JSON.stringify({ type: 'hello', token }), 20);
      return connection;
    };
    const alice = open('u:alice');
    const refused = open('nobody');
    await waitFor(() => assert.ok(alice.sent.some((t) => t.includes('"welcome"'))));
    await waitFor(() => assert.ok(refused.sent.some((t) => t.includes('"close"'))));
    assert.deepEqual(calls, ['u:alice']);
    // Still served after the headers went: a ping is answered.
    alice.handler?.message(JSON.stringify({ type: 'ping' }), 15);
    await waitFor(() => assert.ok(alice.sent.some((t) => t.includes('"pong"'))));
    assert.deepEqual(calls, ['u:alice']);
  } finally {
    await core.close();
  }
});

test('sessions of one user come and go in any order', async () => {
  await using fx = await startGateway();
  const a = await fx.open('u:bob', { device: 'a' });
  const b = await fx.open('u:bob', { device: 'b' });
  const c = await fx.open('u:bob', { device: 'c' });
  await fx.gateway.publish({ to: { user: 'bob' }, data: 1 });
  for (const { client } of [a, b, c]) assert.equal((await client.nextOf('push'))['data'], 1);
  await a.client[Symbol.asyncDispose]();
  await waitFor(() => assert.equal(fx.gateway.sessions({ user: 'bob' }).length, 2));
  await b.client[Symbol.asyncDispose]();
  await waitFor(() => assert.equal(fx.gateway.sessions({ user: 'bob' }).length, 1));
  const result = await fx.gateway.publish({ to: { user: 'bob' }, data: 2 });
  assert.equal(result.delivered, 1);
  assert.equal((await c.client.nextOf('push'))['data'], 2);
  assert.equal(fx.gateway.stats().users, 1);
  await c.client[Symbol.asyncDispose]();
  await waitFor(() => assert.equal(fx.gateway.stats().users, 0));
  assert.equal((await fx.gateway.publish({ to: { user: 'bob' }, data: 3 })).delivered, 0);
});
