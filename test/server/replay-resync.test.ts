/**
 * Raw-wire tests of resume (PROTOCOL.md §10): a servable position is replayed exactly, and
 * every position the gateway cannot serve completely is answered with `resync` — never
 * with a replay that looks complete and is not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawClient } from '../helpers/raw-ws.js';
import { startGateway, type GatewayFixture } from './fixtures.js';

type Frame = Record<string, unknown>;

/** Publish `count` messages to alice, data 1…count; returns the stream's epoch. */
async function fill(
  fx: GatewayFixture,
  count: number,
  stream = { user: 'alice' },
): Promise<string> {
  let epoch = '';
  for (let i = 1; i <= count; i++) {
    const result = await fx.gateway.publish({ to: stream, data: i });
    epoch = result.positions[0]?.epoch ?? '';
  }
  return epoch;
}

let barriers = 0;

/**
 * Every frame the gateway writes before it has handled the frames sent so far. The barrier
 * is an `unsubscribe` of a channel nobody subscribed: it is serialized with `subscribe`
 * and `resume`, so its reply comes after theirs and after any replay they started.
 */
async function drain(client: RawClient): Promise<Frame[]> {
  const id = `barrier-${++barriers}`;
  client.send({ type: 'unsubscribe', id, channel: 'barrier' });
  const frames: Frame[] = [];
  for (;;) {
    const frame = await client.next();
    if (frame['type'] === 'reply' && frame['id'] === id) return frames;
    frames.push(frame);
  }
}

function summary(frames: Frame[]): unknown[] {
  return frames.map((f) =>
    f['type'] === 'push'
      ? ['push', f['stream'], f['offset'], f['data']]
      : f['type'] === 'resync'
        ? ['resync', f['stream'], f['reason'], f['offset'] ?? null]
        : [f['type'], f['id'] ?? null],
  );
}

describe('hello.resume', () => {
  it('replays exactly the missed messages when the position is servable', async () => {
    await using fx = await startGateway({ retention: { maxMessages: 5 } });
    const epoch = await fill(fx, 10);
    // Offsets 6…10 are retained: 5 is the oldest position that can be served.
    const { client } = await fx.open('u:alice', {
      resume: [{ stream: 'user:alice', epoch, offset: 5 }],
    });
    const live = fx.gateway.publish({ to: { user: 'alice' }, data: 11 });
    await live;
    assert.deepEqual(summary(await drain(client)), [
      ['push', 'user:alice', 6, 6],
      ['push', 'user:alice', 7, 7],
      ['push', 'user:alice', 8, 8],
      ['push', 'user:alice', 9, 9],
      ['push', 'user:alice', 10, 10],
      ['push', 'user:alice', 11, 11],
    ]);
  });

  it('says resync (trimmed) with the head position and replays nothing', async () => {
    await using fx = await startGateway({ retention: { maxMessages: 5 } });
    const epoch = await fill(fx, 10);
    const { client } = await fx.open('u:alice', {
      resume: [{ stream: 'user:alice', epoch, offset: 4 }],
    });
    assert.deepEqual(await client.next(), {
      type: 'resync',
      stream: 'user:alice',
      reason: 'trimmed',
      epoch,
      offset: 10,
    });
    await fx.gateway.publish({ to: { user: 'alice' }, data: 11 });
    assert.deepEqual(summary(await drain(client)), [['push', 'user:alice', 11, 11]]);
  });

  it('says resync (epoch_changed) for a position of another history', async () => {
    await using fx = await startGateway();
    const epoch = await fill(fx, 3);
    const { client } = await fx.open('u:alice', {
      resume: [{ stream: 'user:alice', epoch: 'lost-history', offset: 2 }],
    });
    assert.deepEqual(await client.next(), {
      type: 'resync',
      stream: 'user:alice',
      reason: 'epoch_changed',
      epoch,
      offset: 3,
    });
    await fx.gateway.publish({ to: { user: 'alice' }, data: 4 });
    assert.deepEqual(summary(await drain(client)), [['push', 'user:alice', 4, 4]]);
  });

  it('says resync (epoch_changed) without a position when the stream has no history', async () => {
    await using fx = await startGateway();
    const { client } = await fx.open('u:alice', {
      resume: [{ stream: 'user:alice', epoch: 'before-a-restart', offset: 9 }],
    });
    assert.deepEqual(await client.next(), {
      type: 'resync',
      stream: 'user:alice',
      reason: 'epoch_changed',
    });
    await fx.gateway.publish({ to: { user: 'alice' }, data: 'first' });
    assert.deepEqual(summary(await drain(client)), [['push', 'user:alice', 1, 'first']]);
  });

  it('says resync (ahead) for a position beyond the newest message', async () => {
    await using fx = await startGateway();
    const epoch = await fill(fx, 3);
    const { client } = await fx.open('u:alice', {
      resume: [{ stream: 'user:alice', epoch, offset: 8 }],
    });
    assert.deepEqual(await client.next(), {
      type: 'resync',
      stream: 'user:alice',
      reason: 'ahead',
      epoch,
      offset: 3,
    });
    await fx.gateway.publish({ to: { user: 'alice' }, data: 4 });
    assert.deepEqual(summary(await drain(client)), [['push', 'user:alice', 4, 4]]);
  });

  it('replays nothing and says nothing for a position at the head', async () => {
    await using fx = await startGateway();
    const epoch = await fill(fx, 3);
    const { client } = await fx.open('u:alice', {
      resume: [{ stream: 'user:alice', epoch, offset: 3 }],
    });
    assert.deepEqual(await drain(client), []);
  });
});

