import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCode, HeartbeatTimeoutError } from '../../src/entries/client.js';
import { open, setup, stateOf } from './support.js';

const INTERVAL = 25_000;
const PONG_TIMEOUT = 10_000;

describe('heartbeat', () => {
  it('detects a half-open connection (no frames, no close event) within interval + pong timeout', async () => {
    const f = setup({ pingIntervalMs: INTERVAL, pongTimeoutMs: PONG_TIMEOUT });
    await open(f);
    const socket = f.ws.last();
    socket.unresponsive = true; // the network is gone: nothing arrives, close() never completes
    const lastHeard = f.clock.now();
    let detectedAt: number | undefined;
    f.client.on('state', ({ to }) => {
      if (to.kind === 'reconnecting') detectedAt ??= f.clock.now();
    });

    f.clock.advance(INTERVAL - 1);
    assert.equal(socket.framesOf('ping').length, 0);
    f.clock.advance(1);
    assert.deepEqual(socket.framesOf('ping'), [{ type: 'ping', t: f.clock.now() }]);
    f.clock.advance(PONG_TIMEOUT);

    const state = stateOf(f.client, 'reconnecting');
    assert.ok(state.lastError instanceof HeartbeatTimeoutError);
    assert.equal(state.lastError.closeCode, CloseCode.HEARTBEAT_TIMEOUT);
    assert.ok(detectedAt !== undefined && detectedAt - lastHeard <= INTERVAL + PONG_TIMEOUT);
    assert.equal(socket.closeCalls[0]?.code, CloseCode.HEARTBEAT_TIMEOUT);
    assert.equal(socket.onmessage, null, 'detached without waiting for the close handshake');

    f.clock.advance(state.retryAt - f.clock.now());
    assert.equal(f.ws.sockets.length, 2);
    assert.equal(f.ws.live, 1);
    f.ws.last().handshake();
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
  });

  it('any inbound frame postpones the ping, without a timer per frame', async () => {
    const f = setup({ pingIntervalMs: INTERVAL, pongTimeoutMs: PONG_TIMEOUT, ackDelayMs: 0 });
    await open(f);
    const socket = f.ws.last();
    for (let i = 1; i <= 50; i++) {
      f.clock.advance(INTERVAL - 1_000);
      socket.deliver({ type: 'reply', id: `unknown-${i}`, ok: true });
      assert.ok(f.clock.pendingTimers <= 1, `${f.clock.pendingTimers} timers`);
    }
    assert.equal(socket.framesOf('ping').length, 0, 'a busy session sends no pings');
    f.clock.advance(INTERVAL);
    assert.equal(socket.framesOf('ping').length, 1);
    await f.client.close();
  });

  it('a pong clears the deadline and the next ping follows one interval later', async () => {
    const f = setup({ pingIntervalMs: INTERVAL, pongTimeoutMs: PONG_TIMEOUT });
    await open(f);
    const socket = f.ws.last();
    for (let round = 1; round <= 3; round++) {
      f.clock.advance(INTERVAL);
      assert.equal(socket.framesOf('ping').length, round);
      f.clock.advance(PONG_TIMEOUT - 1);
      socket.deliver({ type: 'pong', t: socket.framesOf('ping')[round - 1]?.t });
      f.clock.advance(0);
      assert.equal(f.client.state.kind, 'open');
    }
    await f.client.close();
  });

  it('pings at min(own interval, welcome.pingIntervalMs)', async () => {
    for (const [own, announced, expected] of [
      [60_000, 20_000, 20_000],
      [5_000, 25_000, 5_000],
    ] as const) {
      const f = setup({ pingIntervalMs: own });
      const ready = f.client.connect();
      f.ws.last().handshake({ pingIntervalMs: announced });
      await ready;
      f.clock.advance(expected - 1);
      assert.equal(f.ws.last().framesOf('ping').length, 0);
      f.clock.advance(1);
      assert.equal(f.ws.last().framesOf('ping').length, 1);
      await f.client.close();
    }
  });

  it('a late timer (throttled tab, sleeping laptop) reports an overdue deadline at once', async () => {
    const f = setup({ pingIntervalMs: INTERVAL, pongTimeoutMs: PONG_TIMEOUT });
    await open(f);
    f.clock.advance(INTERVAL); // ping sent, deadline set
    f.clock.jump(10 * 60_000); // timers did not run meanwhile
    f.clock.advance(0);
    assert.ok(stateOf(f.client, 'reconnecting').lastError instanceof HeartbeatTimeoutError);
    await f.client.close();
  });

  it('checkLiveness() pings now and expects an answer within the pong timeout', async () => {
    const f = setup({ pingIntervalMs: INTERVAL, pongTimeoutMs: PONG_TIMEOUT });
    await open(f);
    const socket = f.ws.last();
    f.clock.advance(1_000);
    f.client.checkLiveness();
    assert.equal(socket.framesOf('ping').length, 1);
    f.clock.advance(PONG_TIMEOUT);
    assert.ok(stateOf(f.client, 'reconnecting').lastError instanceof HeartbeatTimeoutError);

    f.client.checkLiveness(); // not open: nothing to probe
    await f.client.close();
  });

  it('checkLiveness() answered in time keeps the session', async () => {
    const f = setup({ pingIntervalMs: INTERVAL, pongTimeoutMs: PONG_TIMEOUT });
    await open(f);
    f.client.checkLiveness();
    f.clock.advance(500);
    f.ws.last().deliver({ type: 'pong' });
    f.clock.advance(PONG_TIMEOUT * 3);
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
  });

  it('a pong in the very millisecond of its ping counts, as does a frame just before it', async () => {
    const f = setup({ pingIntervalMs: INTERVAL, pongTimeoutMs: PONG_TIMEOUT });
    await open(f);
    const socket = f.ws.last();
    f.clock.advance(1_000);
    socket.deliver({ type: 'reply', id: 'unknown', ok: true }); // heard at t
    f.client.checkLiveness(); // ping at t
    socket.deliver({ type: 'pong' }); // answered at t
    f.clock.advance(PONG_TIMEOUT * 2);
    assert.equal(f.client.state.kind, 'open');
    // The next ping comes one interval after the pong, and is answered in time again.
    f.clock.advance(INTERVAL - PONG_TIMEOUT * 2 - 1);
    assert.equal(socket.framesOf('ping').length, 1);
    f.clock.advance(1);
    assert.equal(socket.framesOf('ping').length, 2);
    socket.deliver({ type: 'pong' });
    f.clock.advance(PONG_TIMEOUT);
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
  });
});
