/**
 * `publish` frames: a client publishing to another user (seed 002's chat) or to a channel,
 * allowed only by the `authorizePublish` hook.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForbiddenError, type SessionInfo } from '../../src/entries/server.js';
import { assertClosedWith, assertServes, startGateway } from './fixtures.js';

test('without authorizePublish every client publish is refused', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.send({ type: 'publish', id: 'p1', to: { user: 'bob' }, data: 'hi' });
  const reply = await client.nextOf('reply');
  assert.equal(reply['ok'], false);
  assert.deepEqual(reply['error'], { code: 'forbidden', message: 'Not allowed.' });
  assert.equal(fx.gateway.stats().published, 0);
});

test('an allowed publish reaches the other user and answers with id and positions', async () => {
  const asked: [string, unknown, unknown][] = [];
  await using fx = await startGateway({
    authorizePublish: (session: SessionInfo, to, data) => {
      asked.push([session.userId, to, data]);
      return 'user' in to;
    },
  });
  const alice = await fx.open('u:alice');
  const bob = await fx.open('u:bob');
  alice.client.send({ type: 'publish', id: 'p1', to: { user: 'bob' }, data: { text: 'hi' } });
  const reply = await alice.client.nextOf('reply');
  assert.equal(reply['ok'], true);
  const data = reply['data'] as { id: string; positions: { stream: string; offset: number }[] };
  assert.equal(typeof data.id, 'string');
  assert.deepEqual(
    data.positions.map((p) => [p.stream, p.offset]),
    [['user:bob', 1]],
  );
  const push = await bob.client.nextOf('push');
  assert.equal(push['id'], data.id);
  assert.deepEqual(push['data'], { text: 'hi' });
  assert.deepEqual(asked, [['alice', { user: 'bob' }, { text: 'hi' }]]);

  alice.client.send({ type: 'publish', id: 'p2', to: { channel: 'news' }, data: 1 });
  const refused = await alice.client.nextOf('reply');
  assert.equal(refused['ok'], false);
  assert.equal((refused['error'] as { code: string }).code, 'forbidden');
});

test('a client publishes within its own tenant only', async () => {
  await using fx = await startGateway({ authorizePublish: () => true });
  const alice = await fx.open('u:alice@acme');
  const bobAcme = await fx.open('u:bob@acme');
  const bobOther = await fx.open('u:bob@other');
  alice.client.send({ type: 'publish', id: 'p1', to: { user: 'bob' }, data: 'hi' });
  const reply = await alice.client.nextOf('reply');
  const positions = (reply['data'] as { positions: { stream: string }[] }).positions;
  assert.deepEqual(
    positions.map((p) => p.stream),
    ['user:acme/bob'],
  );
  assert.equal((await bobAcme.client.nextOf('push'))['data'], 'hi');
  bobOther.client.send({ type: 'ping', t: 1 });
  assert.deepEqual(await bobOther.client.next(), { type: 'pong', t: 1 }, 'no push for bob@other');
});

test('a re-sent publish id is published once and answered with the original reply', async () => {
  await using fx = await startGateway({ authorizePublish: () => true });
  const first = await fx.open('u:alice', { device: 'phone' });
  first.client.send({ type: 'publish', id: 'p1', to: { channel: 'room' }, data: 'once' });
  const original = await first.client.nextOf('reply');
  first.client.close();
  await first.client.closed();
  const again = await fx.open('u:alice', { device: 'phone' });
  again.client.send({ type: 'publish', id: 'p1', to: { channel: 'room' }, data: 'once' });
  assert.deepEqual(await again.client.nextOf('reply'), original);
  assert.equal(fx.gateway.stats().published, 1);
});

test('a refusing or throwing hook answers without leaking its text', async () => {
  const errors: unknown[] = [];
  let mode: 'forbid' | 'throw' = 'forbid';
  await using fx = await startGateway({
    authorizePublish: () => {
      if (mode === 'forbid') throw new ForbiddenError('blocked by policy 7');
      throw new Error('database exploded');
    },
  });
  fx.gateway.on('error', (event) => errors.push(event));
  const { client } = await fx.open('u:alice');
  client.send({ type: 'publish', id: 'p1', to: { user: 'bob' }, data: 1 });
  assert.deepEqual((await client.nextOf('reply'))['error'], {
    code: 'forbidden',
    message: 'Not allowed.',
  });
  mode = 'throw';
  client.send({ type: 'publish', id: 'p2', to: { user: 'bob' }, data: 1 });
  const reply = await client.nextOf('reply');
  assert.equal((reply['error'] as { code: string }).code, 'handler_error');
  assert.ok(!JSON.stringify(reply).includes('exploded'));
  assert.equal(errors.length, 1);
});

test('a malformed publish frame closes with 4000 and the gateway keeps serving', async () => {
  await using fx = await startGateway({ authorizePublish: () => true });
  for (const to of [{}, { channel: 'bad channel!' }, { user: 'a', channel: 'b' }, 'bob']) {
    const { client } = await fx.open('u:alice');
    client.send({ type: 'publish', id: 'p1', to, data: 1 });
    await assertClosedWith(client, 4000);
  }
  await assertServes(fx);
});
