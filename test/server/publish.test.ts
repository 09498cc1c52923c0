import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForbiddenError, PublishError } from '../../src/entries/server.js';
import type { RawClient } from '../helpers/raw-ws.js';
import { startGateway, waitFor } from './fixtures.js';

async function subscribe(
  client: RawClient,
  channel: string,
  id = `s-${channel}`,
): Promise<Record<string, unknown>> {
  client.send({ type: 'subscribe', id, channel });
  return client.nextOf('reply');
}

test('publish to a user reaches every session of that user and nobody else', async () => {
  await using fx = await startGateway();
  const a1 = await fx.open('u:alice');
  const a2 = await fx.open('u:alice');
  const bob = await fx.open('u:bob');
  const result = await fx.gateway.publish({ to: { user: 'alice' }, data: { text: 'hi' } });
  assert.equal(result.delivered, 2);
  assert.equal(result.positions.length, 1);
  assert.equal(result.positions[0]?.stream, 'user:alice');
  for (const { client } of [a1, a2]) {
    const push = await client.next();
    assert.equal(push['type'], 'push');
    assert.equal(push['id'], result.id);
    assert.equal(push['stream'], 'user:alice');
    assert.equal(push['offset'], 1);
    assert.equal(push['epoch'], result.positions[0]?.epoch);
    assert.deepEqual(push['data'], { text: 'hi' });
    assert.equal(typeof push['publishedAt'], 'number');
  }
  bob.client.send({ type: 'ping', t: 1 });
  assert.deepEqual(await bob.client.next(), { type: 'pong', t: 1 }, 'bob got no push');
});

test('users are scoped by tenant', async () => {
  await using fx = await startGateway();
  const acme = await fx.open('u:alice@acme');
  const plain = await fx.open('u:alice');
  const result = await fx.gateway.publish({ to: { user: 'alice', tenant: 'acme' }, data: 1 });
  assert.equal(result.delivered, 1);
  assert.equal((await acme.client.next())['stream'], 'user:acme/alice');
  plain.client.send({ type: 'ping' });
  assert.deepEqual(await plain.client.next(), { type: 'pong' });
});

test('publish to a list of users', async () => {
  await using fx = await startGateway();
  const alice = await fx.open('u:alice');
  const bob = await fx.open('u:bob');
  const carol = await fx.open('u:carol');
  const result = await fx.gateway.publish({
    to: { users: ['alice', 'bob', 'alice', 'dave'] },
    data: 'x',
  });
  assert.equal(result.delivered, 2);
  assert.deepEqual(
    result.positions.map((p) => p.stream),
    ['user:alice', 'user:bob', 'user:dave'],
    'one position per distinct user, offline ones included',
  );
  assert.equal((await alice.client.next())['id'], result.id);
  assert.equal((await bob.client.next())['id'], result.id);
  carol.client.send({ type: 'ping' });
  assert.deepEqual(await carol.client.next(), { type: 'pong' });
});

test('channel: subscribe, push, unsubscribe stops pushes', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  // A channel without history: the subscription starts from the beginning (PROTOCOL.md §10.2).
  assert.deepEqual(await subscribe(client, 'news'), {
    type: 'reply',
    id: 's-news',
    ok: true,
    data: { position: { stream: 'channel:news', epoch: '', offset: 0 } },
  });
  assert.deepEqual([...(fx.gateway.sessions()[0]?.channels ?? [])], ['news']);
  const first = await fx.gateway.publish({ to: { channel: 'news' }, data: 'one' });
  assert.equal(first.delivered, 1);
  const push = await client.next();
  assert.equal(push['stream'], 'channel:news');
  assert.equal(push['data'], 'one');
  client.send({ type: 'unsubscribe', id: 'u1', channel: 'news' });
  assert.deepEqual(await client.next(), { type: 'reply', id: 'u1', ok: true });
  const second = await fx.gateway.publish({ to: { channel: 'news' }, data: 'two' });
  assert.equal(second.delivered, 0);
  client.send({ type: 'ping' });
  assert.deepEqual(await client.next(), { type: 'pong' });
});

test('authorizeSubscribe: false and ForbiddenError answer forbidden, other errors handler_error', async () => {
  await using fx = await startGateway({
    authorizeSubscribe: (session, channel) => {
      if (channel === 'boom') throw new Error('secret internals');
      if (channel === 'vip') throw new ForbiddenError('no');
      return channel.startsWith(`${session.userId}.`);
    },
  });
  const { client } = await fx.open('u:alice');
  assert.equal((await subscribe(client, 'alice.inbox'))['ok'], true);
  for (const channel of ['bob.inbox', 'vip']) {
    const reply = await subscribe(client, channel);
    assert.equal(reply['ok'], false);
    assert.equal((reply['error'] as { code: string }).code, 'forbidden');
  }
  const boom = await subscribe(client, 'boom');
  assert.equal((boom['error'] as { code: string }).code, 'handler_error');
  assert.doesNotMatch(JSON.stringify(boom), /secret internals/);
  const result = await fx.gateway.publish({ to: { channel: 'bob.inbox' }, data: 1 });
  assert.equal(result.delivered, 0, 'a refused subscription receives nothing');
});

