/**
 * Publish options through the gateway, over real sockets with raw clients: idempotency
 * keys (repeats, concurrent duplicates, reuse, the window), TTL (not replayed, not
 * redelivered once expired) and requireAck redelivery (without resume, per device, in
 * order before live pushes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock, type Clock } from '../../src/env/index.js';
import {
  createMemoryLog,
  PublishConflictError,
  PublishError,
  type MessageLog,
} from '../../src/entries/server.js';
import type { RawClient } from '../helpers/raw-ws.js';
import { startGateway, waitFor } from './fixtures.js';

/** The system clock, moved forward by hand; timers run on real time. */
function shiftedClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => systemClock.now() + offset,
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
    advance(ms) {
      offset += ms;
    },
  };
}

/**
 * The next `count` pushes, then whatever else arrives before a ping is answered (replays
 * run asynchronously, so a ping alone may overtake them).
 */
async function pushes(client: RawClient, count: number): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  while (found.length < count) {
    const frame = await client.next();
    if (frame['type'] === 'push') found.push(frame);
  }
  return [...found, ...(await drain(client))];
}

/** Pushes received until a ping is answered: everything the gateway had sent by then. */
async function drain(client: RawClient): Promise<Record<string, unknown>[]> {
  const t = Math.random();
  client.send({ type: 'ping', t });
  const pushes: Record<string, unknown>[] = [];
  for (;;) {
    const frame = await client.next();
    if (frame['type'] === 'pong' && frame['t'] === t) return pushes;
    if (frame['type'] === 'push') pushes.push(frame);
  }
}

test('idempotencyKey: a repeat answers the original id and positions and pushes nothing', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  const input = { to: { user: 'alice' }, data: { n: 1 }, idempotencyKey: 'order-1' };
  const first = await fx.gateway.publish(input);
  const again = await fx.gateway.publish(input);
  assert.equal(first.duplicate, false);
  assert.equal(first.delivered, 1);
  assert.deepEqual(
    { id: again.id, positions: again.positions, duplicate: again.duplicate },
    { id: first.id, positions: first.positions, duplicate: true },
  );
  assert.equal(again.delivered, 0);
  assert.deepEqual(
    (await pushes(client, 1)).map((p) => p['id']),
    [first.id],
  );
  assert.equal(fx.gateway.stats().published, 1);
});

test('idempotencyKey: concurrent duplicates publish once', async () => {
  await using fx = await startGateway();
  const { client } = await fx.open('u:alice');
  const results = await Promise.all(
    Array.from({ length: 10 }, () =>
      fx.gateway.publish({ to: { users: ['alice', 'bob'] }, data: 'x', idempotencyKey: 'k' }),
    ),
  );
  assert.equal(results.filter((r) => !r.duplicate).length, 1);
  assert.equal(new Set(results.map((r) => r.id)).size, 1);
  assert.equal((await pushes(client, 1)).length, 1);
});

test('idempotencyKey: reusing a key for another message is a PublishConflictError', async () => {
  await using fx = await startGateway();
  const first = await fx.gateway.publish({ to: { user: 'alice' }, data: 1, idempotencyKey: 'k' });
  for (const other of [
    { to: { user: 'alice' }, data: 2 },
    { to: { user: 'bob' }, data: 1 },
    { to: { user: 'alice' }, data: 1, ttlSeconds: 60 },
    { to: { user: 'alice' }, data: 1, requireAck: true },
  ]) {
    await assert.rejects(
      fx.gateway.publish({ ...other, idempotencyKey: 'k' }),
      (error) =>
        error instanceof PublishConflictError &&
        error.original === first.id &&
        error.field === 'idempotencyKey' &&
        error.code === 'LIFELINE_ERR_PUBLISH_CONFLICT',
    );
  }
});

test('idempotencyKey: after idempotencyWindowMs the key publishes again', async () => {
  const clock = shiftedClock();
  await using fx = await startGateway({ clock, idempotencyWindowMs: 1000 });
  const first = await fx.gateway.publish({ to: { user: 'a' }, data: 1, idempotencyKey: 'k' });
  clock.advance(500);
  assert.equal(
    (await fx.gateway.publish({ to: { user: 'a' }, data: 1, idempotencyKey: 'k' })).duplicate,
    true,
  );
  clock.advance(600);
  const later = await fx.gateway.publish({ to: { user: 'a' }, data: 1, idempotencyKey: 'k' });
  assert.equal(later.duplicate, false);
  assert.notEqual(later.id, first.id);
  assert.equal(later.positions[0]?.offset, 2);
});

test('ttlSeconds: the result carries expiresAt', async () => {
  const clock = shiftedClock();
  await using fx = await startGateway({ clock });
  const { client } = await fx.open('u:alice');
  const before = clock.now();
  const short = await fx.gateway.publish({ to: { user: 'alice' }, data: 'short', ttlSeconds: 1 });
  const after = clock.now();
  const forever = await fx.gateway.publish({ to: { user: 'alice' }, data: 'forever' });
  const expiresAt = short.expiresAt ?? 0;
  assert.ok(expiresAt >= before + 1000 && expiresAt <= after + 1000, 'publish time + TTL');
  assert.equal(forever.expiresAt, undefined);
  assert.equal((await pushes(client, 2)).length, 2, 'pushed live while fresh');
});

