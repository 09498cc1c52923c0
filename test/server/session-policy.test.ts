/**
 * The duplicate-session policy over real sockets: raw clients see exactly which session
 * gets which close code, and a replaced session receives nothing afterwards.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import {
  CloseCode,
  createGatewayCore,
  DEFAULT_MAX_SESSIONS_PER_USER,
  DEFAULT_PER_DEVICE_POLICY,
  DEFAULT_SESSION_OVERFLOW,
  InvalidOptionError,
} from '../../src/entries/server.js';
import { createNodeClient, ReplacedError } from '../../src/entries/node.js';
import { assertClosedWith, startGateway, testAuthenticate, waitFor } from './fixtures.js';

describe('session policy options', () => {
  it('defaults to newest-wins per device, no per-user limit, close-oldest', () => {
    assert.equal(DEFAULT_MAX_SESSIONS_PER_USER, Number.POSITIVE_INFINITY);
    assert.equal(DEFAULT_PER_DEVICE_POLICY, 'newest-wins');
    assert.equal(DEFAULT_SESSION_OVERFLOW, 'close-oldest');
  });

  it('rejects invalid values', () => {
    const bad = [
      { maxSessionsPerUser: 0 },
      { maxSessionsPerUser: 1.5 },
      { maxSessionsPerUser: -1 },
      { perDevice: 'oldest-wins' },
      { overflow: 'drop' },
    ];
    for (const sessionPolicy of bad) {
      assert.throws(
        () =>
          createGatewayCore({
            authenticate: testAuthenticate,
            sessionPolicy: sessionPolicy as never,
          }),
        InvalidOptionError,
        JSON.stringify(sessionPolicy),
      );
    }
  });
});

describe('per device', () => {
  it('newest-wins: the older session gets 4102 and no further pushes', async () => {
    await using fx = await startGateway();
    const old = await fx.open('u:alice', { device: 'phone' });
    const other = await fx.open('u:alice', { device: 'laptop' });
    const fresh = await fx.open('u:alice', { device: 'phone' });
    await assertClosedWith(old.client, CloseCode.REPLACED);

    await fx.gateway.publish({ to: { user: 'alice' }, data: 'after' });
    assert.equal((await fresh.client.nextOf('push'))['data'], 'after');
    assert.equal((await other.client.nextOf('push'))['data'], 'after');
    assert.ok(!old.client.received.some((t) => t.includes('"push"')), 'no push to the old one');
    const alive = fx.gateway.sessions({ user: 'alice' }).map((s) => s.id);
    assert.deepEqual(alive.sort(), [other.welcome['session'], fresh.welcome['session']].sort());
  });

  it('newest-wins closes the older session only after the new one authenticated', async () => {
    await using fx = await startGateway();
    const old = await fx.open('u:alice', { device: 'phone' });
    const refused = await fx.connect();
    refused.send({ type: 'hello', token: 'bogus', device: 'phone' });
    await assertClosedWith(refused, CloseCode.AUTH_FAILED);
    old.client.send({ type: 'ping', t: 1 });
    assert.deepEqual(await old.client.next(), { type: 'pong', t: 1 });
  });

  it('the replaced session is closed before the new one is welcomed', async () => {
    await using fx = await startGateway();
    const order: string[] = [];
    fx.gateway.on('closed', (e) => order.push(`closed:${e.session.id}`));
    fx.gateway.on('opened', (s) => order.push(`opened:${s.id}`));
    const old = await fx.open('u:alice', { device: 'phone' });
    const fresh = await fx.open('u:alice', { device: 'phone' });
    assert.deepEqual(order, [
      `opened:${String(old.welcome['session'])}`,
      `closed:${String(old.welcome['session'])}`,
      `opened:${String(fresh.welcome['session'])}`,
    ]);
  });

  it('reject-new: the newcomer gets 4103 and the existing session stays', async () => {
    await using fx = await startGateway({ sessionPolicy: { perDevice: 'reject-new' } });
    const first = await fx.open('u:alice', { device: 'phone' });
    const second = await fx.connect();
    second.send({ type: 'hello', token: 'u:alice', device: 'phone' });
    await assertClosedWith(second, CloseCode.SESSION_LIMIT);
    assert.ok(!second.received.some((t) => t.includes('"welcome"')), 'never welcomed');
    first.client.send({ type: 'ping', t: 1 });
    assert.deepEqual(await first.client.next(), { type: 'pong', t: 1 });
    // Another device of the same user is not affected.
    await fx.open('u:alice', { device: 'laptop' });
  });

  it('allow keeps every session of a device', async () => {
    await using fx = await startGateway({ sessionPolicy: { perDevice: 'allow' } });
    await fx.open('u:alice', { device: 'phone' });
    await fx.open('u:alice', { device: 'phone' });
    assert.equal(fx.gateway.sessions({ user: 'alice' }).length, 2);
  });

  it('sessions without a device are never replaced by the device rule', async () => {
    await using fx = await startGateway();
    const a = await fx.open('u:alice');
    const b = await fx.open('u:alice');
    await fx.open('u:alice', { device: 'phone' });
    assert.equal(fx.gateway.sessions({ user: 'alice' }).length, 3);
    for (const { client } of [a, b]) {
      client.send({ type: 'ping', t: 7 });
      assert.deepEqual(await client.next(), { type: 'pong', t: 7 });
    }
  });

  it('the same device of another user or tenant is a different device', async () => {
    await using fx = await startGateway();
    await fx.open('u:alice', { device: 'phone' });
    await fx.open('u:bob', { device: 'phone' });
    await fx.open('u:alice@acme', { device: 'phone' });
    assert.equal(fx.gateway.stats().sessions, 3);
  });
});

describe('maxSessionsPerUser', () => {
  it('close-oldest: the oldest session gets 4102', async () => {
    await using fx = await startGateway({ sessionPolicy: { maxSessionsPerUser: 2 } });
    const first = await fx.open('u:alice');
    const second = await fx.open('u:alice');
    await fx.open('u:bob');
    const third = await fx.open('u:alice');
    await assertClosedWith(first.client, CloseCode.REPLACED);
    const alive = fx.gateway.sessions({ user: 'alice' }).map((s) => s.id);
    assert.deepEqual(alive.sort(), [second.welcome['session'], third.welcome['session']].sort());
    assert.equal(fx.gateway.sessions({ user: 'bob' }).length, 1);
  });

  it('reject-new: the newcomer gets 4103', async () => {
    await using fx = await startGateway({
      sessionPolicy: { maxSessionsPerUser: 1, overflow: 'reject-new' },
    });
    const first = await fx.open('u:alice');
    const second = await fx.connect();
    second.send({ type: 'hello', token: 'u:alice' });
    await assertClosedWith(second, CloseCode.SESSION_LIMIT);
    first.client.send({ type: 'ping', t: 1 });
    assert.deepEqual(await first.client.next(), { type: 'pong', t: 1 });
    // A slot frees up when the first one leaves.
    first.client.close();
    await first.client.closed();
    await waitFor(() => assert.equal(fx.gateway.stats().sessions, 0));
    await fx.open('u:alice');
  });

  it('a device replacement frees its slot before the limit is counted', async () => {
    await using fx = await startGateway({
      sessionPolicy: { maxSessionsPerUser: 2, overflow: 'reject-new' },
    });
    const phone = await fx.open('u:alice', { device: 'phone' });
    const laptop = await fx.open('u:alice', { device: 'laptop' });
    await fx.open('u:alice', { device: 'phone' });
    await assertClosedWith(phone.client, CloseCode.REPLACED);
    laptop.client.send({ type: 'ping', t: 1 });
    assert.deepEqual(await laptop.client.next(), { type: 'pong', t: 1 });
  });
});

describe('with the Lifeline client', () => {
  it('a replaced client ends closed with ReplacedError and does not reconnect', async () => {
    await using fx = await startGateway();
    let connections = 0;
    fx.server.on('upgrade', () => connections++);
    const options = {
      url: fx.url,
      token: 'u:alice',
      device: 'phone',
      WebSocket,
      minReconnectDelayMs: 10,
      maxReconnectDelayMs: 20,
    };
    const old = createNodeClient(options);
    const fresh = createNodeClient(options);
    try {
      await old.connect();
      await fresh.connect();
      await waitFor(() => assert.equal(old.state.kind, 'closed'));
      const state = old.state;
      assert.ok(state.kind === 'closed' && state.reason.initiator === 'server');
      assert.equal(state.reason.code, CloseCode.REPLACED);
      assert.ok(
        state.reason.error instanceof ReplacedError,
        `expected ReplacedError, got ${String(state.reason.error)}`,
      );
      const seen = connections;
      // Several reconnect windows later, nothing came back.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(connections, seen);
      assert.equal(old.state.kind, 'closed');
      assert.equal(fresh.state.kind, 'open');
    } finally {
      await old.close();
      await fresh.close();
    }
  });
});
