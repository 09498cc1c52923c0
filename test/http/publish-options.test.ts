/**
 * `POST /api/publish` with `idempotencyKey` (body or `Idempotency-Key` header), `ttlSeconds`
 * and `requireAck`, against a real gateway over real sockets, with raw clients: one push
 * per key even under concurrency, 422 for a reused key, 400 naming each bad field, and
 * requireAck redelivery to a client that did not resume.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawClient } from '../helpers/raw-ws.js';
import { waitFor } from '../helpers/wait.js';
import { API_KEY, helloRaw, publish, startApi } from './fixture.js';

interface PublishBody {
  id: string;
  positions: { stream: string; epoch: string; offset: number }[];
  delivered: number;
  duplicate: boolean;
  expiresAt?: number;
}

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Pushes received until a ping is answered, after waiting for at least `min` of them. */
async function pushes(client: RawClient, min = 0): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  while (found.length < min) {
    const frame = await client.next();
    if (frame['type'] === 'push') found.push(frame);
  }
  client.send({ type: 'ping', t: 7 });
  for (;;) {
    const frame = await client.next();
    if (frame['type'] === 'pong') return found;
    if (frame['type'] === 'push') found.push(frame);
  }
}

describe('POST /api/publish options', () => {
  it('the same idempotencyKey twice answers the same id and pushes once', async () => {
    await using api = await startApi();
    await using alice = await helloRaw(api.wsUrl, await api.token('alice'));
    const body = { to: { user: 'alice' }, data: { n: 1 }, idempotencyKey: 'invoice-7' };
    const first = await publish(api.url, body);
    const again = await publish(api.url, body);
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    const a = first.body as PublishBody;
    const b = again.body as PublishBody;
    assert.equal(a.duplicate, false);
    assert.equal(a.delivered, 1);
    assert.deepEqual([b.id, b.positions, b.duplicate, b.delivered], [a.id, a.positions, true, 0]);
    assert.deepEqual(
      (await pushes(alice, 1)).map((p) => p['id']),
      [a.id],
    );
  });

  it('the Idempotency-Key header works like the body field, and they must agree', async () => {
    await using api = await startApi();
    const body = { to: { user: 'bob' }, data: 1 };
    const first = await publish(api.url, body, API_KEY, { 'idempotency-key': 'h-1' });
    const viaBody = await publish(api.url, { ...body, idempotencyKey: 'h-1' });
    assert.equal((viaBody.body as PublishBody).id, (first.body as PublishBody).id);
    assert.equal((viaBody.body as PublishBody).duplicate, true);
    const mismatch = await publish(api.url, { ...body, idempotencyKey: 'h-2' }, API_KEY, {
      'idempotency-key': 'h-1',
    });
    assert.equal(mismatch.status, 400);
    assert.equal((mismatch.body as ErrorBody).error.field, 'idempotencyKey');
    const tooLong = await publish(api.url, body, API_KEY, { 'idempotency-key': 'k'.repeat(201) });
    assert.equal(tooLong.status, 400);
    assert.equal((tooLong.body as ErrorBody).error.field, 'idempotencyKey');
  });

  it('concurrent duplicates publish once', async () => {
    await using api = await startApi();
    await using carol = await helloRaw(api.wsUrl, await api.token('carol'));
    const body = { to: { users: ['carol', 'dave'] }, data: 'x', idempotencyKey: 'burst' };
    const answers = await Promise.all(Array.from({ length: 12 }, () => publish(api.url, body)));
    assert.ok(answers.every((r) => r.status === 200));
    const results = answers.map((r) => r.body as PublishBody);
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal((await pushes(carol, 1)).length, 1);
  });

  it('a key reused for a different message answers 422', async () => {
    await using api = await startApi();
    await publish(api.url, { to: { user: 'erin' }, data: 1, idempotencyKey: 'k' });
    const reused = await publish(api.url, { to: { user: 'erin' }, data: 2, idempotencyKey: 'k' });
    assert.equal(reused.status, 422);
    const { error } = reused.body as ErrorBody;
    assert.equal(error.code, 'idempotency_key_reused');
    assert.equal(error.field, 'idempotencyKey');
  });

  it('ttlSeconds sets expiresAt in the answer', async () => {
    await using api = await startApi();
    const before = Date.now();
    const res = await publish(api.url, { to: { user: 'finn' }, data: 1, ttlSeconds: 30 });
    const { expiresAt } = res.body as PublishBody;
    assert.ok(expiresAt !== undefined && expiresAt >= before + 30_000);
    assert.ok(expiresAt <= Date.now() + 30_000);
    const plain = await publish(api.url, { to: { user: 'finn' }, data: 1 });
    assert.ok(!('expiresAt' in (plain.body as object)));
  });

  it('answers 400 naming the field for bad options', async () => {
    await using api = await startApi();
    const cases: [Record<string, unknown>, string][] = [
      [{ idempotencyKey: '' }, 'idempotencyKey'],
      [{ idempotencyKey: 5 }, 'idempotencyKey'],
      [{ ttlSeconds: 0 }, 'ttlSeconds'],
      [{ ttlSeconds: 2.5 }, 'ttlSeconds'],
      [{ ttlSeconds: 'soon' }, 'ttlSeconds'],
      [{ ttlSeconds: 3_000_000 }, 'ttlSeconds'],
      [{ requireAck: 1 }, 'requireAck'],
    ];
    for (const [extra, field] of cases) {
      const res = await publish(api.url, { to: { user: 'a' }, data: 1, ...extra });
      assert.equal(res.status, 400, JSON.stringify(extra));
      const { error } = res.body as ErrorBody;
      assert.equal(error.field, field, JSON.stringify(extra));
      assert.ok(error.message.includes(field), error.message);
    }
    const channel = await publish(api.url, { to: { channel: 'news' }, data: 1, requireAck: true });
    assert.equal(channel.status, 400);
    assert.equal((channel.body as ErrorBody).error.field, 'requireAck');
  });

  it('requireAck: a raw client without resume gets the unacked message after reconnecting, not after acking', async () => {
    await using api = await startApi();
    const token = await api.token('gina');
    const first = await helloRaw(api.wsUrl, token, { device: 'phone' });
    const res = await publish(api.url, {
      to: { user: 'gina' },
      data: 'sign this',
      requireAck: true,
    });
    const { id, positions } = res.body as PublishBody;
    await publish(api.url, { to: { user: 'gina' }, data: 'just news' });
    assert.equal((await pushes(first, 2)).length, 2);
    first.close();
    await first.closed();

    const second = await helloRaw(api.wsUrl, token, { device: 'phone' });
    const again = await pushes(second, 1);
    assert.deepEqual(
      again.map((p) => [p['id'], p['data'], p['offset']]),
      [[id, 'sign this', 1]],
    );
    const [at] = positions;
    second.send({ type: 'ack', positions: [at] });
    second.close();
    await second.closed();

    // The ack is recorded asynchronously; a session opened before it lands may still get
    // the message, which is what requireAck promises. Wait until one does not.
    await waitFor(async () => {
      const third = await helloRaw(api.wsUrl, token, { device: 'phone' });
      try {
        assert.deepEqual(await pushes(third), []);
      } finally {
        third.close();
        await third.closed();
      }
    });
  });
});
