import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RawClient } from '../helpers/raw-ws.js';
import { startGateway } from './fixtures.js';

async function pushes(client: RawClient, count: number): Promise<Record<string, unknown>[]> {
  const frames: Record<string, unknown>[] = [];
  while (frames.length < count) {
    const frame = await client.next();
    if (frame['type'] === 'push') frames.push(frame);
  }
  return frames;
}

test('hello.resume replays missed inbox messages before live ones', async () => {
  await using fx = await startGateway();
  const first = await fx.open('u:alice');
  const results = [];
  for (let i = 1; i <= 3; i++)
    results.push(await fx.gateway.publish({ to: { user: 'alice' }, data: i }));
  const seen = await pushes(first.client, 3);
  const epoch = seen[0]?.['epoch'];
  first.client.close();
  await first.client.closed();

  // Offline: two more messages.
  await fx.gateway.publish({ to: { user: 'alice' }, data: 4 });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 5 });

  const { client } = await fx.open('u:alice', {
    resume: [{ stream: 'user:alice', epoch, offset: 3 }],
  });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 6 });
  const got = await pushes(client, 3);
  assert.deepEqual(
    got.map((p) => p['offset']),
    [4, 5, 6],
  );
  assert.deepEqual(
    got.map((p) => p['data']),
    [4, 5, 6],
  );
  client.send({ type: 'ping' });
  assert.deepEqual(await client.nextOf('pong'), { type: 'pong' }, 'no duplicate after the replay');
  assert.equal(results[0]?.positions[0]?.epoch, epoch);
});

test('a resume position of another epoch replays nothing and says resync', async () => {
  await using fx = await startGateway();
  const { positions } = await fx.gateway.publish({ to: { user: 'alice' }, data: 1 });
  const { client } = await fx.open('u:alice', {
    resume: [{ stream: 'user:alice', epoch: 'from-another-process', offset: 0 }],
  });
  assert.deepEqual(await client.next(), {
    type: 'resync',
    stream: 'user:alice',
    reason: 'epoch_changed',
    epoch: positions[0]?.epoch,
    offset: 1,
  });
  client.send({ type: 'ping' });
  assert.deepEqual(await client.next(), { type: 'pong' });
});

test('subscribe.from replays a channel, with no gap or duplicate around live pushes', async () => {
  await using fx = await startGateway();
  const first = await fx.gateway.publish({ to: { channel: 'room' }, data: 'a' });
  const epoch = first.positions[0]?.epoch;
  for (const d of ['b', 'c', 'd']) await fx.gateway.publish({ to: { channel: 'room' }, data: d });
  const { client } = await fx.open('u:alice');
  client.send({ type: 'subscribe', id: 's1', channel: 'room', from: { epoch, offset: 1 } });
  // Published while the replay is in flight.
  const live = fx.gateway.publish({ to: { channel: 'room' }, data: 'e' });
  assert.deepEqual(await client.next(), { type: 'reply', id: 's1', ok: true });
  await live;
  const got = await pushes(client, 4);
  assert.deepEqual(
    got.map((p) => [p['offset'], p['data']]),
    [
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
      [5, 'e'],
    ],
  );
  client.send({ type: 'ping' });
  assert.deepEqual(await client.next(), { type: 'pong' });
});
