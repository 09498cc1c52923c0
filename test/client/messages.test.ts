import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloseCode,
  InvalidOptionError,
  RequestFailedError,
  TimeoutError,
  type PushMessage,
} from '../../src/entries/client.js';
import type { PushFrame } from '../../src/protocol/index.js';
import { flushMicrotasks, open, setup, stateOf, type Fixture } from './support.js';

function push(stream: string, epoch: string, offset: number, data: unknown = offset): PushFrame {
  return {
    type: 'push',
    id: `${stream}@${epoch}#${offset}`,
    stream,
    epoch,
    offset,
    data,
    publishedAt: 1_000 + offset,
  };
}

function positionsOf(messages: PushMessage[]): string[] {
  return messages.map((m) => `${m.stream}@${m.epoch}#${m.offset}`);
}

async function reconnectNow(f: Fixture, code: number = CloseCode.SHUTTING_DOWN): Promise<void> {
  f.ws.last().finishClose(code);
  f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
  f.ws.last().handshake();
  await flushMicrotasks();
}

describe('pushed messages', () => {
  it('emits each push as a message with its position', async () => {
    const f = setup();
    await open(f);
    f.ws.last().deliver(push('user:u-1', 'e1', 1, { hello: 'world' }));
    assert.deepEqual(f.messages, [
      {
        id: 'user:u-1@e1#1',
        stream: 'user:u-1',
        epoch: 'e1',
        offset: 1,
        data: { hello: 'world' },
        publishedAt: 1_001,
      },
    ]);
    await f.client.close();
  });

  it('drops pushes at or below the last delivered position, also across reconnects', async () => {
    const f = setup();
    await open(f);
    for (const offset of [1, 2, 3, 2, 3, 1]) f.ws.last().deliver(push('user:u-1', 'e1', offset));
    f.ws.last().deliver(push('channel:a', 'e1', 1)); // another stream has its own positions
    await reconnectNow(f);
    for (const offset of [2, 3, 4]) f.ws.last().deliver(push('user:u-1', 'e1', offset)); // replay overlaps
    assert.deepEqual(positionsOf(f.messages), [
      'user:u-1@e1#1',
      'user:u-1@e1#2',
      'user:u-1@e1#3',
      'channel:a@e1#1',
      'user:u-1@e1#4',
    ]);
    await f.client.close();
  });

  it('accepts a new epoch and counts from there', async () => {
    const f = setup();
    await open(f);
    const s = f.ws.last();
    s.deliver(push('user:u-1', 'old', 50));
    s.deliver(push('user:u-1', 'new', 1)); // history was reset: lower offset, new epoch
    s.deliver(push('user:u-1', 'new', 1));
    s.deliver(push('user:u-1', 'new', 2));
    assert.deepEqual(positionsOf(f.messages), [
      'user:u-1@old#50',
      'user:u-1@new#1',
      'user:u-1@new#2',
    ]);
    await f.client.close();
  });

  it('coalesces cumulative acks: one frame per window, newest position per stream', async () => {
    const f = setup({ ackDelayMs: 50 });
    await open(f);
    const s = f.ws.last();
    const timersBefore = f.clock.pendingTimers;
    for (let offset = 1; offset <= 20; offset++) {
      s.deliver(push('user:u-1', 'e', offset));
      if (offset % 4 === 0) s.deliver(push('channel:b', 'e', offset / 4));
    }
    assert.equal(f.clock.pendingTimers, timersBefore + 1, 'one timer for the whole window');
    assert.equal(s.framesOf('ack').length, 0);
    f.clock.advance(50);
    assert.deepEqual(s.framesOf('ack'), [
      {
        type: 'ack',
        positions: [
          { stream: 'user:u-1', epoch: 'e', offset: 20 },
          { stream: 'channel:b', epoch: 'e', offset: 5 },
        ],
      },
    ]);
    s.deliver(push('user:u-1', 'e', 21));
    f.clock.advance(50);
    assert.equal(s.framesOf('ack').length, 2);
    assert.deepEqual(s.framesOf('ack')[1]?.positions, [
      { stream: 'user:u-1', epoch: 'e', offset: 21 },
    ]);
    f.clock.advance(1_000);
    assert.equal(s.framesOf('ack').length, 2, 'nothing new, nothing sent');
    await f.client.close();
  });

  it('splits acks of many streams into frames that fit maxFrameBytes', async () => {
    const f = setup({ channelAckDelayMs: 10 });
    const ready = f.client.connect();
    f.ws.last().handshake({ maxFrameBytes: 2_000 });
    await ready;
    const s = f.ws.last();
    for (let i = 0; i < 300; i++) s.deliver(push(`channel:c${i}`, 'e', 1));
    f.clock.advance(10);
    const acks = s.framesOf('ack');
    assert.ok(acks.length > 1);
    assert.equal(
      acks.reduce((n, a) => n + a.positions.length, 0),
      300,
    );
    assert.ok(s.sent.filter((t) => t.startsWith('{"type":"ack"')).every((t) => t.length <= 2_000));
    await f.client.close();
  });
});

