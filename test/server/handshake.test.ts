import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  AuthError,
  CloseCode,
  InvalidOptionError,
  createGateway,
  createMemoryLog,
} from '../../src/entries/server.js';
import { UpgradeRefused, connectRaw } from '../helpers/raw-ws.js';
import { assertClosedWith, assertServes, startGateway, testAuthenticate } from './fixtures.js';

test('a good token gets welcome with the session parameters', async () => {
  await using fx = await startGateway({ pingIntervalMs: 20_000, idleTimeoutMs: 50_000 });
  const before = Date.now();
  const { welcome } = await fx.open('u:alice');
  assert.equal(welcome['protocol'], 1);
  assert.equal(welcome['user'], 'alice');
  assert.equal(typeof welcome['session'], 'string');
  assert.ok((welcome['session'] as string).length > 0);
  assert.ok((welcome['serverTime'] as number) >= before);
  assert.equal(welcome['pingIntervalMs'], 20_000);
  assert.equal(welcome['idleTimeoutMs'], 50_000);
  assert.equal(welcome['maxFrameBytes'], 65_536);
});

test('session ids are unique per connection', async () => {
  await using fx = await startGateway();
  const a = await fx.open('u:alice');
  const b = await fx.open('u:alice');
  assert.notEqual(a.welcome['session'], b.welcome['session']);
});

test('a bad token is refused with a close frame, then 4100', async () => {
  await using fx = await startGateway();
  const client = await fx.connect();
  client.send({ type: 'hello', token: 'garbage' });
  const frame = await assertClosedWith(client, CloseCode.AUTH_FAILED);
  assert.equal(frame['reason'], 'authentication failed');
  assert.equal(client.received.length, 1, 'the close frame is the only frame');
  await assertServes(fx);
});

test('expired credentials close with 4101', async () => {
  await using fx = await startGateway();
  const client = await fx.connect();
  client.send({ type: 'hello', token: 'expired' });
  await assertClosedWith(client, CloseCode.AUTH_EXPIRED);
  await assertServes(fx);
});

test('an authenticate hook that crashes closes with 4008 and leaks nothing', async () => {
  await using fx = await startGateway({
    authenticate: () => {
      throw new Error('db password is hunter2');
    },
  });
  const client = await fx.connect();
  client.send({ type: 'hello', token: 'x' });
  const frame = await assertClosedWith(client, CloseCode.SERVER_ERROR);
  assert.doesNotMatch(JSON.stringify(frame), /hunter2/);
});

test('an identity that cannot be served is refused with 4100', async () => {
  await using fx = await startGateway({ authenticate: () => ({ userId: 'bob', tenantId: 'a/b' }) });
  const client = await fx.connect();
  client.send({ type: 'hello', token: 'x' });
  await assertClosedWith(client, CloseCode.AUTH_FAILED);
});

test('credentials that expire during the session close it with 4101', async () => {
  await using fx = await startGateway({
    authenticate: ({ token }) =>
      token === 'short' ? { userId: 'carol', expiresAt: Date.now() + 150 } : { userId: 'probe' },
  });
  const { client } = await fx.open('short');
  await assertClosedWith(client, CloseCode.AUTH_EXPIRED);
  await assertServes(fx);
});

test('a frame before hello closes with 4000', async () => {
  await using fx = await startGateway();
  const client = await fx.connect();
  client.send({ type: 'ping' });
  await assertClosedWith(client, CloseCode.PROTOCOL_ERROR);
  await assertServes(fx);
});

test('a second hello closes with 4000', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.send({ type: 'hello', token: 'u:alice' });
  await assertClosedWith(client, CloseCode.PROTOCOL_ERROR);
});

test('frames sent right after hello are handled once the session is open', async () => {
  await using fx = await startGateway();
  const client = await fx.connect();
  client.send({ type: 'hello', token: 'u:alice' });
  client.send({ type: 'ping', t: 7 });
  assert.equal((await client.next())['type'], 'welcome');
  assert.deepEqual(await client.next(), { type: 'pong', t: 7 });
});

test('no hello within handshakeTimeoutMs closes with 4003', async () => {
  await using fx = await startGateway({ handshakeTimeoutMs: 100 });
  const client = await fx.connect();
  await assertClosedWith(client, CloseCode.HANDSHAKE_TIMEOUT);
  await assertServes(fx);
});

