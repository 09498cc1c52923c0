/**
 * The same delivery scenarios over every transport: one suite, parameterized by the
 * transport the client is limited to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthFailedError, CloseCode, type TransportKind } from '../../src/entries/node.js';
import { waitFor } from '../helpers/wait.js';
import { collect, openOn, startTransportsE2E } from '../polling/e2e-fixture.js';

const TRANSPORTS: readonly TransportKind[] = ['websocket', 'polling'];

for (const transport of TRANSPORTS) {
  describe(`delivery over ${transport}`, () => {
    const only = { transports: [transport] } as const;

    it('opens with state open on this transport; the gateway sees it too', async () => {
      await using e2e = await startTransportsE2E();
      const client = e2e.client('alice', only);
      await client.connect();
      const state = client.state;
      assert.ok(state.kind === 'open');
      assert.equal(state.transport, transport);
      assert.equal(state.session.user, 'alice');
      assert.equal(e2e.gateway.sessions({ user: 'alice' })[0]?.transport, transport);
    });

    it('a rejected token closes fatally (4100)', async () => {
      await using e2e = await startTransportsE2E();
      const client = e2e.client('mallory', { ...only, token: 'not-a-jwt' });
      await assert.rejects(client.connect(), AuthFailedError);
      const state = client.state;
      assert.ok(state.kind === 'closed' && state.reason.initiator === 'server');
      assert.equal(state.reason.code, CloseCode.AUTH_FAILED);
    });

    it('delivers every message once and in order', async () => {
      await using e2e = await startTransportsE2E();
      const client = e2e.client('alice', only);
      const seen = collect(client);
      await client.connect();
      for (let i = 1; i <= 50; i++) await e2e.publish('alice', { i });
      await waitFor(() => assert.equal(seen.length, 50));
      assert.deepEqual(
        seen.map((m) => m.offset),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    it('requests get replies, channels deliver after subscribing', async () => {
      await using e2e = await startTransportsE2E('allow', {
        onMessage: (_s, data) => ({ echo: data }),
      });
      const client = e2e.client('alice', only);
      const seen = collect(client);
      await client.connect();
      assert.deepEqual(await client.request('hi'), { echo: 'hi' });
      client.subscribe('news');
      await waitFor(() => assert.ok(e2e.gateway.sessions()[0]?.channels.has('news')));
      await e2e.gateway.publish({ to: { channel: 'news' }, data: 'n1' });
      await waitFor(() =>
        assert.deepEqual(
          seen.map((m) => [m.stream, m.data]),
          [['channel:news', 'n1']],
        ),
      );
    });

    it('after the connection is cut, it resumes: nothing lost, nothing twice', async () => {
      await using e2e = await startTransportsE2E();
      const client = e2e.client('alice', only);
      const seen = collect(client);
      await client.connect();
      await e2e.publish('alice', 1);
      await waitFor(() => assert.equal(seen.length, 1));
      e2e.proxy.cut();
      await e2e.publish('alice', 2);
      await e2e.publish('alice', 3);
      await openOn(client, transport);
      await e2e.publish('alice', 4);
      await waitFor(() =>
        assert.deepEqual(
          seen.map((m) => m.data),
          [1, 2, 3, 4],
        ),
      );
    });

    it('a kicked session closes fatally (4104)', async () => {
      await using e2e = await startTransportsE2E();
      const client = e2e.client('alice', only);
      await client.connect();
      e2e.gateway.disconnect({ user: 'alice' });
      await waitFor(() => {
        const s = client.state;
        assert.ok(s.kind === 'closed' && s.reason.initiator === 'server');
        assert.equal(s.reason.code, CloseCode.KICKED);
      });
    });

    it('close() ends the session on the gateway at once', async () => {
      await using e2e = await startTransportsE2E();
      const client = e2e.client('alice', only);
      await client.connect();
      await client.close();
      await waitFor(() => assert.equal(e2e.gateway.sessions().length, 0));
      assert.equal(client.state.kind, 'closed');
    });

    it('heartbeats keep a quiet session open past the idle timeout', async () => {
      await using e2e = await startTransportsE2E('allow', {
        pingIntervalMs: 100,
        idleTimeoutMs: 400,
        polling: { holdMs: 150 },
      });
      const client = e2e.client('alice', only);
      const seen = collect(client);
      await client.connect();
      const session = client.state.kind === 'open' ? client.state.session.id : '';
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.ok(client.state.kind === 'open' && client.state.session.id === session);
      await e2e.publish('alice', 'still here');
      await waitFor(() => assert.equal(seen.length, 1));
    });
  });
}