test('ttlSeconds: an expired message is not replayed', async () => {
  const clock = shiftedClock();
  await using fx = await startGateway({ clock });
  const before = clock.now();
  const short = await fx.gateway.publish({ to: { user: 'alice' }, data: 'short', ttlSeconds: 1 });
  const after = clock.now();
  await fx.gateway.publish({ to: { user: 'alice' }, data: 'long', ttlSeconds: 60 });
  const forever = await fx.gateway.publish({ to: { user: 'alice' }, data: 'forever' });
  const epoch = short.positions[0]?.epoch;
  const expiresAt = short.expiresAt ?? 0;
  assert.ok(expiresAt >= before + 1000 && expiresAt <= after + 1000, 'publish time + TTL');
  assert.equal(forever.expiresAt, undefined);
  clock.advance(1500);
  const { client } = await fx.open('u:alice', {
    resume: [{ stream: 'user:alice', epoch, offset: 0 }],
  });
  assert.deepEqual(
    (await pushes(client, 2)).map((p) => [p['offset'], p['data']]),
    [
      [2, 'long'],
      [3, 'forever'],
    ],
  );
});

test('requireAck: redelivered to a device that did not ack, on every new session, without resume', async () => {
  await using fx = await startGateway();
  const phone = await fx.open('u:alice', { device: 'phone' });
  const a = await fx.gateway.publish({ to: { user: 'alice' }, data: 'a', requireAck: true });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 'b' });
  const c = await fx.gateway.publish({ to: { user: 'alice' }, data: 'c', requireAck: true });
  assert.equal((await pushes(phone.client, 3)).length, 3, 'all three arrive live');
  phone.client.close();
  await phone.client.closed();

  const again = await fx.open('u:alice', { device: 'phone' });
  const redelivered = await pushes(again.client, 2);
  assert.deepEqual(
    redelivered.map((p) => [p['offset'], p['after'], p['id'], p['data']]),
    [
      [1, undefined, a.id, 'a'],
      [3, 1, c.id, 'c'],
    ],
    '3 says it follows 1: offset 2 was left out on purpose',
  );
  const epoch = a.positions[0]?.epoch;
  again.client.send({ type: 'ack', positions: [{ stream: 'user:alice', epoch, offset: 1 }] });
  await drain(again.client);
  again.client.close();
  await again.client.closed();

  const third = await fx.open('u:alice', { device: 'phone' });
  assert.deepEqual(
    (await pushes(third.client, 1)).map((p) => [p['offset'], p['after']]),
    [[3, 1]],
    'follows what the device acknowledged',
  );
  third.client.send({ type: 'ack', positions: [{ stream: 'user:alice', epoch, offset: 3 }] });
  await drain(third.client);
  third.client.close();
  await third.client.closed();

  const fourth = await fx.open('u:alice', { device: 'phone' });
  assert.deepEqual(await drain(fourth.client), [], 'acked: nothing is redelivered');
  const laptop = await fx.open('u:alice', { device: 'laptop' });
  assert.deepEqual(
    (await pushes(laptop.client, 2)).map((p) => p['offset']),
    [1, 3],
    'another device has its own acks',
  );
});

test('requireAck: an expired message is not redelivered', async () => {
  const clock = shiftedClock();
  await using fx = await startGateway({ clock });
  await fx.gateway.publish({ to: { user: 'bob' }, data: 1, requireAck: true, ttlSeconds: 1 });
  await fx.gateway.publish({ to: { user: 'bob' }, data: 2, requireAck: true, ttlSeconds: 60 });
  clock.advance(2000);
  const { client } = await fx.open('u:bob', { device: 'd' });
  assert.deepEqual(
    (await pushes(client, 1)).map((p) => p['data']),
    [2],
  );
});

/**
 * A memory log whose redelivery reads wait for `release()`. The handshake's own one-message
 * look-up (does the device owe anything? PROTOCOL.md §10.2) passes ungated and uncounted.
 */
function gatedLog(): MessageLog & { release(): void; reads: number } {
  const inner = createMemoryLog();
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const log = {
    ...inner,
    reads: 0,
    async readRequiringAck(stream: string, after: number, limit: number) {
      if (limit === 1) return inner.readRequiringAck(stream, after, limit);
      log.reads++;
      await gate;
      return inner.readRequiringAck(stream, after, limit);
    },
    release: () => release(),
  };
  return log;
}