test('a broadcast is serialized once and every recipient gets the same bytes', async () => {
  await using fx = await startGateway();
  const clients = await Promise.all(
    [1, 2, 3, 4].map(async (n) => (await fx.open(`u:user${n}`)).client),
  );
  for (const c of clients) await subscribe(c, 'room');
  const before = fx.gateway.stats();
  const result = await fx.gateway.publish({
    to: { channel: 'room' },
    data: { n: 1, text: 'ünïcode' },
  });
  assert.equal(result.delivered, 4);
  const after = fx.gateway.stats();
  assert.equal(after.pushesEncoded - before.pushesEncoded, 1);
  assert.equal(after.pushesSent - before.pushesSent, 4);
  await waitFor(() => assert.ok(clients.every((c) => c.received.length === 2)));
  const raw = clients.map((c) => c.received[1]);
  assert.ok(raw.every((text) => text === raw[0]));
});

test('offsets increase by one per message in each stream', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  const offsets: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await fx.gateway.publish({ to: { user: 'alice' }, data: i });
    offsets.push(r.positions[0]?.offset ?? -1);
  }
  await fx.gateway.publish({ to: { user: 'bob' }, data: 'other stream' });
  const concurrent = await Promise.all(
    [5, 6, 7].map((i) => fx.gateway.publish({ to: { user: 'alice' }, data: i })),
  );
  offsets.push(...concurrent.map((r) => r.positions[0]?.offset ?? -1));
  assert.deepEqual(offsets, [1, 2, 3, 4, 5, 6, 7, 8]);
  const pushed: number[] = [];
  for (let i = 0; i < 8; i++) pushed.push((await client.next())['offset'] as number);
  assert.deepEqual(pushed, [1, 2, 3, 4, 5, 6, 7, 8], 'pushed in offset order');
  const bob = await fx.gateway.publish({ to: { user: 'bob' }, data: 'again' });
  assert.equal(bob.positions[0]?.offset, 2);
});

test('publish validates its input', async () => {
  await using fx = await startGateway();
  const bad: unknown[] = [
    { to: { user: '' }, data: 1 },
    { to: { user: 'a'.repeat(300) }, data: 1 },
    { to: { user: 'a', tenant: 'x/y' }, data: 1 },
    { to: { users: [] }, data: 1 },
    { to: { users: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, data: 1 },
    { to: { users: ['ok', 7] }, data: 1 },
    { to: { channel: 'has space' }, data: 1 },
    { to: { channel: 'c'.repeat(199) }, data: 1 },
    { to: { channel: 'news', tenant: 't' }, data: 1 },
    { to: { user: 'a', channel: 'news' }, data: 1 },
    { to: {}, data: 1 },
    { to: { user: 'a' }, data: undefined },
    { to: { user: 'a' }, data: { big: 1n } },
    { to: { user: 'a' }, data: () => 1 },
  ];
  for (const input of bad) {
    await assert.rejects(
      fx.gateway.publish(input as never),
      (error) => error instanceof PublishError && /^Cannot publish: /.test(error.message),
      JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
    );
  }
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  await assert.rejects(fx.gateway.publish({ to: { user: 'a' }, data: cyclic }), PublishError);
  assert.equal(fx.gateway.stats().published, 0);
});

test('published data is copied: later changes by the caller do not alter it', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  const data = { n: 1, when: new Date(0) };
  const publishing = fx.gateway.publish({ to: { user: 'alice' }, data });
  data.n = 2;
  await publishing;
  const push = await client.next();
  assert.deepEqual(push['data'], { n: 1, when: '1970-01-01T00:00:00.000Z' });
});

test('stats count connections, sessions, users and channels', async () => {
  await using fx = await startGateway();
  const a = await fx.open('u:alice');
  await fx.open('u:alice');
  await fx.open('u:bob');
  await fx.connect(); // still handshaking
  await subscribe(a.client, 'news');
  await waitFor(() => assert.equal(fx.gateway.stats().connections, 4));
  const stats = fx.gateway.stats();
  assert.equal(stats.sessions, 3);
  assert.equal(stats.users, 2);
  assert.equal(stats.channels, 1);
});
