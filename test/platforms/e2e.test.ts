/**
 * The mini-program adapters end to end: fake `wx` / `uni` objects whose SocketTasks are
 * real `ws` connections to a real gateway.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LifelineClient, PushMessage } from '../../src/entries/client.js';
import { startGateway, testAuthenticate, waitFor } from '../server/fixtures.js';
import { FakeMiniProgram } from './fake-socket-task.js';
import { platforms } from './platforms.js';

const PONG_TIMEOUT_MS = 300;

for (const platform of platforms) {
  describe(`${platform.name} over real sockets and a real gateway`, () => {
    it('connects, receives, survives show/hide, recovers from a silent kill and from offline', async () => {
      const headers: unknown[] = [];
      await using fixture = await startGateway({
        authenticate: (request) => {
          headers.push(request.connection.headers['x-app']);
          return testAuthenticate(request);
        },
      });
      const { gateway } = fixture;
      const fake = new FakeMiniProgram({ kind: platform.kind, backend: 'ws' });
      const client: LifelineClient = platform.create(fake.api(), {
        url: fixture.url,
        token: 'u:alice',
        header: { 'X-App': 'shop' },
        pongTimeoutMs: PONG_TIMEOUT_MS,
        minReconnectDelayMs: 50,
        maxReconnectDelayMs: 100,
      });
      const inbox: PushMessage[] = [];
      client.on('message', (m) => inbox.push(m));
      const data = (): unknown[] => inbox.map((m) => m.data);
      const losses: string[] = [];
      client.on('state', ({ to }) => {
        if (to.kind === 'reconnecting') losses.push(to.lastError.name);
      });
      try {
        // connect and receive
        await client.connect();
        assert.deepEqual(headers, ['shop']);
        assert.deepEqual(fake.tasks[0]?.options.protocols, ['lifeline.v1']);
        client.subscribe('news');
        await waitFor(() => assert.ok(gateway.sessions()[0]?.channels.has('news')));
        await gateway.publish({ to: { user: 'alice' }, data: 'inbox 1' });
        await gateway.publish({ to: { channel: 'news' }, data: 'news 1' });
        await waitFor(() => assert.deepEqual(data(), ['inbox 1', 'news 1']));

        // hide does nothing; show sends a ping that the gateway answers
        const first = client.state.kind === 'open' ? client.state.session.id : '';
        fake.hide();
        fake.show();
        await waitFor(() => assert.equal(fake.tasks[0]?.framesOf('ping').length, 1));
        await new Promise((resolve) => setTimeout(resolve, PONG_TIMEOUT_MS * 2));
        assert.equal(client.state.kind === 'open' && client.state.session.id, first);

        // killed silently in the background: the probe on show finds out, and nothing is lost
        fake.hide();
        fake.tasks[0]?.freeze();
        await waitFor(() => assert.equal(gateway.sessions().length, 0));
        await gateway.publish({ to: { user: 'alice' }, data: 'inbox 2' });
        fake.show();
        await waitFor(() => assert.equal(fake.tasks.length, 2), 3_000);
        await waitFor(() => assert.equal(client.state.kind, 'open'));
        await waitFor(() => assert.deepEqual(data(), ['inbox 1', 'news 1', 'inbox 2']));
        assert.deepEqual(losses, ['HeartbeatTimeoutError']);

        // offline drops the session at once; online brings it back with what was missed
        fake.setNetwork(false);
        await waitFor(() => assert.equal(gateway.sessions().length, 0));
        assert.deepEqual(losses.slice(0, 2), ['HeartbeatTimeoutError', 'ConnectFailedError']);
        await gateway.publish({ to: { channel: 'news' }, data: 'news 2' });
        // Attempts made while offline fail on the platform and never reach the gateway.
        await waitFor(() => assert.ok(losses.length > 2));
        assert.notEqual(client.state.kind, 'open');
        assert.equal(gateway.sessions().length, 0);
        fake.setNetwork(true, '4g');
        await waitFor(() => assert.equal(client.state.kind, 'open'));
        await waitFor(() => assert.deepEqual(data(), ['inbox 1', 'news 1', 'inbox 2', 'news 2']));
      } finally {
        await client.close();
      }
      await waitFor(() => assert.equal(gateway.sessions().length, 0));
      assert.equal(fake.listenerCount, 0);
    });
  });
}
