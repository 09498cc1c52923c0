import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode } from '../../src/entries/server.js';
import { assertClosedWith, assertServes, startGateway, waitFor } from './fixtures.js';

test('ping is answered with pong echoing t', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.send({ type: 'ping', t: 1234.5 });
  assert.deepEqual(await client.next(), { type: 'pong', t: 1234.5 });
  client.send({ type: 'ping' });
  assert.deepEqual(await client.next(), { type: 'pong' });
});

test('malformed JSON closes with 4000', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.sendText('{"type": "ping"');
  await assertClosedWith(client, CloseCode.PROTOCOL_ERROR);
  await assertServes(fx);
});

test('an unknown frame type closes with 4000', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.send({ type: 'teleport' });
  await assertClosedWith(client, CloseCode.PROTOCOL_ERROR);
  await assertServes(fx);
});

test('a mistyped field closes with 4000', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.send({ type: 'subscribe', id: 's1', channel: 'no spaces allowed' });
  await assertClosedWith(client, CloseCode.PROTOCOL_ERROR);
});

test('a binary frame closes with 4000', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.sendBinary(new Uint8Array([1, 2, 3]));
  await assertClosedWith(client, CloseCode.PROTOCOL_ERROR);
  await assertServes(fx);
});

test('a frame over maxFrameBytes closes with 4002', async () => {
  await using fx = await startGateway({ maxFrameBytes: 1024 });
  const { client } = await fx.open('u:alice');
  client.send({ type: 'request', id: 'r1', data: 'x'.repeat(1500) });
  await assertClosedWith(client, CloseCode.FRAME_TOO_LARGE);
  await assertServes(fx);
});

test('the frame size counts UTF-8 bytes, not characters', async () => {
  await using fx = await startGateway({ maxFrameBytes: 1024 });
  const { client } = await fx.open('u:alice');
  client.send({ type: 'ping', pad: 'é'.repeat(600) }); // 600 characters, 1200 bytes
  await assertClosedWith(client, CloseCode.FRAME_TOO_LARGE);
});

test('a frame over twice maxFrameBytes is refused by the WebSocket layer with 1009', async () => {
  await using fx = await startGateway({ maxFrameBytes: 1024 });
  const { client } = await fx.open('u:alice');
  client.send({ type: 'request', id: 'r1', data: 'x'.repeat(4096) });
  const closed = await client.closed();
  assert.equal(closed.code, CloseCode.MESSAGE_TOO_BIG);
  await assertServes(fx);
});

test('the default frame limit is 64 KiB, not ws’ 100 MiB', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.send({ type: 'request', id: 'r1', data: 'x'.repeat(70_000) });
  await assertClosedWith(client, CloseCode.FRAME_TOO_LARGE);
});

test('a session that sends nothing for idleTimeoutMs closes with 4004', async () => {
  await using fx = await startGateway({ pingIntervalMs: 100, idleTimeoutMs: 300 });
  const { client: idle } = await fx.open('u:idle');
  const { client: busy } = await fx.open('u:busy');
  const started = Date.now();
  // The busy client pings well within the limit and must survive the idle one.
  const pinger = setInterval(() => busy.send({ type: 'ping' }), 50);
  try {
    await assertClosedWith(idle, CloseCode.HEARTBEAT_TIMEOUT);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250, `closed after ${elapsed} ms`);
    assert.equal(fx.gateway.sessions({ user: 'busy' }).length, 1);
  } finally {
    clearInterval(pinger);
  }
  await assertServes(fx);
});

test('exceeding the frame rate closes with 4005 and retryAfterMs', async () => {
  await using fx = await startGateway({ rateLimit: { framesPerSecond: 2, burst: 5 } });
  const { client } = await fx.open('u:alice');
  // hello used one token; four more pings fit the burst, the fifth does not.
  for (let i = 0; i < 6; i++) client.send({ type: 'ping', t: i });
  const frame = await assertClosedWith(client, CloseCode.RATE_LIMITED);
  assert.equal(typeof frame['retryAfterMs'], 'number');
  assert.ok((frame['retryAfterMs'] as number) > 0);
  await assertServes(fx);
});

test('a client that stops reading is closed with 4006', async () => {
  await using fx = await startGateway({ maxBufferedBytes: 64 * 1024 });
  const { client: slow } = await fx.open('u:slow');
  const { client: fast } = await fx.open('u:fast');
  // Stop reading: the kernel buffers fill, then the gateway's send buffer grows.
  slow.socket.pause();
  const big = 'x'.repeat(60_000);
  let closed = false;
  for (let i = 0; i < 2000 && !closed; i++) {
    await fx.gateway.publish({ to: { users: ['slow', 'fast'] }, data: big });
    // Let the sockets flush between publishes, so only the client that stopped reading
    // falls behind.
    await new Promise((resolve) => setImmediate(resolve));
    closed = fx.gateway.sessions({ user: 'slow' }).length === 0;
  }
  assert.ok(closed, 'the slow session was closed');
  assert.equal(fx.gateway.sessions({ user: 'fast' }).length, 1);
  slow.socket.resume();
  await assertClosedWith(slow, CloseCode.SLOW_CONSUMER);
  fast.send({ type: 'ping', t: 1 });
  await waitFor(() => assert.ok(fast.received.some((t) => t === '{"type":"pong","t":1}')));
  await assertServes(fx);
});