describe('subscriptions', () => {
  it('subscribes when open, and again after every reconnect from the last position', async () => {
    const f = setup();
    const early = f.client.subscribe('news'); // before connecting
    await open(f);
    const s1 = f.ws.last();
    assert.deepEqual(
      s1.framesOf('subscribe').map((x) => [x.channel, x.from]),
      [['news', undefined]],
    );
    const late = f.client.subscribe('sport'); // while open: sent at once
    assert.equal(s1.framesOf('subscribe').length, 2);
    s1.deliver(push('channel:news', 'ep', 7));
    await reconnectNow(f);
    const s2 = f.ws.last();
    assert.deepEqual(
      s2.framesOf('subscribe').map((x) => [x.channel, x.from]),
      [
        ['news', { epoch: 'ep', offset: 7 }],
        ['sport', undefined],
      ],
    );
    await f.client.close();
    await early.unsubscribe(); // no session: nothing to confirm
    await late.unsubscribe();
  });

  it('unsubscribe() sends unsubscribe, resolves on the reply, and stops the restore', async () => {
    const f = setup();
    await open(f);
    const sub = f.client.subscribe('news');
    assert.equal(sub.channel, 'news');
    const s = f.ws.last();
    const done = sub.unsubscribe();
    assert.equal(sub.unsubscribe(), done, 'idempotent');
    const frame = s.framesOf('unsubscribe')[0];
    assert.equal(frame?.channel, 'news');
    s.deliver({ type: 'reply', id: frame?.id, ok: true });
    await done;
    await reconnectNow(f);
    assert.equal(f.ws.last().framesOf('subscribe').length, 0);
    await f.client.close();
  });

  it('unsubscribe() times out without a reply, and resolves when the session ends first', async () => {
    const f = setup({ requestTimeoutMs: 2_000 });
    await open(f);
    const unanswered = f.client.subscribe('a').unsubscribe();
    f.clock.advance(2_000);
    await assert.rejects(unanswered, TimeoutError);
    const interrupted = f.client.subscribe('b').unsubscribe();
    f.ws.last().fail();
    await interrupted;
    await f.client.close();
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('shares one subscription between handles of the same channel', async () => {
    const f = setup();
    await open(f);
    const a = f.client.subscribe('news');
    const b = f.client.subscribe('news');
    const s = f.ws.last();
    assert.equal(s.framesOf('subscribe').length, 1);
    await a.unsubscribe();
    assert.equal(s.framesOf('unsubscribe').length, 0, 'b still wants it');
    const last = b.unsubscribe();
    s.deliver({ type: 'reply', id: s.framesOf('unsubscribe')[0]?.id, ok: true });
    await last;
    await f.client.close();
  });

  it('reports a refused subscription on error and does not ask again', async () => {
    const f = setup();
    await open(f);
    f.client.subscribe('secret');
    const s = f.ws.last();
    const id = s.framesOf('subscribe')[0]?.id;
    s.deliver({
      type: 'reply',
      id,
      ok: false,
      error: { code: 'forbidden', message: 'not for you' },
    });
    assert.equal(f.errors.length, 1);
    assert.ok(f.errors[0] instanceof RequestFailedError && f.errors[0].replyCode === 'forbidden');
    await reconnectNow(f);
    assert.equal(f.ws.last().framesOf('subscribe').length, 0);
    await f.client.close();
  });

  it('rejects malformed channel names', () => {
    const f = setup();
    assert.throws(() => f.client.subscribe('has space'), InvalidOptionError);
    assert.throws(() => f.client.subscribe(''), InvalidOptionError);
  });

  it('unsubscribe() while not open resolves at once; async dispose unsubscribes', async () => {
    const f = setup();
    {
      await using sub = f.client.subscribe('news');
      assert.equal(sub.channel, 'news');
    }
    await open(f);
    assert.equal(f.ws.last().framesOf('subscribe').length, 0);
    await f.client.close();
  });
});
