/**
 * The connection engine end to end: real Lifeline clients, a real gateway, real sockets,
 * and a TCP proxy in between for the faults a network produces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthFailedError,
  CloseCode,
  ConnectFailedError,
  HeartbeatTimeoutError,
  type ConnectionState,
  type LifelineClient,
  type PushMessage,
} from '../../src/entries/node.js';
import { waitFor } from '../helpers/wait.js';
import { CountingWebSocket, reach, startE2E } from './fixture.js';

function collect(client: LifelineClient): PushMessage[] {
  const seen: PushMessage[] = [];
  client.on('message', (m) => seen.push(m));
  return seen;
}

function states(client: LifelineClient): ConnectionState[] {
  const seen: ConnectionState[] = [];
  client.on('state', ({ to }) => seen.push(to));
  return seen;
}

describe('connect and authenticate', () => {
  it('opens with a valid token: open means the gateway sent welcome', async () => {
    await using e2e = await startE2E();
    const client = e2e.client('alice');
    await client.connect();
    const state = client.state;
    assert.equal(state.kind, 'open');
    assert.ok(state.kind === 'open');
    assert.equal(state.session.user, 'alice');
    assert.equal(state.transport, 'websocket');
    assert.equal(e2e.gateway().sessions({ user: 'alice' }).length, 1);
  });

  it('a rejected token closes fatally and never retries', async () => {
    await using e2e = await startE2E();
    const client = e2e.client('mallory', { token: 'not-a-jwt' });
    await assert.rejects(client.connect(), AuthFailedError);
    const state = client.state;
    assert.ok(state.kind === 'closed' && state.reason.initiator === 'server');
    assert.equal(state.reason.code, CloseCode.AUTH_FAILED);
    const accepted = e2e.proxy.accepted;
    // Several reconnect windows (max 200 ms) pass; no new connection may appear.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(e2e.proxy.accepted, accepted);
    assert.equal(client.state.kind, 'closed');
  });
});

describe('publish', () => {
  it('reaches every session of the user and nobody else', async () => {
    await using e2e = await startE2E();
    const alice = [e2e.client('alice'), e2e.client('alice'), e2e.client('alice')];
    const bob = e2e.client('bob');
    await Promise.all([...alice, bob].map((c) => c.connect()));
    const inboxes = alice.map(collect);
    const bobInbox = collect(bob);

    const result = await e2e.gateway().publish({ to: { user: 'alice' }, data: { n: 1 } });
    assert.equal(result.delivered, 3);
    await waitFor(() => inboxes.forEach((inbox) => assert.equal(inbox.length, 1)));
    for (const inbox of inboxes) {
      assert.deepEqual(inbox[0]?.data, { n: 1 });
      assert.equal(inbox[0]?.stream, 'user:alice');
      assert.equal(inbox[0]?.offset, result.positions[0]?.offset);
    }
    assert.equal(bobInbox.length, 0);
  });
});

describe('reconnect', () => {
  it('clients come back by themselves after the gateway restarts', async () => {
    await using e2e = await startE2E();
    const clients = [e2e.client('alice'), e2e.client('bob'), e2e.client('carol')];
    await Promise.all(clients.map((c) => c.connect()));
    const inbox = collect(clients[0]!);

    await e2e.stop(); // graceful: every session gets 4007 (retry)
    await waitFor(() => clients.forEach((c) => assert.notEqual(c.state.kind, 'open')));
    await e2e.start();
    await waitFor(() => clients.forEach((c) => assert.equal(c.state.kind, 'open')));

    await e2e.gateway().publish({ to: { user: 'alice' }, data: 'after restart' });
    await waitFor(() =>
      assert.deepEqual(
        inbox.map((m) => m.data),
        ['after restart'],
      ),
    );

    await e2e.kill(); // a crash: TCP reset, no close frames
    await e2e.start();
    await waitFor(() => clients.forEach((c) => assert.equal(c.state.kind, 'open')));
  });

  it('detects a half-open connection within pingInterval + pongTimeout and reconnects', async () => {
    await using e2e = await startE2E();
    const pingIntervalMs = 300;
    const pongTimeoutMs = 300;
    const client = e2e.client('alice', { pingIntervalMs, pongTimeoutMs });
    await client.connect();
    const seen = states(client);

    const frozenAt = Date.now();
    e2e.proxy.freeze(); // TCP stays up, no byte passes, no close event anywhere
    await waitFor(() => assert.ok(seen.some((s) => s.kind === 'reconnecting')), {
      timeoutMs: 5_000,
    });
    const detectedAfter = Date.now() - frozenAt;
    const reconnecting = seen.find((s) => s.kind === 'reconnecting');
    assert.ok(reconnecting?.kind === 'reconnecting');
    assert.ok(reconnecting.lastError instanceof HeartbeatTimeoutError);
    const slackMs = 250;
    assert.ok(
      detectedAfter <= pingIntervalMs + pongTimeoutMs + slackMs,
      `detected after ${detectedAfter} ms`,
    );
    await reach(client, 'open');
  });

  it('spreads the reconnects of many clients (full jitter, no lock-step herd)', async () => {
    await using e2e = await startE2E();
    const minReconnectDelayMs = 500;
    const clients = Array.from({ length: 40 }, (_, i) =>
      e2e.client(`user${i}`, { minReconnectDelayMs, maxReconnectDelayMs: 10_000 }),
    );
    await Promise.all(clients.map((c) => c.connect()));
    const delays: number[] = [];
    for (const c of clients) {
      c.on('state', ({ to }) => {
        if (to.kind === 'reconnecting' && to.attempt === 1) delays.push(to.retryAt - Date.now());
      });
    }
    e2e.proxy.cut();
    await waitFor(() => assert.equal(delays.length, clients.length));
    const sorted = [...delays].sort((a, b) => a - b);
    assert.ok(
      sorted.every((d) => d <= minReconnectDelayMs + 20),
      `delays ${sorted.join(',')}`,
    );
    // Uniform in [0, 500): the spread covers most of the window and no 25 ms slot holds a
    // crowd (for 40 uniform draws, 12 in one slot has a probability far below 1e-6).
    assert.ok(sorted.at(-1)! - sorted[0]! > minReconnectDelayMs / 2, `delays ${sorted.join(',')}`);
    const slots = new Map<number, number>();
    for (const d of sorted) slots.set(Math.floor(d / 25), (slots.get(Math.floor(d / 25)) ?? 0) + 1);
    assert.ok(Math.max(...slots.values()) < 12, `delays ${sorted.join(',')}`);
    await waitFor(() => clients.forEach((c) => assert.equal(c.state.kind, 'open')));
  });

  it('stops after maxReconnectAttempts, then reconnect() starts over', async () => {
    await using e2e = await startE2E();
    const client = e2e.client('alice', { maxReconnectAttempts: 3, maxReconnectDelayMs: 30 });
    await client.connect();
    const seen = states(client);
    e2e.proxy.refuse(true);
    e2e.proxy.cut();
    await reach(client, 'failed');
    const failed = client.state;
    assert.ok(failed.kind === 'failed');
    assert.ok(failed.error instanceof ConnectFailedError);
    assert.deepEqual(
      seen
        .filter((s) => s.kind === 'reconnecting')
        .map((s) => s.kind === 'reconnecting' && s.attempt),
      [1, 2, 3],
    );
    e2e.proxy.refuse(false);
    client.reconnect();
    await reach(client, 'open');
  });
});

describe('close and leaks', () => {
  it('close() ends the session, never reconnects and leaves no socket behind', async () => {
    await using e2e = await startE2E();
    const client = e2e.client('alice');
    await client.connect();
    const seen = states(client);
    await client.close();
    await client.close(); // idempotent
    assert.deepEqual(
      seen.map((s) => s.kind),
      ['closed'],
    );
    await waitFor(() => assert.equal(e2e.gateway().sessions({ user: 'alice' }).length, 0));
    await waitFor(() => assert.equal(CountingWebSocket.live.size, 0));
    const accepted = e2e.proxy.accepted;
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(e2e.proxy.accepted, accepted, 'no reconnect after close()');
  });

  it('a thousand forced reconnect cycles leave one socket and no grown listener count', async () => {
    await using e2e = await startE2E();
    const listeners = new Map<string, number>();
    const network = {
      addEventListener: (type: string) => listeners.set(type, (listeners.get(type) ?? 0) + 1),
      removeEventListener: (type: string) => listeners.set(type, (listeners.get(type) ?? 0) - 1),
    };
    const client = e2e.client('alice', {
      network,
      minReconnectDelayMs: 1,
      maxReconnectDelayMs: 2,
    });
    await client.connect();
    const listenerCount = (ws: CountingWebSocket) =>
      ws.eventNames().reduce((n, name) => n + ws.listenerCount(name), 0);
    const first = [...CountingWebSocket.live][0]!;
    // Listener counts per event type, leaving out types with none attached.
    const attached = () => new Map([...listeners].filter(([, n]) => n !== 0));
    const baseline = { socket: listenerCount(first), network: attached() };

    const cycles = 1000;
    for (let i = 0; i < cycles; i++) {
      const sessionBefore = client.state.kind === 'open' ? client.state.session.id : '';
      e2e.proxy.cut();
      await waitFor(
        () => {
          const s = client.state;
          assert.ok(s.kind === 'open' && s.session.id !== sessionBefore);
        },
        { timeoutMs: 5_000, intervalMs: 1 },
      );
    }
    await waitFor(() => assert.equal(CountingWebSocket.live.size, 1));
    const current = [...CountingWebSocket.live][0]!;
    assert.equal(listenerCount(current), baseline.socket);
    assert.deepEqual(attached(), baseline.network);
    await waitFor(() => assert.equal(e2e.gateway().sessions({ user: 'alice' }).length, 1));
    await client.close();
    await waitFor(() => assert.equal(CountingWebSocket.live.size, 0));
    assert.equal(attached().size, 0, 'network listeners removed');
  });
});