test('a hanging authenticate hook is bounded by the handshake deadline', async () => {
  await using fx = await startGateway({
    handshakeTimeoutMs: 100,
    authenticate: ({ token }) =>
      token === 'hang' ? new Promise(() => {}) : { userId: token ?? 'probe' },
  });
  const client = await fx.connect();
  client.send({ type: 'hello', token: 'hang' });
  await assertClosedWith(client, CloseCode.HANDSHAKE_TIMEOUT);
  await assertServes(fx);
});

test('only another lifeline version offered: echoed, then 4001', async () => {
  await using fx = await startGateway();
  const client = await fx.connect({ protocols: ['lifeline.v9', 'lifeline.v8'] });
  assert.equal(client.socket.protocol, 'lifeline.v9');
  await assertClosedWith(client, CloseCode.UNSUPPORTED_VERSION);
  await assertServes(fx);
});

test('no lifeline subprotocol offered: accepted, then 4001', async () => {
  await using fx = await startGateway();
  const client = await fx.connect({ protocols: [] });
  assert.equal(client.socket.protocol, '');
  await assertClosedWith(client, CloseCode.UNSUPPORTED_VERSION);
});

test('lifeline.v1 is selected among several offers', async () => {
  await using fx = await startGateway();
  const client = await fx.connect({ protocols: ['lifeline.v2', 'lifeline.v1'] });
  assert.equal(client.socket.protocol, 'lifeline.v1');
});

test('a refused origin gets HTTP 403 before the upgrade', async () => {
  await using fx = await startGateway({ allowedOrigins: ['https://app.example.com'] });
  await assert.rejects(fx.connect({ origin: 'https://evil.example.com' }), (error) => {
    assert.ok(error instanceof UpgradeRefused);
    assert.equal(error.status, 403);
    return true;
  });
  const ok = await fx.connect({ origin: 'https://app.example.com' });
  ok.send({ type: 'hello', token: 'u:alice' });
  assert.equal((await ok.next())['type'], 'welcome');
  await assertServes(fx);
});

test('allowedOrigins as a function', async () => {
  await using fx = await startGateway({
    allowedOrigins: (origin) => origin?.endsWith('.ok') === true,
  });
  await assert.rejects(fx.connect({ origin: 'http://a.bad' }), UpgradeRefused);
  await fx.connect({ origin: 'http://a.ok' });
});

test('upgrades for another path are answered 404 when nothing else handles them', async () => {
  await using fx = await startGateway();
  await assert.rejects(fx.connect({ path: '/other' }), (error) => {
    assert.ok(error instanceof UpgradeRefused);
    assert.equal(error.status, 404);
    return true;
  });
  await assertServes(fx);
});

test('createGateway without a way to authenticate is an InvalidOptionError', () => {
  assert.throws(() => createGateway({}), InvalidOptionError);
  assert.throws(
    () => createGateway({ authenticate: () => ({ userId: 'a' }), jwt: { secret: 's' } }),
    InvalidOptionError,
  );
  assert.throws(
    () =>
      createGateway({
        authenticate: () => ({ userId: 'a' }),
        pingIntervalMs: 1000,
        idleTimeoutMs: 1000,
      }),
    InvalidOptionError,
  );
  assert.throws(
    () => createGateway({ authenticate: () => ({ userId: 'a' }), maxFrameBytes: 0 }),
    InvalidOptionError,
  );
});

test('AuthError is the refusal type of the authenticate hook', () => {
  const error = new AuthError('nope', { expired: true });
  assert.equal(error.expired, true);
  assert.equal(error.name, 'AuthError');
});

test('handleUpgrade serves upgrades routed by the application', async () => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await using gateway = createGateway({ authenticate: testAuthenticate });
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/custom/') === true) gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  try {
    const { port } = server.address() as AddressInfo;
    await using client = await connectRaw(`ws://127.0.0.1:${port}/custom/anything`);
    client.send({ type: 'hello', token: 'u:alice' });
    assert.equal((await client.next())['user'], 'alice');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('retention applies to the default log only', () => {
  assert.throws(
    () =>
      createGateway({
        authenticate: testAuthenticate,
        messageLog: createMemoryLog(),
        retention: { maxMessages: 10 },
      }),
    InvalidOptionError,
  );
});
