/**
 * Resume from the client's side (PROTOCOL.md §10): `resync` frames become `resync` events
 * and reset positions; a push that skips offsets is never delivered out of order but
 * repaired with `resume`; the application sees each message once, in order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloseCode,
  RequestFailedError,
  TimeoutError,
  type ClientOptions,
  type ResyncEvent,
} from '../../src/entries/client.js';
import type { PushFrame, ResyncFrame } from '../../src/protocol/index.js';
import { flushMicrotasks, open, setup, stateOf, type Fixture } from './support.js';

const INBOX = 'user:u-1';

function push(offset: number, stream = INBOX, epoch = 'e1'): PushFrame {
  return {
    type: 'push',
    id: `${stream}#${offset}`,
    stream,
    epoch,
    offset,
    data: offset,
    publishedAt: 1_000 + offset,
  };
}

function withResyncs(options: Partial<ClientOptions> = {}): Fixture & { resyncs: ResyncEvent[] } {
  const f = setup(options);
  const resyncs: ResyncEvent[] = [];
  f.client.on('resync', (event) => resyncs.push(event));
  return { ...f, resyncs };
}

function offsets(f: Fixture): number[] {
  return f.messages.map((m) => m.offset);
}

async function reconnectNow(f: Fixture): Promise<void> {
  f.ws.last().finishClose(CloseCode.SHUTTING_DOWN);
  f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
  f.ws.last().open();
}

describe('resync frames', () => {
  it('emit a resync event and move the position to the announced one', async () => {
    const f = withResyncs();
    await open(f);
    for (const o of [1, 2, 3]) f.ws.last().deliver(push(o));
    await reconnectNow(f);
    assert.deepEqual(f.ws.last().framesOf('hello')[0]?.resume, [
      { stream: INBOX, epoch: 'e1', offset: 3 },
    ]);
    f.ws.last().handshake();
    const resync: ResyncFrame = {
      type: 'resync',
      stream: INBOX,
      reason: 'trimmed',
      epoch: 'e1',
      offset: 40,
    };
    f.ws.last().deliver(resync);
    assert.deepEqual(f.resyncs, [
      {
        stream: INBOX,
        recovered: false,
        reason: 'trimmed',
        position: { stream: INBOX, epoch: 'e1', offset: 40 },
      },
    ]);
    // Live delivery continues right after the announced position; older ones are duplicates.
    for (const o of [40, 41, 42]) f.ws.last().deliver(push(o));
    assert.deepEqual(offsets(f), [1, 2, 3, 41, 42]);
    assert.deepEqual(f.ws.last().framesOf('resume'), [], 'no gap after a resync');
    await reconnectNow(f);
    assert.deepEqual(f.ws.last().framesOf('hello')[0]?.resume, [
      { stream: INBOX, epoch: 'e1', offset: 42 },
    ]);
    await f.client.close();
  });

  it('can move a position backwards (ahead) and forget it (no history)', async () => {
    const f = withResyncs();
    await open(f);
    const s = f.ws.last();
    for (const o of [1, 2, 3, 4, 5]) s.deliver(push(o));
    s.deliver({ type: 'resync', stream: INBOX, reason: 'ahead', epoch: 'e1', offset: 2 });
    s.deliver(push(3)); // the gateway's own offset 3, not the one the client had
    s.deliver(push(1, 'channel:news', 'n1'));
    s.deliver({ type: 'resync', stream: 'channel:news', reason: 'epoch_changed' });
    s.deliver(push(1, 'channel:news', 'n2')); // the first message of the new history
    assert.deepEqual(
      f.messages.map((m) => `${m.stream}@${m.epoch}#${m.offset}`),
      ['user:u-1@e1#1', 'user:u-1@e1#2', 'user:u-1@e1#3', 'user:u-1@e1#4', 'user:u-1@e1#5'].concat([
        'user:u-1@e1#3',
        'channel:news@n1#1',
        'channel:news@n2#1',
      ]),
    );
    assert.deepEqual(
      f.resyncs.map((r) => [r.stream, r.reason, r.position?.offset]),
      [
        [INBOX, 'ahead', 2],
        ['channel:news', 'epoch_changed', undefined],
      ],
    );
    await f.client.close();
  });

  it('are delivered after the messages waiting in a batch', async () => {
    const f = withResyncs({ batch: { maxWaitMs: 1_000, maxSize: 100 } });
    const order: string[] = [];
    f.client.on('messages', (batch) => order.push(`messages ${batch.length}`));
    f.client.on('resync', (r) => order.push(`resync ${r.reason}`));
    await open(f);
    f.ws.last().deliver(push(1));
    f.ws.last().deliver(push(2));
    f.ws
      .last()
      .deliver({ type: 'resync', stream: INBOX, reason: 'trimmed', epoch: 'e1', offset: 9 });
    assert.deepEqual(order, ['messages 2', 'resync trimmed']);
    await f.client.close();
  });

  it('a push of another epoch is reported as a resync, then delivered', async () => {
    const f = withResyncs();
    await open(f);
    f.ws.last().deliver(push(7, INBOX, 'old'));
    f.ws.last().deliver(push(3, INBOX, 'new'));
    f.ws.last().deliver(push(4, INBOX, 'new'));
    assert.deepEqual(offsets(f), [7, 3, 4]);
    assert.deepEqual(f.resyncs, [
      {
        stream: INBOX,
        recovered: false,
        reason: 'epoch_changed',
        position: { stream: INBOX, epoch: 'new', offset: 2 },
      },
    ]);
    await f.client.close();
  });
});

describe('live gaps', () => {
  it('are not delivered out of order: the client asks for a replay and delivers in order', async () => {
    const f = withResyncs();
    await open(f);
    const s = f.ws.last();
    s.deliver(push(1));
    s.deliver(push(2));
    s.deliver(push(4)); // 3 never arrived
    s.deliver(push(5));
    assert.deepEqual(offsets(f), [1, 2]);
    const resumes = s.framesOf('resume');
    assert.equal(resumes.length, 1, 'one resume per stream while it is being repaired');
    assert.deepEqual(resumes[0]?.positions, [{ stream: INBOX, epoch: 'e1', offset: 2 }]);
    // The gateway replays from the position, then answers.
    for (const o of [3, 4, 5]) s.deliver(push(o));
    s.deliver({ type: 'reply', id: resumes[0]?.id ?? '', ok: true });
    s.deliver(push(6));
    assert.deepEqual(offsets(f), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(f.resyncs, []);
    assert.equal(f.client.state.kind, 'open');
    // A later gap is repaired again.
    s.deliver(push(8));
    assert.equal(s.framesOf('resume').length, 2);
    await f.client.close();
  });

  it('are told apart from messages the gateway skipped on purpose (push.after)', async () => {
    const f = withResyncs();
    await open(f);
    const s = f.ws.last();
    s.deliver(push(1));
    s.deliver({ ...push(4), after: 1 }); // 2 and 3 expired
    s.deliver({ ...push(7), after: 3 }); // the client has 4: nothing it lacks in between
    assert.deepEqual(offsets(f), [1, 4, 7]);
    assert.deepEqual(s.framesOf('resume'), []);
    s.deliver({ ...push(10), after: 8 }); // 8 is missing
    assert.deepEqual(offsets(f), [1, 4, 7]);
    assert.deepEqual(
      s.framesOf('resume').map((r) => r.positions),
      [[{ stream: INBOX, epoch: 'e1', offset: 7 }]],
    );
    await f.client.close();
  });

  it('are repaired per stream, other streams flow on', async () => {
    const f = withResyncs();
    await open(f);
    const s = f.ws.last();
    s.deliver(push(1));
    s.deliver(push(1, 'channel:a'));
    s.deliver(push(3)); // gap in the inbox
    s.deliver(push(2, 'channel:a'));
    s.deliver(push(4, 'channel:a')); // gap in the channel
    assert.deepEqual(
      s.framesOf('resume').map((r) => r.positions),
      [
        [{ stream: INBOX, epoch: 'e1', offset: 1 }],
        [{ stream: 'channel:a', epoch: 'e1', offset: 2 }],
      ],
    );
    assert.deepEqual(
      f.messages.map((m) => `${m.stream}#${m.offset}`),
      [`${INBOX}#1`, 'channel:a#1', 'channel:a#2'],
    );
    await f.client.close();
  });

  it('a repair answered by resync continues from the announced position', async () => {
    const f = withResyncs();
    await open(f);
    const s = f.ws.last();
    s.deliver(push(1));
    s.deliver(push(5));
    const id = s.framesOf('resume')[0]?.id ?? '';
    s.deliver({ type: 'resync', stream: INBOX, reason: 'trimmed', epoch: 'e1', offset: 5 });
    s.deliver({ type: 'reply', id, ok: true });
    s.deliver(push(6));
    assert.deepEqual(offsets(f), [1, 6]);
    assert.deepEqual(
      f.resyncs.map((r) => r.reason),
      ['trimmed'],
    );
    await f.client.close();
  });

  it('a repair that times out or is refused drops the session; hello.resume takes over', async () => {
    for (const outcome of ['timeout', 'refused'] as const) {
      const f = withResyncs({ requestTimeoutMs: 5_000 });
      await open(f);
      const s = f.ws.last();
      s.deliver(push(1));
      s.deliver(push(3));
      const id = s.framesOf('resume')[0]?.id ?? '';
      if (outcome === 'timeout') f.clock.advance(5_000);
      else
        s.deliver({
          type: 'reply',
          id,
          ok: false,
          error: { code: 'bad_request', message: 'The request is not valid.' },
        });
      await flushMicrotasks();
      const state = stateOf(f.client, 'reconnecting');
      assert.ok(
        outcome === 'timeout'
          ? state.lastError instanceof TimeoutError
          : state.lastError instanceof RequestFailedError,
      );
      assert.deepEqual(s.closeCalls.at(-1)?.code, CloseCode.NORMAL);
      f.clock.advance(state.retryAt - f.clock.now());
      f.ws.last().open();
      assert.deepEqual(f.ws.last().framesOf('hello')[0]?.resume, [
        { stream: INBOX, epoch: 'e1', offset: 1 },
      ]);
      await f.client.close();
      assert.equal(f.clock.pendingTimers, 0);
    }
  });

  it('an unfinished repair ends with its session, without a timer left', async () => {
    const f = withResyncs({ requestTimeoutMs: 5_000 });
    await open(f);
    f.ws.last().deliver(push(1));
    f.ws.last().deliver(push(3));
    await reconnectNow(f);
    f.ws.last().handshake();
    await flushMicrotasks();
    f.clock.advance(6_000); // past the old repair's timeout: it does not fire
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
    assert.equal(f.clock.pendingTimers, 0);
  });
});
