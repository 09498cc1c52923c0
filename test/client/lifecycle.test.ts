import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CallbackError,
  ClientClosedError,
  CloseCode,
  type StateChange,
} from '../../src/entries/client.js';
import { begin, flushMicrotasks, open, setup, stateOf, type Fixture } from './support.js';

async function assertNothingLeft(f: Fixture): Promise<void> {
  await flushMicrotasks(); // the fake socket reports its close asynchronously, like a browser
  assert.equal(f.clock.pendingTimers, 0, 'pending timers');
  assert.equal(f.ws.listenerCount, 0, 'socket listeners');
  assert.equal(f.ws.live, 0, 'live sockets');
  assert.equal(f.network.listenerCount, 0, 'network listeners');
}

describe('close()', () => {
  it('from open: closes with 1000, one terminal event, nothing left behind', async () => {
    const f = setup();
    await open(f);
    const socket = f.ws.last();
    const sub = f.client.subscribe('news');
    const pending = f.client.request({ q: 1 });
    socket.deliver({
      type: 'push',
      id: 'm',
      stream: 'user:u-1',
      epoch: 'e',
      offset: 1,
      data: 0,
      publishedAt: 0,
    });

    const first = f.client.close();
    const second = f.client.close();
    await Promise.all([first, second, f.client.close()]);
    await assert.rejects(pending, ClientClosedError);

    assert.deepEqual(socket.closeCalls, [{ code: CloseCode.NORMAL, reason: 'normal closure' }]);
    assert.deepEqual(f.kinds(), ['connecting', 'open', 'closed']);
    assert.deepEqual(stateOf(f.client, 'closed').reason, { initiator: 'client' });
    // The pending ack went out before the close.
    assert.deepEqual(socket.framesOf('ack'), [
      { type: 'ack', positions: [{ stream: 'user:u-1', epoch: 'e', offset: 1 }] },
    ]);
    await sub.unsubscribe();
    await assertNothingLeft(f);
  });

  it('from connecting, reconnecting and idle: one terminal event, nothing left behind', async () => {
    const started = async (f: Fixture): Promise<void> => {
      begin(f);
      await flushMicrotasks(); // the token function resolves
    };
    const scenarios: ((f: Fixture) => Promise<void>)[] = [
      (f) => {
        begin(f); // still waiting for the token
        return Promise.resolve();
      },
      started,
      async (f) => {
        await started(f);
        f.ws.last().open();
      },
      async (f) => {
        await started(f);
        f.ws.last().fail();
        assert.equal(f.client.state.kind, 'reconnecting');
      },
      () => Promise.resolve(),
    ];
    for (const reach of scenarios) {
      const f = setup({ token: () => 'fresh' });
      await reach(f);
      const before = f.states.length;
      await f.client.close();
      await f.client.close();
      assert.equal(f.states.length, before + 1);
      assert.equal(f.client.state.kind, 'closed');
      await assertNothingLeft(f);
    }
  });

  it('after failed: stays failed, emits nothing', async () => {
    const f = setup({ maxReconnectAttempts: 0 });
    begin(f);
    f.ws.last().fail();
    assert.equal(f.client.state.kind, 'failed');
    const before = f.states.length;
    await f.client.close();
    assert.equal(f.states.length, before);
    await assertNothingLeft(f);
  });

  it('rejects waiting requests and requests made afterwards with ClientClosedError', async () => {
    const f = setup();
    const waiting = f.client.request('early'); // queued while idle
    await f.client.close();
    await assert.rejects(waiting, ClientClosedError);
    await assert.rejects(f.client.request('late'), ClientClosedError);
    await assertNothingLeft(f);
  });

  it('connect() after close() connects again', async () => {
    const f = setup();
    await open(f);
    await f.client.close();
    await open(f);
    assert.equal(f.client.state.kind, 'open');
    assert.equal(f.ws.sockets.length, 2);
    await f.client.close();
  });

  it('is what Symbol.asyncDispose does', async () => {
    const f = setup();
    {
      await using client = f.client;
      await open(f);
      assert.equal(client.state.kind, 'open');
    }
    assert.equal(f.client.state.kind, 'closed');
    await assertNothingLeft(f);
  });
});

describe('listeners', () => {
  it('a throwing listener is reported as CallbackError and does not corrupt state', async () => {
    const f = setup();
    f.client.on('state', () => {
      throw new Error('boom');
    });
    f.client.on('message', () => {
      throw new Error('bang');
    });
    await open(f);
    f.ws.last().deliver({
      type: 'push',
      id: 'm',
      stream: 'user:u-1',
      epoch: 'e',
      offset: 1,
      data: 0,
      publishedAt: 0,
    });
    assert.equal(f.client.state.kind, 'open');
    assert.equal(f.messages.length, 1);
    assert.ok(f.errors.length >= 3);
    assert.ok(f.errors.every((e) => e instanceof CallbackError));
    assert.deepEqual(
      f.errors.map((e) => (e.cause as Error).message),
      ['boom', 'boom', 'bang'],
    );
    await f.client.close();
  });

  it('an error listener that throws does not recurse', async () => {
    const f = setup();
    let calls = 0;
    f.client.on('error', () => {
      calls++;
      throw new Error('error listener failed');
    });
    f.client.on('state', () => {
      throw new Error('boom');
    });
    await open(f);
    assert.equal(calls, 2); // connecting, open
    assert.equal(f.errors.length, 2);
    await f.client.close();
  });

  it('delivers state events in order when a listener changes the state', async () => {
    const f = setup();
    const seen: string[] = [];
    f.client.on('state', ({ from, to }: StateChange) => {
      seen.push(`${from.kind}->${to.kind}`);
      if (to.kind === 'open') void f.client.close();
    });
    const ready = f.client.connect();
    f.ws.last().handshake();
    await ready;
    assert.deepEqual(seen, ['idle->connecting', 'connecting->open', 'open->closed']);
    assert.equal(f.client.state.kind, 'closed');
    await assertNothingLeft(f);
  });

  it('on() returns a function that removes the listener', async () => {
    const f = setup();
    let calls = 0;
    const off = f.client.on('state', () => calls++);
    begin(f);
    off();
    off();
    await f.client.close();
    assert.equal(calls, 1);
  });
});
