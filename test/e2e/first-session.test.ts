/**
 * A client that has not received anything yet still resumes: the gateway tells it where
 * its session (and each subscription) started, so what is published while its first
 * connection is down is not lost (PROTOCOL.md §10.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LifelineClient, PushMessage } from '../../src/entries/node.js';
import { waitFor } from '../helpers/wait.js';
import { reach, startE2E } from './fixture.js';

function collect(client: LifelineClient): PushMessage[] {
  const seen: PushMessage[] = [];
  client.on('message', (m) => seen.push(m));
  return seen;
}

describe('first session', () => {
  for (const history of ['an empty', 'a non-empty'] as const) {
    it(`resumes ${history} inbox and channel after the first connection drops`, async () => {
      await using e2e = await startE2E();
      if (history === 'a non-empty') {
        // Published before the client ever connected: not for it.
        await e2e.gateway().publish({ to: { user: 'alice' }, data: 'before' });
        await e2e.gateway().publish({ to: { channel: 'news' }, data: 'before' });
      }
      const client = e2e.client('alice');
      client.subscribe('news');
      const seen = collect(client);
      await client.connect();
      await waitFor(() =>
        assert.equal(e2e.gateway().sessions({ user: 'alice' })[0]?.channels.size, 1),
      );

      e2e.proxy.refuse(true);
      e2e.proxy.cut();
      await reach(client, 'reconnecting');
      await e2e.gateway().publish({ to: { user: 'alice' }, data: 'while away' });
      await e2e.gateway().publish({ to: { channel: 'news' }, data: 'while away' });
      e2e.proxy.refuse(false);

      await waitFor(() => assert.equal(seen.length, 2));
      assert.deepEqual(seen.map((m) => [m.stream, m.data]).sort(), [
        ['channel:news', 'while away'],
        ['user:alice', 'while away'],
      ]);
    });
  }
});
