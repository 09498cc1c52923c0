import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClientClosedError,
  CloseCode,
  InvalidOptionError,
  ProtocolError,
  TimeoutError,
  UnsupportedError,
  createClient,
  DEFAULT_CONNECT_TIMEOUT_MS,
} from '../../src/entries/client.js';
import { SUBPROTOCOL } from '../../src/protocol/index.js';
import { WELCOME } from '../helpers/fake-websocket.js';
import { URL, begin, flushMicrotasks, open, setup, stateOf } from './support.js';

describe('client handshake', () => {
  it('is open only after welcome, not when the socket opens', async () => {
    const f = setup({ token: 't0k', device: 'laptop' });
    const ready = f.client.connect();
    assert.deepEqual(f.client.state, { kind: 'connecting', attempt: 0, transport: 'websocket' });
    const socket = f.ws.last();
    assert.equal(socket.url, URL);
    assert.equal(socket.protocols, SUBPROTOCOL);

    socket.open();
    assert.equal(f.client.state.kind, 'connecting');
    const [hello, ...rest] = socket.frames;
    assert.deepEqual(hello, {
      type: 'hello',
      client: 'lifeline-js',
      token: 't0k',
      device: 'laptop',
    });
    assert.equal(rest.length, 0);

    socket.deliver(WELCOME);
    await ready;
    const state = stateOf(f.client, 'open');
    assert.deepEqual(state.session, {
      id: WELCOME.session,
      user: WELCOME.user,
      serverTime: WELCOME.serverTime,
      pingIntervalMs: WELCOME.pingIntervalMs,
      idleTimeoutMs: WELCOME.idleTimeoutMs,
      maxFrameBytes: WELCOME.maxFrameBytes,
    });
    assert.deepEqual(f.kinds(), ['connecting', 'open']);
    await f.client.close();
  });

  it('returns the same promise while connecting and resolves at once when open', async () => {
    const f = setup();
    const a = f.client.connect();
    const b = f.client.connect();
    assert.equal(a, b);
    assert.equal(f.ws.sockets.length, 1);
    f.ws.last().handshake();
    await a;
    await f.client.connect();
    assert.equal(f.ws.sockets.length, 1);
    await f.client.close();
  });

  it('connect() while reconnecting waits for the next open', async () => {
    const f = setup();
    await open(f);
    f.ws.last().fail();
    const ready = f.client.connect();
    assert.equal(f.client.connect(), ready);
    assert.equal(f.ws.sockets.length, 1, 'does not cut the wait');
    f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    f.ws.last().handshake();
    await ready;
    await f.client.close();
  });

  it('fails the attempt when welcome does not come within connectTimeoutMs', async () => {
    const f = setup({ connectTimeoutMs: 5_000 });
    begin(f);
    const socket = f.ws.last();
    socket.open();
    f.clock.advance(4_999);
    assert.equal(f.client.state.kind, 'connecting');
    f.clock.advance(1);
    const state = stateOf(f.client, 'reconnecting');
    assert.ok(state.lastError instanceof TimeoutError);
    assert.equal(state.attempt, 1);
    assert.equal(socket.closeCalls[0]?.code, CloseCode.HANDSHAKE_TIMEOUT);
    assert.equal(f.ws.live, 0);
    await f.client.close();
  });

  it('counts the connect timeout from the start of the attempt by default', async () => {
    const f = setup();
    begin(f);
    f.clock.advance(DEFAULT_CONNECT_TIMEOUT_MS);
    assert.equal(f.client.state.kind, 'reconnecting');
    await f.client.close();
  });

  it('closes with 4000 and stays closed on a malformed server frame', async () => {
    const f = setup();
    await open(f);
    const socket = f.ws.last();
    socket.deliver('{"type":"push","id":"m1"}');
    const state = stateOf(f.client, 'closed');
    assert.equal(state.reason.initiator, 'server');
    assert.ok(state.reason.initiator === 'server' && state.reason.error instanceof ProtocolError);
    assert.equal(
      state.reason.initiator === 'server' && state.reason.code,
      CloseCode.PROTOCOL_ERROR,
    );
    assert.equal(socket.closeCalls[0]?.code, CloseCode.PROTOCOL_ERROR);
    f.clock.advance(120_000);
    assert.equal(f.ws.sockets.length, 1, 'no reconnect after a protocol error');
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('treats invalid JSON, unknown frames, binary frames and early frames as protocol errors', async () => {
    const cases: ((s: ReturnType<ReturnType<typeof setup>['ws']['last']>) => void)[] = [
      (s) => s.deliver('not json'),
      (s) => s.deliver({ type: 'surprise' }),
      (s) => s.deliverBinary(),
      (s) => s.deliver({ type: 'pong' }), // before welcome
      (s) => s.deliver({ ...WELCOME, protocol: 2 }),
    ];
    for (const deliver of cases) {
      const f = setup();
      const ready = f.client.connect();
      const socket = f.ws.last();
      socket.open();
      deliver(socket);
      await assert.rejects(ready, ProtocolError);
      assert.equal(f.client.state.kind, 'closed');
      assert.equal(socket.closeCalls[0]?.code, CloseCode.PROTOCOL_ERROR);
    }
  });

  it('treats a second welcome as a protocol error', async () => {
    const f = setup();
    await open(f);
    f.ws.last().deliver(WELCOME);
    const state = stateOf(f.client, 'closed');
    assert.ok(state.reason.initiator === 'server' && state.reason.error instanceof ProtocolError);
  });

  it('rejects connect() when closed before welcome', async () => {
    const f = setup();
    const ready = f.client.connect();
    f.ws.last().open();
    await f.client.close();
    await assert.rejects(ready, ClientClosedError);
  });

  it('sends hello.resume with the delivered positions after a reconnect', async () => {
    const f = setup();
    await open(f);
    const s1 = f.ws.last();
    s1.deliver({
      type: 'push',
      id: 'a',
      stream: 'user:u-1',
      epoch: 'e',
      offset: 4,
      data: 1,
      publishedAt: 1,
    });
    s1.deliver({
      type: 'push',
      id: 'b',
      stream: 'channel:news',
      epoch: 'x',
      offset: 9,
      data: 2,
      publishedAt: 1,
    });
    s1.finishClose(CloseCode.SHUTTING_DOWN);
    f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    const s2 = f.ws.last();
    assert.notEqual(s1, s2);
    s2.open();
    assert.deepEqual(s2.framesOf('hello')[0]?.resume, [
      { stream: 'user:u-1', epoch: 'e', offset: 4 },
      { stream: 'channel:news', epoch: 'x', offset: 9 },
    ]);
    await f.client.close();
  });
});

describe('client options', () => {
  it('throws UnsupportedError with a fix when there is no WebSocket', () => {
    assert.throws(
      () => createClient({ url: URL }),
      (error: unknown) =>
        error instanceof UnsupportedError &&
        error.code === 'LIFELINE_ERR_UNSUPPORTED' &&
        /"ws"/.test(error.message) &&
        /lifeline\/node/.test(error.message),
    );
  });

  it('rejects invalid values with InvalidOptionError', () => {
    const { WebSocket } = setup().ws;
    const bad: Record<string, unknown>[] = [
      { url: 'http://gateway.test' },
      { url: 42 },
      { pingIntervalMs: 0 },
      { pongTimeoutMs: -1 },
      { connectTimeoutMs: Number.NaN },
      { minReconnectDelayMs: Infinity },
      { minReconnectDelayMs: 5_000, maxReconnectDelayMs: 1_000 },
      { maxReconnectAttempts: 1.5 },
      { maxPendingRequests: 10 }, // replaced by outbox.maxMessages
      { outbox: 5 },
      { outbox: { maxMessages: 0 } },
      { outbox: { maxBytes: -1 } },
      { batch: {} },
      { batch: { maxWaitMs: 10, maxSize: 0 } },
      { batch: { maxWaitMs: -1, maxSize: 5 } },
      { ackDelayMs: '50' },
      { token: 7 },
      { token: 'x'.repeat(9_000) },
      { device: '' },
      { random: 0.5 },
      { network: {} },
    ];
    for (const options of bad) {
      assert.throws(
        () => createClient({ url: URL, WebSocket, ...options } as never),
        InvalidOptionError,
        JSON.stringify(options),
      );
    }
  });

  it('accepts Infinity reconnect attempts and zero delays', async () => {
    const { WebSocket } = setup().ws;
    const client = createClient({
      url: 'ws://localhost:1/x',
      WebSocket,
      maxReconnectAttempts: Infinity,
      minReconnectDelayMs: 0,
      maxReconnectDelayMs: 0,
      ackDelayMs: 0,
    });
    assert.equal(client.state.kind, 'idle');
    await flushMicrotasks();
  });
});
