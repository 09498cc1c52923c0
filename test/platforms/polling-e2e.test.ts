/**
 * The mini-program clients fall back to HTTP long-polling over `wx.request` /
 * `uni.request` and come back to WebSocket: fake `wx` / `uni` objects whose SocketTasks
 * are real `ws` connections and whose requests are real HTTP, to a real gateway behind a
 * proxy that refuses WebSocket upgrades.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LifelineClient } from '../../src/entries/client.js';
import { platforms } from './platforms.js';
import type { MiniProgramClientOptions } from '../../src/platforms/mini-program.js';
import { signHs256 } from '../helpers/jwt.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET, collect, openOn, startTransportsE2E, states } from '../polling/e2e-fixture.js';
import { FakeMiniProgram } from './fake-socket-task.js';

/** Short waits: the proxy answers at once, so only the policy's own delays count. */
const FAST: Partial<MiniProgramClientOptions> = {
  minReconnectDelayMs: 20,
  maxReconnectDelayMs: 200,
  probeIntervalMs: 100,
  maxProbeIntervalMs: 200,
};

for (const platform of platforms) {
  describe(`${platform.name}: polling over ${platform.kind}.request`, () => {
    it('falls back when WebSocket is refused, loses nothing, and comes back to WebSocket', async () => {
      await using e2e = await startTransportsE2E('refuse');
      const fake = new FakeMiniProgram({ kind: platform.kind, backend: 'ws', http: true });
      const client: LifelineClient = platform.create(fake.api(), {
        url: e2e.url,
        token: () => signHs256(SECRET, { sub: 'alice' }),
        header: { 'X-App': 'shop' },
        ...FAST,
      });
      const seen = collect(client);
      const history = states(client);
      try {
        await client.connect();
        await openOn(client, 'polling');
        // WebSocket was tried (and refused) before; the requests carry the app's header.
        assert.ok(e2e.proxy.upgrades >= 1);
        const http = fake.http;
        assert.ok(http !== undefined);
        assert.ok(http.calls.length > 0);
        assert.ok(http.calls.every((c) => c.header['X-App'] === 'shop' && c.dataType === 'text'));

        client.subscribe('news');
        await waitFor(() =>
          assert.ok(e2e.gateway.sessions({ user: 'alice' })[0]?.channels.has('news'), 'subscribed'),
        );
        for (let i = 1; i <= 5; i++) await e2e.publish('alice', i);
        await e2e.gateway.publish({ to: { channel: 'news' }, data: 'news 1' });
        await waitFor(() => assert.equal(seen.length, 6));

        // The app goes to the background and the runtime ends its requests: the client
        // opens a new polling session and resumes.
        http.interruptAll();
        await e2e.publish('alice', 6);
        await waitFor(() => assert.equal(seen.length, 7));

        // WebSocket gets through again: the client switches over mid-session.
        e2e.proxy.mode('allow');
        await openOn(client, 'websocket', 10_000);
        for (let i = 7; i <= 9; i++) await e2e.publish('alice', i);
        await e2e.gateway.publish({ to: { channel: 'news' }, data: 'news 2' });
        await waitFor(() => assert.equal(seen.length, 11));
        assert.deepEqual(
          seen.filter((m) => m.stream === 'user:alice').map((m) => m.data),
          [1, 2, 3, 4, 5, 6, 7, 8, 9],
        );
        assert.deepEqual(
          seen.filter((m) => m.stream === 'channel:news').map((m) => m.data),
          ['news 1', 'news 2'],
        );
        assert.deepEqual(
          history.flatMap((s) => (s.kind === 'open' ? [s.transport] : [])),
          ['polling', 'polling', 'websocket'],
        );

        // The polling session was ended with a DELETE, and its held GET aborted.
        await waitFor(() => assert.equal(http.inFlight, 0));
        assert.ok(http.calls.some((c) => c.method === 'DELETE'));
        assert.ok(http.calls.some((c) => c.outcome === 'request:fail abort'));
        // One GET and one POST at a time, plus the DELETE of a session being left.
        assert.ok(http.peak <= 3, `${http.peak} requests in flight at once`);
        await waitFor(() =>
          assert.deepEqual(
            e2e.gateway.sessions({ user: 'alice' }).map((s) => s.transport),
            ['websocket'],
          ),
        );
      } finally {
        await client.close();
      }
      await fake.settle();
      assert.equal(fake.http?.inFlight, 0);
    });

    it("'immediate' delivers the first message over polling, without a WebSocket timeout", async () => {
      // Upgrades are swallowed and the WebSocket timeouts are a minute: only polling delivers.
      await using e2e = await startTransportsE2E('drop');
      const fake = new FakeMiniProgram({ kind: platform.kind, backend: 'ws', http: true });
      const client = platform.create(fake.api(), {
        url: e2e.url,
        token: () => signHs256(SECRET, { sub: 'bob' }),
        fallback: 'immediate',
        fallbackAfterMs: 60_000,
        connectTimeoutMs: 60_000,
      });
      const seen = collect(client);
      try {
        await client.connect();
        assert.ok(client.state.kind === 'open' && client.state.transport === 'polling');
        await e2e.publish('bob', 'payment confirmed');
        await waitFor(() =>
          assert.deepEqual(
            seen.map((m) => m.data),
            ['payment confirmed'],
          ),
        );
      } finally {
        await client.close();
      }
      await waitFor(() => assert.equal(fake.http?.inFlight, 0));
    });

    it('stays on WebSocket only when the runtime has no request, or transports says so', async () => {
      await using e2e = await startTransportsE2E('refuse');
      const fake = new FakeMiniProgram({ kind: platform.kind, backend: 'ws', http: true });
      for (const [api, options] of [
        [fake.api({ without: ['request'] }), {}],
        [fake.api(), { transports: ['websocket'] as const }],
      ] as const) {
        const client = platform.create(api, {
          url: e2e.url,
          token: () => signHs256(SECRET, { sub: 'carol' }),
          ...FAST,
          maxReconnectAttempts: 4,
          ...options,
        });
        const history = states(client);
        await assert.rejects(client.connect());
        assert.equal(client.state.kind, 'failed');
        assert.ok(history.every((s) => !('transport' in s) || s.transport === 'websocket'));
        await client.close();
      }
      assert.equal(fake.http?.calls.length, 0);
    });
  });
}
