/**
 * Acknowledgements follow delivery to the application: on `message` without batching, on
 * `messages` with it — a message waiting in a batch is never acknowledged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloseCode,
  DEFAULT_ACK_DELAY_MS,
  DEFAULT_CHANNEL_ACK_DELAY_MS,
} from '../../src/entries/client.js';
import type { PushFrame } from '../../src/protocol/index.js';
import { flushMicrotasks, open, setup, stateOf } from './support.js';

function push(offset: number, stream = 'user:u-1'): PushFrame {
  return {
    type: 'push',
    id: `m${offset}`,
    stream,
    epoch: 'e1',
    offset,
    data: offset,
    publishedAt: 1,
  };
}

const at = (offset: number, stream = 'user:u-1'): unknown => ({
  type: 'ack',
  positions: [{ stream, epoch: 'e1', offset }],
});

const NEWS = 'channel:news';

describe('acks', () => {
  it('emits `ack` with the positions of every ack frame sent', async () => {
    const f = setup();
    const acked: unknown[] = [];
    f.client.on('ack', (positions) => acked.push(positions));
    await open(f);
    for (const o of [1, 2]) f.ws.last().deliver(push(o));
    assert.deepEqual(acked, []);
    f.clock.advance(DEFAULT_ACK_DELAY_MS);
    assert.deepEqual(acked, [[{ stream: 'user:u-1', epoch: 'e1', offset: 2 }]]);
    await f.client.close();
  });

  it('without batching: acknowledged after `message`, coalesced per window', async () => {
    const f = setup();
    await open(f);
    for (const o of [1, 2, 3]) f.ws.last().deliver(push(o));
    assert.deepEqual(f.ws.last().framesOf('ack'), []);
    f.clock.advance(DEFAULT_ACK_DELAY_MS - 1);
    assert.deepEqual(f.ws.last().framesOf('ack'), [], 'one frame per window, not per message');
    f.clock.advance(1);
    assert.deepEqual(f.ws.last().framesOf('ack'), [at(3)]);
    await f.client.close();
  });

  it('channel streams are acknowledged on their own, longer window', async () => {
    const f = setup();
    await open(f);
    const s = f.ws.last();
    s.deliver(push(1, NEWS));
    f.clock.advance(DEFAULT_ACK_DELAY_MS);
    assert.deepEqual(s.framesOf('ack'), [], 'a channel ack waits longer');
    f.clock.advance(DEFAULT_CHANNEL_ACK_DELAY_MS - DEFAULT_ACK_DELAY_MS);
    assert.deepEqual(s.framesOf('ack'), [at(1, NEWS)]);
    await f.client.close();
  });

  it('a pending channel ack rides along with the next ack of the user stream', async () => {
    const f = setup({ ackDelayMs: 100, channelAckDelayMs: 10_000 });
    await open(f);
    const s = f.ws.last();
    s.deliver(push(1, NEWS));
    s.deliver(push(1));
    f.clock.advance(100);
    const positions = [
      { stream: NEWS, epoch: 'e1', offset: 1 },
      { stream: 'user:u-1', epoch: 'e1', offset: 1 },
    ];
    assert.deepEqual(s.framesOf('ack'), [{ type: 'ack', positions }], 'one frame for both');
    f.clock.advance(10_000);
    assert.equal(s.framesOf('ack').length, 1, 'nothing left for the channel timer');
    await f.client.close();
  });

  it('close() sends channel acks still inside their window', async () => {
    const f = setup();
    await open(f);
    const s = f.ws.last();
    s.deliver(push(4, NEWS));
    await f.client.close();
    assert.deepEqual(s.framesOf('ack'), [at(4, NEWS)]);
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('with batching: nothing is acknowledged until its batch was handed to `messages`', async () => {
    const f = setup({ batch: { maxWaitMs: 1_000, maxSize: 3 }, ackDelayMs: 50 });
    const handed: number[][] = [];
    f.client.on('messages', (batch) => {
      handed.push(batch.map((m) => m.offset));
    });
    await open(f);
    const s = f.ws.last();
    for (const o of [1, 2, 3, 4]) s.deliver(push(o));
    assert.equal(f.messages.length, 4, '`message` fired for each');
    f.clock.advance(50);
    assert.deepEqual(handed, [[1, 2, 3]]);
    assert.deepEqual(s.framesOf('ack'), [at(3)], 'the full batch only, not 4');
    f.clock.advance(500);
    assert.deepEqual(s.framesOf('ack'), [at(3)], 'still waiting in the batch');
    f.clock.advance(500);
    assert.deepEqual(handed, [[1, 2, 3], [4]]);
    f.clock.advance(50);
    assert.deepEqual(s.framesOf('ack'), [at(3), at(4)]);
    await f.client.close();
  });

  it('a batch handed over while reconnecting is acknowledged in the next session', async () => {
    const f = setup({ batch: { maxWaitMs: 10, maxSize: 100 }, minReconnectDelayMs: 10_000 });
    await open(f);
    f.ws.last().deliver(push(1));
    f.ws.last().deliver(push(2));
    const first = f.ws.last();
    first.finishClose(CloseCode.SHUTTING_DOWN);
    assert.ok(stateOf(f.client, 'reconnecting').retryAt - f.clock.now() > 10);
    f.clock.advance(10); // the batch goes out while there is no session
    assert.equal(f.client.state.kind, 'reconnecting');
    assert.deepEqual(first.framesOf('ack'), []);
    f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    f.ws.last().handshake();
    await flushMicrotasks();
    assert.deepEqual(f.ws.last().framesOf('ack'), [at(2)]);
    await f.client.close();
  });

  it('close() hands over the pending batch first, then acknowledges it', async () => {
    const f = setup({ batch: { maxWaitMs: 1_000, maxSize: 100 } });
    const order: string[] = [];
    f.client.on('messages', (batch) => order.push(`messages ${batch.length}`));
    await open(f);
    const s = f.ws.last();
    s.deliver(push(1));
    s.deliver(push(2));
    await f.client.close();
    assert.deepEqual(order, ['messages 2']);
    assert.deepEqual(s.framesOf('ack'), [at(2)]);
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('a listener that closes the client still has its message acknowledged', async () => {
    for (const batch of [undefined, { maxWaitMs: 1_000, maxSize: 100 }]) {
      const f = setup(batch === undefined ? {} : { batch });
      f.client.on('message', () => void f.client.close());
      await open(f);
      const s = f.ws.last();
      s.deliver(push(1));
      await flushMicrotasks();
      assert.equal(f.client.state.kind, 'closed');
      assert.deepEqual(s.framesOf('ack'), [at(1)]);
      assert.equal(f.clock.pendingTimers, 0, 'no timer armed after close');
    }
  });
});
