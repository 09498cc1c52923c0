import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClientClosedError,
  CloseCode,
  ConnectFailedError,
  FrameTooLargeError,
  OutboxFullError,
  ProtocolError,
  RequestFailedError,
} from '../../src/entries/client.js';
import { encodeClientFrame, utf8Length } from '../../src/protocol/index.js';
import { begin, flushMicrotasks, open, setup, stateOf, type Fixture } from './support.js';

/** Let the reconnect delay pass and complete the handshake on the new socket. */
function reconnectNow(f: Fixture): void {
  f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
  f.ws.last().handshake();
}

function settled(promise: Promise<unknown>): Promise<string> {
  return Promise.race([
    promise.then(
      () => 'resolved',
      () => 'rejected',
    ),
    flushMicrotasks().then(() => 'pending'),
  ]);
}

describe('send()', () => {
  it('sends at once while open and resolves `delivered` on the reply', async () => {
    const f = setup();
    await open(f);
    const result = f.client.send({ text: 'hi' });
    assert.equal(result.status, 'sent');
    const [frame] = f.ws.last().framesOf('request');
    assert.deepEqual(frame, { type: 'request', id: result.id, data: { text: 'hi' } });
    assert.equal(await settled(result.delivered), 'pending', 'waits for the reply');
    f.ws.last().deliver({ type: 'reply', id: result.id, ok: true, data: 'ignored' });
    assert.equal(await result.delivered, undefined);
    await f.client.close();
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('queues while disconnected and flushes in order, with requests, after open', async () => {
    const f = setup();
    const a = f.client.send('a');
    const b = f.client.request('b');
    const c = f.client.send('c');
    assert.equal(a.status, 'queued');
    assert.equal(c.status, 'queued');
    begin(f);
    const socket = f.ws.last();
    socket.open();
    assert.equal(socket.framesOf('request').length, 0, 'not before welcome');
    socket.handshake();
    const frames = socket.framesOf('request');
    assert.deepEqual(
      frames.map((r) => r.data),
      ['a', 'b', 'c'],
    );
    assert.equal(frames[0]?.id, a.id);
    assert.equal(frames[2]?.id, c.id);
    for (const r of frames) socket.deliver({ type: 'reply', id: r.id, ok: true });
    await Promise.all([a.delivered, b, c.delivered]);
    await f.client.close();
  });

  it('re-sends unanswered messages with the same ids after a drop, and only those', async () => {
    const f = setup();
    await open(f);
    const answered = f.client.send('answered');
    const lost = f.client.send('reply lost');
    const waiting = f.client.send('in flight');
    f.ws.last().deliver({ type: 'reply', id: answered.id, ok: true });
    f.ws.last().finishClose(CloseCode.SERVER_ERROR);
    const queuedMeanwhile = f.client.send('while reconnecting');
    assert.equal(queuedMeanwhile.status, 'queued');
    reconnectNow(f);
    const resent = f.ws.last().framesOf('request');
    assert.deepEqual(
      resent.map((r) => [r.id, r.data]),
      [
        [lost.id, 'reply lost'],
        [waiting.id, 'in flight'],
        [queuedMeanwhile.id, 'while reconnecting'],
      ],
    );
    for (const r of resent) f.ws.last().deliver({ type: 'reply', id: r.id, ok: true });
    await Promise.all([answered, lost, waiting, queuedMeanwhile].map((s) => s.delivered));
    await f.client.close();
  });

  it('rejects `delivered` with RequestFailedError when the gateway refuses', async () => {
    const f = setup();
    await open(f);
    const result = f.client.send('x');
    f.ws.last().deliver({
      type: 'reply',
      id: result.id,
      ok: false,
      error: { code: 'not_supported', message: 'no handler' },
    });
    await assert.rejects(
      result.delivered,
      (e: unknown) => e instanceof RequestFailedError && e.replyCode === 'not_supported',
    );
    await f.client.close();
  });

  it('throws OutboxFullError when outbox.maxMessages are held, sent or not', async () => {
    const f = setup({ outbox: { maxMessages: 2 } });
    const first = f.client.send(1);
    f.client.send(2);
    assert.throws(
      () => f.client.send(3),
      (e: unknown) => e instanceof OutboxFullError && e.code === 'LIFELINE_ERR_OUTBOX_FULL',
    );
    await assert.rejects(f.client.request(3), OutboxFullError);
    await open(f);
    assert.throws(() => f.client.send(3), OutboxFullError, 'in flight counts too');
    f.ws.last().deliver({ type: 'reply', id: first.id, ok: true });
    assert.equal(f.client.send(3).status, 'sent', 'room again after a reply');
    assert.deepEqual(
      f.ws
        .last()
        .framesOf('request')
        .map((r) => r.data),
      [1, 2, 3],
      'a refused message is never sent',
    );
    await f.client.close();
  });

  it('throws OutboxFullError when outbox.maxBytes would be exceeded', async () => {
    const data = 'é'.repeat(20); // 40 UTF-8 bytes, 20 UTF-16 units
    // Ids are a 10-character prefix, a dot and a counter: 12 characters here.
    const bytesOf = (d: string): number =>
      utf8Length(encodeClientFrame({ type: 'request', id: 'x'.repeat(12), data: d }));
    // Two such frames and one empty message fit; a third full one does not.
    const f = setup({ outbox: { maxBytes: 2 * bytesOf(data) + bytesOf('') } });
    const one = f.client.send(data);
    f.client.send(data);
    assert.throws(() => f.client.send(data), /outbox\.maxBytes/);
    assert.throws(() => f.client.send(data), OutboxFullError);
    assert.equal(f.client.send('').status, 'queued', 'a smaller message still fits');
    await open(f);
    f.ws.last().deliver({ type: 'reply', id: one.id, ok: true });
    await one.delivered;
    assert.equal(f.client.send(data).status, 'sent', 'bytes are released by the reply');
    await f.client.close();
  });

  it('throws FrameTooLargeError for a message larger than the gateway accepts', async () => {
    const f = setup();
    assert.throws(() => f.client.send('y'.repeat(70_000)), FrameTooLargeError, 'default limit');
    const early = f.client.send('y'.repeat(500)); // fits the default 65,536 bytes
    const ready = f.client.connect();
    f.ws.last().handshake({ maxFrameBytes: 300 });
    await ready;
    await assert.rejects(early.delivered, FrameTooLargeError, 'the gateway allows less');
    assert.throws(() => f.client.send('é'.repeat(200)), FrameTooLargeError); // 400 UTF-8 bytes
    assert.throws(() => f.client.send(undefined), ProtocolError);
    assert.equal(f.ws.last().framesOf('request').length, 0);
    assert.equal(f.client.send('small').status, 'sent');
    await f.client.close();
  });

  it('rejects everything in the outbox with ClientClosedError on close()', async () => {
    const f = setup();
    const queued = f.client.send('queued');
    const request = f.client.request('queued too');
    await open(f);
    const inFlight = f.client.send('in flight');
    f.ws.last().finishClose(CloseCode.SERVER_ERROR);
    const waiting = f.client.send('waiting for a session');
    await f.client.close();
    for (const p of [queued.delivered, request, inFlight.delivered, waiting.delivered])
      await assert.rejects(p, ClientClosedError);
    assert.throws(() => f.client.send('after close'), ClientClosedError);
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('rejects the outbox with the terminal error when the client fails', async () => {
    const f = setup({ maxReconnectAttempts: 1 });
    await open(f);
    const pending = f.client.send('p');
    f.ws.last().finishClose(CloseCode.SERVER_ERROR);
    reconnectNow(f); // attempt 1 opens again …
    f.ws.last().finishClose(CloseCode.SERVER_ERROR);
    f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    f.ws.last().fail(); // … and attempt 1 of the next round fails: out of attempts
    assert.equal(f.client.state.kind, 'failed');
    await assert.rejects(pending.delivered, ConnectFailedError);
    assert.throws(() => f.client.send('late'), ConnectFailedError);
  });

  it('never reports an ignored `delivered` as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', record);
    try {
      const f = setup();
      f.client.send('ignored');
      await f.client.close();
      await flushMicrotasks();
      await flushMicrotasks();
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});
