import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForbiddenError, type SessionInfo } from '../../src/entries/server.js';
import { assertServes, startGateway } from './fixtures.js';

test('a request is answered with the onMessage return value', async () => {
  const seen: SessionInfo[] = [];
  await using fx = await startGateway({
    onMessage: async (session, data) => {
      seen.push(session);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { echo: data, from: session.userId };
    },
  });
  const { client, welcome } = await fx.open('u:alice', { device: 'phone-1', client: 'test/1' });
  client.send({ type: 'request', id: 'r1', data: { q: 1 } });
  assert.deepEqual(await client.next(), {
    type: 'reply',
    id: 'r1',
    ok: true,
    data: { echo: { q: 1 }, from: 'alice' },
  });
  assert.equal(seen[0]?.id, welcome['session']);
  assert.equal(seen[0]?.device, 'phone-1');
  assert.equal(seen[0]?.client, 'test/1');
});

test('a hook returning nothing answers ok without data', async () => {
  await using fx = await startGateway({ onMessage: () => undefined });
  const { client } = await fx.open('u:alice');
  client.send({ type: 'request', id: 'r1', data: null });
  assert.deepEqual(await client.next(), { type: 'reply', id: 'r1', ok: true });
});

test('a throwing hook answers handler_error without leaking its text, and the session stays open', async () => {
  const errors: Error[] = [];
  await using fx = await startGateway({
    onMessage: () => {
      throw new Error('SELECT * FROM secrets failed');
    },
  });
  fx.gateway.on('error', (error) => errors.push(error));
  const { client } = await fx.open('u:alice');
  client.send({ type: 'request', id: 'r1', data: 1 });
  const reply = await client.next();
  assert.equal(reply['ok'], false);
  assert.equal((reply['error'] as { code: string }).code, 'handler_error');
  assert.doesNotMatch(JSON.stringify(reply), /secrets/);
  assert.match(errors[0]?.message ?? '', /secrets/, 'reported to the application instead');
  client.send({ type: 'ping', t: 2 });
  assert.deepEqual(await client.next(), { type: 'pong', t: 2 });
});

test('ForbiddenError answers forbidden', async () => {
  await using fx = await startGateway({
    onMessage: () => Promise.reject(new ForbiddenError('admins only')),
  });
  const { client } = await fx.open('u:alice');
  client.send({ type: 'request', id: 'r1', data: 1 });
  const reply = await client.next();
  assert.equal((reply['error'] as { code: string }).code, 'forbidden');
});

test('a value that is not JSON answers handler_error', async () => {
  await using fx = await startGateway({ onMessage: () => ({ n: 1n }) });
  const { client } = await fx.open('u:alice');
  client.send({ type: 'request', id: 'r1', data: 1 });
  const reply = await client.next();
  assert.equal((reply['error'] as { code: string }).code, 'handler_error');
});

test('without onMessage, requests are answered not_supported', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  client.send({ type: 'request', id: 'r1', data: 1 });
  const reply = await client.next();
  assert.equal((reply['error'] as { code: string }).code, 'not_supported');
  await assertServes(fx);
});

test('a throwing event listener does not break the gateway', async () => {
  await using fx = await startGateway();
  fx.gateway.on('opened', () => {
    throw new Error('listener bug');
  });
  await assertServes(fx);
});
