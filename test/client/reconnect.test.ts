import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthExpiredError,
  AuthFailedError,
  ClosedByServerError,
  CloseCode,
  ConnectFailedError,
  ReplacedError,
  TimeoutError,
} from '../../src/entries/client.js';
import { WELCOME } from '../helpers/fake-websocket.js';
import { begin, flushMicrotasks, open, seededRandom, setup, stateOf } from './support.js';

describe('reconnect decision: close classes', () => {
  it('stays closed after 4100 authentication failed', async () => {
    const f = setup({ token: 'bad' });
    const ready = f.client.connect();
    const socket = f.ws.last();
    socket.open();
    socket.deliver({ type: 'close', code: CloseCode.AUTH_FAILED, reason: 'authentication failed' });
    socket.finishClose(CloseCode.AUTH_FAILED, 'authentication failed');
    await assert.rejects(ready, AuthFailedError);
    const state = stateOf(f.client, 'closed');
    assert.deepEqual(
      state.reason.initiator === 'server' && [state.reason.code, state.reason.error.code],
      [CloseCode.AUTH_FAILED, 'LIFELINE_ERR_AUTH_FAILED'],
    );
    f.clock.advance(10 * 60_000);
    assert.equal(f.ws.sockets.length, 1);
    assert.deepEqual(f.kinds(), ['connecting', 'closed']);
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('stays closed with ReplacedError after 4102', async () => {
    const f = setup();
    await open(f);
    f.ws.last().finishClose(CloseCode.REPLACED, 'replaced by a newer session');
    const state = stateOf(f.client, 'closed');
    assert.ok(state.reason.initiator === 'server' && state.reason.error instanceof ReplacedError);
    f.clock.advance(10 * 60_000);
    assert.equal(f.ws.sockets.length, 1);
  });

  it('treats 4101 as fatal with a fixed token', async () => {
    const f = setup({ token: 'fixed' });
    await open(f);
    f.ws.last().finishClose(CloseCode.AUTH_EXPIRED, 'authentication expired');
    const state = stateOf(f.client, 'closed');
    assert.ok(
      state.reason.initiator === 'server' && state.reason.error instanceof AuthExpiredError,
    );
  });

  it('reconnects after 4101 with a token function, asking it for a fresh token', async () => {
    let calls = 0;
    const f = setup({ token: async () => `token-${++calls}` });
    await open(f);
    assert.equal(f.ws.last().framesOf('hello')[0]?.token, 'token-1');
    f.ws.last().finishClose(CloseCode.AUTH_EXPIRED, 'authentication expired');
    const waiting = stateOf(f.client, 'reconnecting');
    assert.ok(waiting.lastError instanceof AuthExpiredError);
    await f.clock.advanceAsync(waiting.retryAt - f.clock.now());
    assert.equal(calls, 2);
    f.ws.last().open();
    assert.equal(f.ws.last().framesOf('hello')[0]?.token, 'token-2');
    await f.client.close();
  });

  it('calls the token function before every attempt and checks its result', async () => {
    const tokens: (string | Error | number)[] = [new Error('offline'), 42, 'good'];
    let calls = 0;
    const f = setup({
      token: () => {
        const next = tokens[calls++];
        if (next instanceof Error) return Promise.reject(next);
        return Promise.resolve(next as string);
      },
    });
    begin(f);
    await flushMicrotasks();
    assert.equal(f.ws.sockets.length, 0, 'no socket when the token function failed');
    assert.equal(stateOf(f.client, 'reconnecting').lastError.code, 'LIFELINE_ERR_CALLBACK');
    await f.clock.advanceAsync(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    assert.equal(stateOf(f.client, 'reconnecting').lastError.code, 'LIFELINE_ERR_CALLBACK');
    await f.clock.advanceAsync(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    assert.equal(calls, 3);
    f.ws.last().handshake();
    assert.equal(f.client.state.kind, 'open');
    assert.equal(f.ws.last().framesOf('hello')[0]?.token, 'good');
    await f.client.close();
  });

  it('ignores a token that arrives after the client was closed', async () => {
    let release: (token: string) => void = () => {};
    const f = setup({ token: () => new Promise<string>((resolve) => (release = resolve)) });
    begin(f);
    await f.client.close();
    release('late');
    await flushMicrotasks();
    assert.equal(f.ws.sockets.length, 0);
    assert.equal(f.client.state.kind, 'closed');
  });

  it('waits at least retryAfterMs from a close frame', async () => {
    const f = setup({ maxReconnectDelayMs: 2_000 });
    await open(f);
    const socket = f.ws.last();
    socket.deliver({
      type: 'close',
      code: CloseCode.RATE_LIMITED,
      reason: 'rate limited',
      retryAfterMs: 45_000,
    });
    const state = stateOf(f.client, 'reconnecting');
    assert.ok(state.retryAt - f.clock.now() >= 45_000);
    assert.equal(f.ws.live, 0, 'the socket is closed at once');
    f.clock.advance(44_999);
    assert.equal(f.ws.sockets.length, 1);
    f.clock.advance(state.retryAt - f.clock.now());
    assert.equal(f.ws.sockets.length, 2);
    await f.client.close();
  });

  it('reconnects after a dropped connection (1006) with attempt 1', async () => {
    const f = setup();
    await open(f);
    f.ws.last().fail();
    const state = stateOf(f.client, 'reconnecting');
    assert.equal(state.attempt, 1);
    assert.ok(state.lastError instanceof ClosedByServerError);
    assert.equal(state.lastError.closeCode, CloseCode.ABNORMAL);
    assert.ok(state.retryAt - f.clock.now() <= 1_000);
    f.clock.advance(state.retryAt - f.clock.now());
    assert.deepEqual(f.client.state, { kind: 'connecting', attempt: 1, transport: 'websocket' });
    await f.client.close();
  });

  it('resumes from its positions after a resync close (4006): the gateway decides', async () => {
    const f = setup();
    await open(f);
    const s1 = f.ws.last();
    s1.deliver({
      type: 'push',
      id: 'a',
      stream: 'user:u-1',
      epoch: 'e',
      offset: 7,
      data: 1,
      publishedAt: 1,
    });
    s1.finishClose(CloseCode.SLOW_CONSUMER, 'slow consumer');
    f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    f.ws.last().open();
    assert.deepEqual(f.ws.last().framesOf('hello')[0]?.resume, [
      { stream: 'user:u-1', epoch: 'e', offset: 7 },
    ]);
    await f.client.close();
  });
});

describe('reconnect timing', () => {
  it('spreads the delays of many clients with full jitter, within the window', async () => {
    const delays: number[][] = [];
    for (let seed = 1; seed <= 200; seed++) {
      const f = setup({
        random: seededRandom(seed),
        minReconnectDelayMs: 1_000,
        maxReconnectDelayMs: 8_000,
        connectTimeoutMs: 60_000,
      });
      await open(f);
      const mine: number[] = [];
      f.ws.last().finishClose(CloseCode.SHUTTING_DOWN);
      for (let attempt = 1; attempt <= 5; attempt++) {
        const state = stateOf(f.client, 'reconnecting');
        assert.equal(state.attempt, attempt);
        mine.push(state.retryAt - f.clock.now());
        f.clock.advance(state.retryAt - f.clock.now());
        f.ws.last().finishClose(CloseCode.ABNORMAL); // the attempt fails
      }
      delays.push(mine);
      await f.client.close();
    }
    for (let attempt = 1; attempt <= 5; attempt++) {
      const ceiling = Math.min(8_000, 1_000 * 2 ** (attempt - 1));
      const column = delays.map((d) => d[attempt - 1] ?? Number.NaN);
      for (const d of column) assert.ok(d >= 0 && d <= ceiling, `attempt ${attempt}: ${d} ms`);
      // Not lock-step: many distinct values, spread over the window.
      assert.ok(new Set(column).size > 150, `attempt ${attempt}: values are not spread`);
      const mean = column.reduce((a, b) => a + b, 0) / column.length;
      assert.ok(mean > ceiling * 0.35 && mean < ceiling * 0.65, `attempt ${attempt}: mean ${mean}`);
      const quarter = column.filter((d) => d < ceiling / 4).length;
      assert.ok(
        quarter > 25 && quarter < 75,
        `attempt ${attempt}: ${quarter} in the first quarter`,
      );
    }
  });

  it('gives up after maxReconnectAttempts, then reconnect() starts over and opens', async () => {
    const f = setup({ maxReconnectAttempts: 3 });
    const ready = f.client.connect();
    f.ws.last().fail(); // attempt 0
    for (let attempt = 1; attempt <= 3; attempt++) {
      const state = stateOf(f.client, 'reconnecting');
      assert.equal(state.attempt, attempt);
      f.clock.advance(state.retryAt - f.clock.now());
      f.ws.last().open();
      f.clock.advance(15_000); // no welcome: connect timeout
    }
    const failed = stateOf(f.client, 'failed');
    assert.ok(failed.error instanceof ConnectFailedError);
    assert.equal(failed.error.code, 'LIFELINE_ERR_CONNECT_FAILED');
    assert.ok(failed.error.cause instanceof TimeoutError);
    await assert.rejects(ready, ConnectFailedError);
    assert.equal(f.ws.sockets.length, 4);
    assert.equal(f.ws.live, 0);
    assert.equal(f.clock.pendingTimers, 0);
    assert.equal(f.network.listenerCount, 0);

    f.client.reconnect();
    assert.deepEqual(f.client.state, { kind: 'connecting', attempt: 0, transport: 'websocket' });
    f.ws.last().handshake();
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
  });

  it('with maxReconnectAttempts 0 fails at once instead of reconnecting', async () => {
    const f = setup({ maxReconnectAttempts: 0 });
    await open(f);
    f.ws.last().fail();
    assert.equal(f.client.state.kind, 'failed');
    assert.equal(f.ws.sockets.length, 1);
  });

  it('counts only consecutive failures: an open session resets the count', async () => {
    const f = setup({ maxReconnectAttempts: 2 });
    await open(f);
    for (let round = 0; round < 5; round++) {
      f.ws.last().fail();
      const state = stateOf(f.client, 'reconnecting');
      assert.equal(state.attempt, 1);
      f.clock.advance(state.retryAt - f.clock.now());
      f.ws.last().handshake();
    }
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
  });

  it('ends the wait at once on an online event, keeping the attempt number', async () => {
    const f = setup({
      minReconnectDelayMs: 20_000,
      maxReconnectDelayMs: 60_000,
      random: () => 0.99,
    });
    await open(f);
    f.ws.last().fail();
    f.clock.advance(100);
    const waiting = stateOf(f.client, 'reconnecting');
    assert.ok(waiting.retryAt - f.clock.now() > 10_000);
    assert.equal(f.network.listenerCount, 1);
    f.network.emit('online');
    assert.deepEqual(f.client.state, { kind: 'connecting', attempt: 1, transport: 'websocket' });
    assert.equal(f.ws.sockets.length, 2);
    f.network.emit('online'); // no longer waiting: nothing happens
    assert.equal(f.ws.sockets.length, 2);
    await f.client.close();
  });

  it('drops the connection on an offline event', async () => {
    const f = setup();
    await open(f);
    f.network.emit('offline');
    const state = stateOf(f.client, 'reconnecting');
    assert.equal(state.lastError.code, 'LIFELINE_ERR_CONNECT_FAILED');
    assert.equal(f.ws.live, 0);
    await f.client.close();
  });
});

describe('one socket at a time', () => {
  it('reconnect() closes the old socket before creating the new one', async () => {
    const f = setup();
    await open(f);
    const old = f.ws.last();
    f.client.reconnect();
    assert.equal(old.closeCalls.length, 1);
    assert.equal(f.ws.sockets.length, 2);
    assert.equal(f.ws.maxLive, 1);
    old.finishClose(1000); // a late close event of the old socket changes nothing
    assert.deepEqual(f.client.state, { kind: 'connecting', attempt: 0, transport: 'websocket' });
    await f.client.close();
  });

  it('a thousand forced reconnect cycles leave one socket and no grown listener count', async () => {
    const f = setup({ minReconnectDelayMs: 10, maxReconnectDelayMs: 100 });
    await open(f);
    await flushMicrotasks();
    const baseline = {
      sockets: f.ws.listenerCount,
      network: f.network.listenerCount,
      timers: f.clock.pendingTimers,
    };
    for (let i = 0; i < 1_000; i++) {
      if (i % 2 === 0) {
        f.client.reconnect();
      } else {
        f.ws.last().fail();
        const state = stateOf(f.client, 'reconnecting');
        f.clock.advance(state.retryAt - f.clock.now());
      }
      f.ws.last().handshake();
      f.ws.last().deliver({ type: 'pong' });
      await flushMicrotasks();
      assert.equal(f.ws.live, 1);
    }
    assert.equal(f.ws.sockets.length, 1_001);
    assert.equal(f.ws.maxLive, 1);
    assert.equal(f.ws.listenerCount, baseline.sockets);
    assert.equal(f.network.listenerCount, baseline.network);
    assert.equal(f.clock.pendingTimers, baseline.timers);
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
    await flushMicrotasks();
    assert.equal(f.ws.listenerCount, 0);
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('ignores frames and events from a replaced socket', async () => {
    const f = setup();
    await open(f);
    const old = f.ws.last();
    f.client.reconnect();
    // Handlers are detached; even a stray direct call would be stale.
    assert.equal(old.onmessage, null);
    f.ws.last().handshake({ session: 's-2' });
    assert.equal(stateOf(f.client, 'open').session.id, 's-2');
    assert.deepEqual(WELCOME.session, 's-1');
    await f.client.close();
  });
});
