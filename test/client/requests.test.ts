import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloseCode,
  FrameTooLargeError,
  InvalidOptionError,
  OutboxFullError,
  ProtocolError,
  RequestFailedError,
  TimeoutError,
} from '../../src/entries/client.js';
import { begin, flushMicrotasks, open, setup, stateOf } from './support.js';

describe('request()', () => {
  it('sends a request frame and resolves with the reply data', async () => {
    const f = setup();
    await open(f);
    const socket = f.ws.last();
    const a = f.client.request({ op: 'sum', args: [1, 2] });
    const b = f.client.request('second');
    const [ra, rb] = socket.framesOf('request');
    assert.ok(ra !== undefined && rb !== undefined);
    assert.deepEqual(ra.data, { op: 'sum', args: [1, 2] });
    assert.notEqual(ra.id, rb.id);
    assert.equal(ra.id.split('.')[0], rb.id.split('.')[0], 'one random prefix per client');
    socket.deliver({ type: 'reply', id: rb.id, ok: true, data: 'two' });
    socket.deliver({ type: 'reply', id: ra.id, ok: true, data: 3 });
    assert.equal(await a, 3);
    assert.equal(await b, 'two');
    await f.client.close();
  });

  it('uses a caller-chosen id, refusing a malformed one or one still in use', async () => {
    const f = setup();
    await open(f);
    const socket = f.ws.last();
    const pending = f.client.request('x', { id: 'tab-1.7' });
    const sent = f.client.send('y', { id: 'tab-1.8' });
    assert.equal(sent.id, 'tab-1.8');
    assert.deepEqual(
      socket.framesOf('request').map((r) => [r.id, r.data]),
      [
        ['tab-1.7', 'x'],
        ['tab-1.8', 'y'],
      ],
    );
    await assert.rejects(f.client.request('again', { id: 'tab-1.7' }), InvalidOptionError);
    assert.throws(() => f.client.send('again', { id: 'tab-1.8' }), InvalidOptionError);
    await assert.rejects(f.client.request('x', { id: '' }), InvalidOptionError);
    await assert.rejects(f.client.request('x', { id: 'x'.repeat(65) }), InvalidOptionError);
    assert.equal(socket.framesOf('request').length, 2, 'nothing refused was sent');
    socket.deliver({ type: 'reply', id: 'tab-1.7', ok: true, data: 1 });
    assert.equal(await pending, 1);
    // Answered: the id is free again.
    const again = f.client.request('z', { id: 'tab-1.7' });
    socket.deliver({ type: 'reply', id: 'tab-1.7', ok: true, data: 2 });
    assert.equal(await again, 2);
    await f.client.close();
  });

  it('rejects with RequestFailedError on ok:false', async () => {
    const f = setup();
    await open(f);
    const pending = f.client.request('x');
    const id = f.ws.last().framesOf('request')[0]?.id;
    f.ws
      .last()
      .deliver({ type: 'reply', id, ok: false, error: { code: 'forbidden', message: 'no' } });
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof RequestFailedError && e.replyCode === 'forbidden',
    );
    await f.client.close();
  });

  it('rejects with TimeoutError, and ignores the late reply', async () => {
    const f = setup({ requestTimeoutMs: 3_000 });
    await open(f);
    const byDefault = f.client.request('a');
    const short = f.client.request('b', { timeoutMs: 500 });
    f.clock.advance(500);
    await assert.rejects(short, TimeoutError);
    f.clock.advance(2_500);
    await assert.rejects(byDefault, TimeoutError);
    const id = f.ws.last().framesOf('request')[0]?.id;
    f.ws.last().deliver({ type: 'reply', id, ok: true, data: 1 });
    assert.equal(f.client.state.kind, 'open');
    await assert.rejects(f.client.request('c', { timeoutMs: 0 }), InvalidOptionError);
    await assert.rejects(f.client.request(undefined), ProtocolError);
    await f.client.close();
  });

  it('waits while not open and is sent once open, in order', async () => {
    const f = setup();
    const first = f.client.request(1);
    const second = f.client.request(2);
    begin(f);
    const socket = f.ws.last();
    socket.open();
    assert.equal(socket.framesOf('request').length, 0, 'not before welcome');
    socket.handshake();
    const frames = socket.framesOf('request');
    assert.deepEqual(
      frames.map((r) => r.data),
      [1, 2],
    );
    for (const r of frames) socket.deliver({ type: 'reply', id: r.id, ok: true, data: r.data });
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    await f.client.close();
  });

  it('re-sends a request in flight after a reconnect, with the same id', async () => {
    const f = setup();
    await open(f);
    const pending = f.client.request({ pay: 10 });
    const sent = f.ws.last().framesOf('request')[0];
    f.ws.last().finishClose(CloseCode.SERVER_ERROR);
    f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    const socket = f.ws.last();
    socket.handshake();
    const resent = socket.framesOf('request');
    assert.equal(resent.length, 1);
    assert.deepEqual(resent[0], sent);
    socket.deliver({ type: 'reply', id: sent?.id, ok: true, data: 'done' });
    assert.equal(await pending, 'done');
    await f.client.close();
  });

  it('bounds waiting plus in-flight requests by outbox.maxMessages', async () => {
    const f = setup({ outbox: { maxMessages: 3 } });
    const queued = [f.client.request(1), f.client.request(2)];
    await open(f);
    queued.push(f.client.request(3)); // in flight
    await assert.rejects(
      f.client.request(4),
      (e: unknown) => e instanceof OutboxFullError && e.code === 'LIFELINE_ERR_OUTBOX_FULL',
    );
    assert.equal(f.ws.last().framesOf('request').length, 3);
    const id = f.ws.last().framesOf('request')[0]?.id;
    f.ws.last().deliver({ type: 'reply', id, ok: true, data: null });
    await queued[0];
    const fifth = f.client.request(5); // room again
    assert.equal(f.ws.last().framesOf('request').length, 4);
    await f.client.close();
    await assert.rejects(fifth);
    await Promise.allSettled(queued);
  });

  it('refuses to send a frame larger than welcome.maxFrameBytes', async () => {
    const f = setup();
    const queued = f.client.request('y'.repeat(500));
    const ready = f.client.connect();
    f.ws.last().handshake({ maxFrameBytes: 300 });
    await ready;
    await assert.rejects(queued, FrameTooLargeError);
    await assert.rejects(f.client.request('é'.repeat(200)), FrameTooLargeError); // 400 UTF-8 bytes
    assert.equal(f.ws.last().framesOf('request').length, 0);
    assert.equal(
      await Promise.race([f.client.request('small'), flushMicrotasks().then(() => 'pending')]),
      'pending',
    );
    assert.equal(f.ws.last().framesOf('request').length, 1);
    await f.client.close().catch(() => {});
  });
});