describe('subscribe.from', () => {
  it('replies, then says resync (trimmed) for a channel trimmed past the position', async () => {
    await using fx = await startGateway({ retention: { maxMessages: 5 } });
    const epoch = await fill(fx, 8, { channel: 'room' } as never);
    const { client } = await fx.open('u:alice');
    client.send({ type: 'subscribe', id: 's1', channel: 'room', from: { epoch, offset: 1 } });
    assert.deepEqual(summary(await drain(client)), [
      ['reply', 's1'],
      ['resync', 'channel:room', 'trimmed', 8],
    ]);
    await fx.gateway.publish({ to: { channel: 'room' }, data: 9 });
    assert.deepEqual(summary(await drain(client)), [['push', 'channel:room', 9, 9]]);
  });
});

describe('resume (live gap repair)', () => {
  it('replays after the position, then replies, then continues live', async () => {
    await using fx = await startGateway();
    const epoch = await fill(fx, 5);
    const { client } = await fx.open('u:alice');
    client.send({
      type: 'resume',
      id: 'r1',
      positions: [{ stream: 'user:alice', epoch, offset: 2 }],
    });
    assert.deepEqual(summary(await drain(client)), [
      ['push', 'user:alice', 3, 3],
      ['push', 'user:alice', 4, 4],
      ['push', 'user:alice', 5, 5],
      ['reply', 'r1'],
    ]);
    await fx.gateway.publish({ to: { user: 'alice' }, data: 6 });
    assert.deepEqual(summary(await drain(client)), [['push', 'user:alice', 6, 6]]);
  });

  it('answers an unservable position with resync before the reply', async () => {
    await using fx = await startGateway({ retention: { maxMessages: 2 } });
    const epoch = await fill(fx, 6);
    const { client } = await fx.open('u:alice');
    client.send({
      type: 'resume',
      id: 'r1',
      positions: [{ stream: 'user:alice', epoch, offset: 1 }],
    });
    assert.deepEqual(summary(await drain(client)), [
      ['resync', 'user:alice', 'trimmed', 6],
      ['reply', 'r1'],
    ]);
  });

  it('ignores positions of streams the session does not receive', async () => {
    await using fx = await startGateway();
    await fill(fx, 3, { user: 'bob' });
    const { client } = await fx.open('u:alice');
    client.send({
      type: 'resume',
      id: 'r1',
      positions: [
        { stream: 'user:bob', epoch: 'x', offset: 0 },
        { stream: 'channel:not-subscribed', epoch: 'x', offset: 0 },
      ],
    });
    assert.deepEqual(summary(await drain(client)), [['reply', 'r1']]);
  });

  it('is a protocol error without an id or with malformed positions', async () => {
    await using fx = await startGateway();
    const { client } = await fx.open('u:alice');
    client.send({ type: 'resume', positions: [] });
    const close = await client.nextOf('close');
    assert.equal(close['code'], 4000);
  });
});