test('requireAck: redelivery precedes live pushes that arrive meanwhile, in offset order', async () => {
  const log = gatedLog();
  await using fx = await startGateway({ messageLog: log });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 'old-1', requireAck: true });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 'old-2' });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 'old-3', requireAck: true });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 'old-4' });
  const { client } = await fx.open('u:alice', { device: 'phone' });
  await waitFor(() => assert.equal(log.reads, 1));
  const live = await fx.gateway.publish({ to: { user: 'alice' }, data: 'live-5' });
  assert.equal(live.delivered, 1, 'held for the session, so counted');
  const other = await fx.gateway.publish({
    to: { user: 'alice' },
    data: 'live-6',
    requireAck: true,
  });
  assert.equal(other.delivered, 1);
  assert.equal(
    client.received.filter((t) => t.includes('"push"')).length,
    0,
    'nothing is written while the redelivery is pending',
  );
  log.release();
  const got = await pushes(client, 4);
  assert.deepEqual(
    got.map((p) => [p['offset'], p['after'], p['data']]),
    [
      [1, undefined, 'old-1'],
      [3, 1, 'old-3'],
      [5, 3, 'live-5'],
      [6, undefined, 'live-6'],
    ],
  );
  const shared = got[3];
  await fx.gateway.publish({ to: { user: 'alice' }, data: 'live-7' });
  assert.deepEqual(
    (await pushes(client, 1)).map((p) => [p['offset'], p['after']]),
    [[7, undefined]],
    'live again',
  );
  assert.equal(shared?.['after'], undefined, 'only the push after the skip is re-encoded');
});

/**
 * A memory log that appends at once but, from the message 'slow' on, resolves publishes
 * only after `release()` — still in call order, as the MessageLog contract requires.
 */
function slowPublishLog(): MessageLog & { release(): void } {
  const inner = createMemoryLog();
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let gated = false;
  return {
    ...inner,
    async publish(entry) {
      const published = await inner.publish(entry);
      gated ||= entry.message.data === 'slow';
      if (gated) await gate;
      return published;
    },
    release: () => release(),
  };
}

test('requireAck: with a publish in flight, redelivery waits for it and keeps the order', async () => {
  const log = slowPublishLog();
  await using fx = await startGateway({ messageLog: log });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 'old', requireAck: true });
  // Appended as offsets 2 and 3, not yet fanned out. Writing 3 from the log before 2
  // arrives live would make the client drop 2.
  const slow = fx.gateway.publish({ to: { user: 'alice' }, data: 'slow' });
  const after = fx.gateway.publish({ to: { user: 'alice' }, data: 'after', requireAck: true });
  const { client } = await fx.open('u:alice', { device: 'phone' });
  assert.deepEqual(await drain(client), [], 'the redelivery waits for the publishes in flight');
  log.release();
  assert.equal((await slow).delivered, 1);
  assert.equal((await after).delivered, 1);
  const got = await pushes(client, 3);
  assert.deepEqual(
    got.map((p) => [p['offset'], p['data']]),
    [
      [1, 'old'],
      [2, 'slow'],
      [3, 'after'],
    ],
  );
});

test('requireAck: a resuming session gets each message once', async () => {
  await using fx = await startGateway();
  const first = await fx.gateway.publish({ to: { user: 'alice' }, data: 1, requireAck: true });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 2, requireAck: true });
  const epoch = first.positions[0]?.epoch;
  const { client } = await fx.open('u:alice', {
    device: 'phone',
    resume: [{ stream: 'user:alice', epoch, offset: 1 }],
  });
  const offsets = (await pushes(client, 1)).map((p) => p['offset'] as number);
  // The client de-duplicates: what reaches its application is each offset once, in order.
  let last = 1;
  const delivered = offsets.filter((o) => (o > last ? ((last = o), true) : false));
  assert.deepEqual(delivered, [2]);
});

test('publish validates its options, naming the field', async () => {
  await using fx = await startGateway();
  const cases: [Record<string, unknown>, string][] = [
    [{ idempotencyKey: '' }, 'idempotencyKey'],
    [{ idempotencyKey: 'k'.repeat(201) }, 'idempotencyKey'],
    [{ idempotencyKey: 7 }, 'idempotencyKey'],
    [{ ttlSeconds: 0 }, 'ttlSeconds'],
    [{ ttlSeconds: 1.5 }, 'ttlSeconds'],
    [{ ttlSeconds: '60' }, 'ttlSeconds'],
    [{ ttlSeconds: 31 * 24 * 3600 }, 'ttlSeconds'],
    [{ requireAck: 'yes' }, 'requireAck'],
  ];
  for (const [extra, field] of cases) {
    await assert.rejects(
      fx.gateway.publish({ to: { user: 'a' }, data: 1, ...extra } as never),
      (error) =>
        error instanceof PublishError && error.field === field && error.message.includes(field),
      JSON.stringify(extra),
    );
  }
  await assert.rejects(
    fx.gateway.publish({ to: { channel: 'news' }, data: 1, requireAck: true }),
    (error) => error instanceof PublishError && error.field === 'requireAck',
  );
  assert.equal(fx.gateway.stats().published, 0);
});
