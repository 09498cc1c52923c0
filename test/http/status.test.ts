/**
 * `GET /api/messages/:id`: authentication, unknown ids, validation, and the delivery
 * status of user and channel messages after clients received and acknowledged them (raw
 * clients on the gateway core, and Lifeline's Node client on the Node gateway) — from
 * receipts still in memory and after they were written to the store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNodeClient } from '../../src/entries/node.js';
import { createMemoryAckStore } from '../../src/entries/server.js';
import type { MessageStatus, RecipientStatus } from '../../src/server/types.js';
import { waitFor } from '../helpers/wait.js';
import { startCoreApi } from './core-fixture.js';
import { API_KEY, fetchJson, publish, startApi, startApiWith } from './fixture.js';

/** GET the status of `id`; `key: null` sends no Authorization header. */
function status(base: string, id: string, key: string | null = API_KEY, query = '') {
  return fetchJson(`${base}/api/messages/${encodeURIComponent(id)}${query}`, {
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
}

function errorCode(body: unknown): string | undefined {
  return (body as { error?: { code?: string } }).error?.code;
}

describe('GET /api/messages/:id', () => {
  it('refuses requests without the API key, or with a wrong one, with 401', async () => {
    await using api = await startCoreApi();
    const { id } = await api.core.publish({ to: { user: 'alice' }, data: 1 });
    for (const key of [null, `${API_KEY}x`]) {
      const res = await status(api.url, id, key);
      assert.equal(res.status, 401);
      assert.equal(errorCode(res.body), 'unauthorized');
    }
  });

  it('answers 404 for an unknown id and 400 for a bad one or a bad limit', async () => {
    await using api = await startCoreApi();
    const unknown = await status(api.url, '0190f0e0-0000-7000-8000-000000000000');
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown.body), 'not_found');
    const { id } = await api.core.publish({ to: { user: 'alice' }, data: 1 });
    for (const query of ['?limit=0', '?limit=1001', '?limit=ten', '?limit=1.5']) {
      const res = await status(api.url, id, API_KEY, query);
      assert.equal(res.status, 400, query);
      assert.equal((res.body as { error: { field: string } }).error.field, 'limit');
    }
    const long = await status(api.url, 'x'.repeat(65));
    assert.equal(long.status, 400);
    const post = await fetchJson(`${api.url}/api/messages/${id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    assert.equal(post.status, 405);
  });

  it('answers 501 when the gateway does not report message status', async () => {
    // A gateway of its own (the HTTP API takes any), without messageStatus.
    await using api = await startApiWith({
      publish: () => Promise.reject(new Error('unused')),
      sessions: () => [],
      disconnect: () => 0,
      stats: () => ({ sessions: 0 }),
    });
    const res = await status(api.url, 'some-id');
    assert.equal(res.status, 501);
    assert.equal(errorCode(res.body), 'not_implemented');
  });

  it('is served by the Node gateway: 404 for an unknown id', async () => {
    await using api = await startApi();
    const res = await status(api.url, '0190f0e0-0000-7000-8000-000000000000');
    assert.equal(res.status, 404);
  });

  it('is served by the Node gateway: delivery and ack of a message a real client received', async () => {
    await using api = await startApi();
    await using client = createNodeClient({
      url: api.wsUrl,
      token: await api.token('carol'),
      device: 'tablet',
      ackDelayMs: 0,
    });
    await client.connect();
    const acked = new Promise<void>((resolve) => client.on('ack', () => resolve()));
    const received = new Promise<void>((resolve) => client.on('message', () => resolve()));
    const published = await publish(api.url, { to: { user: 'carol' }, data: { n: 1 } });
    assert.equal(published.status, 200);
    const { id } = published.body as { id: string };
    await received;
    await acked;
    const body = await waitFor(async () => {
      const res = await status(api.url, id);
      assert.equal(res.status, 200);
      const found = res.body as MessageStatus;
      assert.equal(found.recipients[0]?.acked, true);
      return found;
    });
    const [only, ...rest] = body.recipients;
    assert.deepEqual(rest, []);
    assert.equal(only?.user, 'carol');
    assert.equal(only?.device, 'tablet');
    assert.equal(only?.session, client.state.kind === 'open' ? client.state.session.id : '');
    assert.ok((only?.deliveredAt ?? 0) >= body.publishedAt, 'delivered after it was published');
  });

  it('reports deliveredAt per session and ackedAt per device after a raw client acks', async () => {
    await using api = await startCoreApi();
    const phone = await api.open('alice', { device: 'phone' });
    const laptop = await api.open('alice', { device: 'laptop' });
    const before = Date.now();
    const published = await api.core.publish({
      to: { user: 'alice' },
      data: { text: 'hi' },
      requireAck: true,
      ttlSeconds: 60,
    });
    const [push] = await phone.waitForPushes(1);
    await laptop.waitForPushes(1);
    const { epoch, offset } = published.positions[0] ?? { epoch: '', offset: 0 };
    phone.send({ type: 'ack', positions: [{ stream: 'user:alice', epoch, offset }] });

    const body = await waitFor(async () => {
      const res = await status(api.url, published.id);
      assert.equal(res.status, 200);
      const found = res.body as MessageStatus;
      assert.equal(found.recipients.find((r) => r.device === 'phone')?.acked, true);
      return found;
    });
    assert.equal(body.id, published.id);
    assert.equal(push?.['id'], published.id);
    assert.deepEqual(body.positions, published.positions);
    assert.equal(body.requireAck, true);
    assert.equal(body.expiresAt, published.expiresAt);
    assert.ok(body.publishedAt >= before && body.publishedAt <= Date.now());
    assert.equal(body.truncated, false);
    const byDevice = new Map(body.recipients.map((r) => [r.device, r]));
    const p = byDevice.get('phone') as RecipientStatus;
    const l = byDevice.get('laptop') as RecipientStatus;
    assert.equal(body.recipients.length, 2);
    assert.equal(p.stream, 'user:alice');
    assert.equal(p.user, 'alice');
    assert.equal(typeof p.session, 'string');
    assert.notEqual(p.session, l.session);
    assert.ok((p.deliveredAt ?? 0) >= body.publishedAt, 'delivered after it was published');
    assert.ok((p.ackedAt ?? 0) >= (p.deliveredAt ?? Infinity), 'acked after delivered');
    assert.ok((p.ackedAt ?? 0) <= Date.now());
    assert.equal(l.acked, false);
    assert.equal(l.ackedAt, undefined);
    assert.equal(typeof l.deliveredAt, 'number');
  });

  it('keeps reporting after receipts were written to the store and the sessions left', async () => {
    const acks = createMemoryAckStore();
    await using api = await startCoreApi({
      ackStore: acks,
      deliveryReceipts: { flushIntervalMs: 20 },
    });
    const phone = await api.open('bob', { device: 'phone' });
    const first = await api.core.publish({ to: { user: 'bob' }, data: 1 });
    const second = await api.core.publish({ to: { user: 'bob' }, data: 2 });
    await phone.waitForPushes(2);
    const { epoch } = second.positions[0] ?? { epoch: '' };
    phone.send({ type: 'ack', positions: [{ stream: 'user:bob', epoch, offset: 2 }] });
    await waitFor(async () =>
      assert.equal((await acks.receipts('user:bob', { epoch, minOffset: 1, limit: 10 })).length, 2),
    );
    await phone.close();
    for (const { id } of [first, second]) {
      const res = await status(api.url, id);
      const [only, ...rest] = (res.body as MessageStatus).recipients;
      assert.deepEqual(rest, []);
      assert.equal(only?.device, 'phone');
      assert.equal(only?.acked, true, 'a cumulative ack covers the earlier message too');
      assert.equal(typeof only?.deliveredAt, 'number');
      assert.equal(typeof only?.ackedAt, 'number');
    }
  });

  it('a device that acked in an earlier session is listed without a session', async () => {
    await using api = await startCoreApi();
    const published = await api.core.publish({ to: { user: 'carol' }, data: 1 });
    const { epoch, offset } = published.positions[0] ?? { epoch: '', offset: 0 };
    // Offline when it was published; later a session acks it (after a replay, say).
    const later = await api.open('carol', { device: 'tablet' });
    later.send({ type: 'ack', positions: [{ stream: 'user:carol', epoch, offset }] });
    const body = await waitFor(async () => {
      const found = (await status(api.url, published.id)).body as MessageStatus;
      assert.equal(found.recipients[0]?.acked, true);
      return found;
    });
    assert.deepEqual(
      body.recipients.map((r) => [r.device, r.session, r.deliveredAt, r.acked]),
      [['tablet', undefined, undefined, true]],
    );
  });

  it('a channel message lists the devices that acked it, capped by limit', async () => {
    await using api = await startCoreApi();
    const clients = await Promise.all(
      ['u1', 'u2', 'u3'].map((user) => api.open(user, { device: 'd' })),
    );
    for (const [i, c] of clients.entries())
      c.send({ type: 'subscribe', id: `s${i}`, channel: 'news' });
    await waitFor(() =>
      assert.ok(clients.every((c) => c.frames.some((f) => f['type'] === 'reply'))),
    );
    const published = await api.core.publish({ to: { channel: 'news' }, data: 'x' });
    const { epoch, offset } = published.positions[0] ?? { epoch: '', offset: 0 };
    for (const c of clients.slice(0, 2)) {
      await c.waitForPushes(1);
      c.send({ type: 'ack', positions: [{ stream: 'channel:news', epoch, offset }] });
    }
    const all = await waitFor(async () => {
      const found = (await status(api.url, published.id)).body as MessageStatus;
      assert.equal(found.recipients.length, 2);
      return found;
    });
    assert.deepEqual(all.recipients.map((r) => [r.stream, r.user, r.device, r.acked]).sort(), [
      ['channel:news', 'u1', 'd', true],
      ['channel:news', 'u2', 'd', true],
    ]);
    assert.equal(all.truncated, false);
    const one = (await status(api.url, published.id, API_KEY, '?limit=1')).body as MessageStatus;
    assert.equal(one.recipients.length, 1);
    assert.equal(one.truncated, true);
  });
});
