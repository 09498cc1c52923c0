/**
 * The fallback policy end to end: a proxy that refuses WebSocket upgrades, or accepts them
 * and then swallows every frame, sends the client to polling; once WebSocket gets through
 * again the client switches back mid-session. Every message arrives exactly once, in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PushMessage } from '../../src/entries/node.js';
import { waitFor } from '../helpers/wait.js';
import { collect, openOn, startTransportsE2E, states } from '../polling/e2e-fixture.js';

/** Publish to `user` every few ms until stopped; resolves with how many were published. */
function publishing(publish: (data: unknown) => Promise<void>): { stop(): Promise<number> } {
  let n = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await publish(++n);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return n;
  })();
  return {
    stop() {
      running = false;
      return loop;
    },
  };
}

function assertExactlyOnceInOrder(seen: readonly PushMessage[], count: number): void {
  assert.deepEqual(
    seen.map((m) => m.data),
    Array.from({ length: count }, (_, i) => i + 1),
  );
}

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

for (const mode of ['refuse', 'drop'] as const) {
  describe(`a proxy that ${mode === 'refuse' ? 'refuses' : 'swallows'} WebSocket`, () => {
    it('lands on polling, receives everything, then switches back to WebSocket', async () => {
      await using e2e = await startTransportsE2E(mode);
      const client = e2e.client('alice', {
        fallbackAfterMs: 300,
        probeIntervalMs: 100,
        maxProbeIntervalMs: 200,
      });
      const seen = collect(client);
      const history = states(client);
      await client.connect();
      await openOn(client, 'polling');
      const traffic = publishing((data) => e2e.publish('alice', data));
      await waitFor(() => assert.ok(seen.length >= 10));
      e2e.proxy.mode('allow');
      await openOn(client, 'websocket', 10_000);
      const before = seen.length;
      await waitFor(() => assert.ok(seen.length >= before + 10));
      const published = await traffic.stop();
      await waitFor(() => assert.equal(seen.length, published));
      assertExactlyOnceInOrder(seen, published);
      // One session handed over to the other: polling open, then WebSocket open, no gap.
      const opens = history
        .filter((s) => s.kind === 'open')
        .map((s) => s.kind === 'open' && s.transport);
      assert.deepEqual(opens, ['polling', 'websocket']);
      await waitFor(() => {
        const sessions = e2e.gateway.sessions({ user: 'alice' });
        assert.deepEqual(
          sessions.map((s) => s.transport),
          ['websocket'],
        );
      });
    });
  });
}

describe('fallback policy', () => {
  it("'immediate' opens on polling first: the first message waits for no WebSocket timeout", async () => {
    // WebSocket is swallowed and its timeout is a minute: only polling can deliver.
    await using e2e = await startTransportsE2E('drop');
    const client = e2e.client('alice', {
      fallback: 'immediate',
      fallbackAfterMs: 60_000,
      connectTimeoutMs: 60_000,
    });
    const seen = collect(client);
    const history = states(client);
    await client.connect();
    await e2e.publish('alice', 1);
    await waitFor(() => assert.equal(seen.length, 1));
    assert.deepEqual(
      history.map((s) => [s.kind, 'transport' in s ? s.transport : undefined]),
      [
        ['connecting', 'polling'],
        ['open', 'polling'],
      ],
    );
    // The background probe is still waiting on the swallowed socket (its upgrade may reach
    // the proxy after the first polled message: polling does not wait for it).
    await waitFor(() => assert.ok(e2e.proxy.upgrades >= 1));
  });

  it("'immediate' switches to WebSocket once a probe is open", async () => {
    await using e2e = await startTransportsE2E('allow');
    const client = e2e.client('alice', { fallback: 'immediate' });
    const seen = collect(client);
    await client.connect();
    assert.ok(client.state.kind === 'open' && client.state.transport === 'polling');
    await openOn(client, 'websocket');
    await e2e.publish('alice', 1);
    await waitFor(() => assertExactlyOnceInOrder(seen, 1));
  });

  it('a client with a device id switches back without being replaced (4102)', async () => {
    // The probe's session has the same device as the polling one: the gateway's
    // newest-wins policy closes the polling session with 4102 as the probe is welcomed.
    await using e2e = await startTransportsE2E('allow');
    const client = e2e.client('alice', { fallback: 'immediate', device: 'phone-1' });
    const seen = collect(client);
    const history = states(client);
    await client.connect();
    const traffic = publishing((data) => e2e.publish('alice', data));
    await openOn(client, 'websocket');
    const before = seen.length;
    await waitFor(() => assert.ok(seen.length >= before + 5));
    const published = await traffic.stop();
    await waitFor(() => assert.equal(seen.length, published));
    assertExactlyOnceInOrder(seen, published);
    assert.deepEqual(
      history.map((s) => [s.kind, 'transport' in s ? s.transport : undefined]),
      [
        ['connecting', 'polling'],
        ['open', 'polling'],
        ['open', 'websocket'],
      ],
    );
    await waitFor(() =>
      assert.deepEqual(
        e2e.gateway.sessions({ user: 'alice' }).map((s) => [s.transport, s.device]),
        [['websocket', 'phone-1']],
      ),
    );
  });

  it("'never' stays on WebSocket", async () => {
    await using e2e = await startTransportsE2E('refuse');
    const client = e2e.client('alice', { fallback: 'never', fallbackAfterMs: 100 });
    const history = states(client);
    void client.connect().catch(() => {});
    await waitFor(() => assert.ok(e2e.proxy.upgrades >= 5));
    assert.ok(history.every((s) => !('transport' in s) || s.transport === 'websocket'));
  });

  it('remembers per URL that WebSocket fails, so the next load starts on polling', async () => {
    await using e2e = await startTransportsE2E('refuse');
    const storage = new MemoryStorage();
    const first = e2e.client('alice', { storage, probeIntervalMs: 60_000 });
    await first.connect();
    await openOn(first, 'polling');
    await first.close();
    const key = `lifeline:transport:${e2e.url}`;
    assert.ok(storage.items.get(key));
    const upgrades = e2e.proxy.upgrades;
    const second = e2e.client('alice', { storage, probeIntervalMs: 60_000 });
    const history = states(second);
    await second.connect();
    assert.ok(second.state.kind === 'open' && second.state.transport === 'polling');
    assert.deepEqual(
      history.map((s) => [s.kind, 'transport' in s ? s.transport : undefined]),
      [
        ['connecting', 'polling'],
        ['open', 'polling'],
      ],
    );
    assert.equal(e2e.proxy.upgrades, upgrades, 'no WebSocket attempt before polling');
  });

  it('a remembered failure expires after transportMemoryMs', async () => {
    await using e2e = await startTransportsE2E('allow');
    const storage = new MemoryStorage();
    storage.setItem(
      `lifeline:transport:${e2e.url}`,
      JSON.stringify({ v: 1, failedAt: Date.now() - 10_000 }),
    );
    const client = e2e.client('alice', { storage, transportMemoryMs: 5_000 });
    const history = states(client);
    await client.connect();
    assert.deepEqual(history[0], { kind: 'connecting', attempt: 0, transport: 'websocket' });
  });
});
