import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CallbackError,
  CloseCode,
  type ClientOptions,
  type PushMessage,
} from '../../src/entries/client.js';
import { flushMicrotasks, open, setup, stateOf, type Fixture } from './support.js';

function push(offset: number): Record<string, unknown> {
  return {
    type: 'push',
    id: `m${offset}`,
    stream: 'user:u-1',
    epoch: 'e1',
    offset,
    data: offset,
    publishedAt: 1_000 + offset,
  };
}

/** A fixture that records every `messages` batch as the list of its offsets. */
function batched(
  batch: NonNullable<ClientOptions['batch']>,
): Fixture & { readonly batches: number[][] } {
  const f = setup({ batch });
  const batches: number[][] = [];
  f.client.on('messages', (list: readonly PushMessage[]) =>
    batches.push(list.map((m) => m.offset)),
  );
  return { ...f, batches };
}

describe('batched delivery', () => {
  it('delivers a batch as soon as it holds maxSize messages', async () => {
    const f = batched({ maxWaitMs: 1_000, maxSize: 3 });
    await open(f);
    for (const offset of [1, 2, 3, 4, 5, 6, 7]) f.ws.last().deliver(push(offset));
    assert.deepEqual(f.batches, [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.equal(f.messages.length, 7, '`message` fires for each message at once');
    f.clock.advance(1_000);
    assert.deepEqual(f.batches.at(-1), [7]);
    await f.client.close();
  });

  it('delivers maxWaitMs after the first message of a batch, with one timer per window', async () => {
    const f = batched({ maxWaitMs: 100, maxSize: 50 });
    await open(f);
    f.ws.last().deliver(push(1));
    const timers = f.clock.pendingTimers; // the window's and the ack's
    f.ws.last().deliver(push(2));
    assert.equal(f.clock.pendingTimers, timers, 'one timer per window, not per message');
    f.clock.advance(60);
    f.ws.last().deliver(push(3)); // does not extend the window
    f.clock.advance(39);
    assert.deepEqual(f.batches, []);
    f.clock.advance(1);
    assert.deepEqual(f.batches, [[1, 2, 3]]);
    f.clock.advance(500);
    assert.deepEqual(f.batches, [[1, 2, 3]], 'no empty batches');
    await f.client.close();
  });

  it('keeps a pending batch across a reconnect and delivers it on schedule', async () => {
    const f = batched({ maxWaitMs: 5_000, maxSize: 50 });
    await open(f);
    f.ws.last().deliver(push(1));
    f.ws.last().deliver(push(2));
    f.ws.last().finishClose(CloseCode.SHUTTING_DOWN);
    f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    f.ws.last().handshake();
    await flushMicrotasks();
    assert.deepEqual(f.batches, [], 'the reconnect did not hurry it');
    f.ws.last().deliver(push(2)); // replayed: a duplicate, dropped
    f.ws.last().deliver(push(3));
    f.clock.advance(5_000);
    assert.deepEqual(f.batches, [[1, 2, 3]], 'each message once, in order');
    await f.client.close();
  });

  it('delivers the pending batch on close() and leaves no timer behind', async () => {
    const f = batched({ maxWaitMs: 60_000, maxSize: 50 });
    await open(f);
    f.ws.last().deliver(push(1));
    f.ws.last().deliver(push(2));
    await f.client.close();
    assert.deepEqual(f.batches, [[1, 2]]);
    assert.equal(f.clock.pendingTimers, 0);
    assert.equal(f.kinds().at(-1), 'closed');
  });

  it('delivers the pending batch when the gateway closes the client for good', async () => {
    const f = batched({ maxWaitMs: 60_000, maxSize: 50 });
    await open(f);
    f.ws.last().deliver(push(1));
    f.ws.last().finishClose(CloseCode.REPLACED);
    assert.equal(f.client.state.kind, 'closed');
    assert.deepEqual(f.batches, [[1]]);
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('reports a throwing `messages` listener as CallbackError and carries on', async () => {
    const f = batched({ maxWaitMs: 100, maxSize: 2 });
    f.client.on('messages', () => {
      throw new Error('listener bug');
    });
    await open(f);
    for (const offset of [1, 2, 3, 4]) f.ws.last().deliver(push(offset));
    assert.deepEqual(f.batches, [
      [1, 2],
      [3, 4],
    ]);
    assert.equal(f.errors.length, 2);
    assert.ok(f.errors.every((e) => e instanceof CallbackError));
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
  });

  it('emits no `messages` without the batch option', async () => {
    const f = setup();
    let batches = 0;
    f.client.on('messages', () => batches++);
    await open(f);
    f.ws.last().deliver(push(1));
    f.clock.advance(60_000);
    assert.equal(batches, 0);
    assert.equal(f.messages.length, 1);
    await f.client.close();
  });
});
