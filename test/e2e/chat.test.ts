/**
 * Seed 002's chat over real sockets: a user sends to another user through the gateway with
 * `client.publish()`, and a publish cut off before its reply is stored once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestFailedError, type PushMessage } from '../../src/entries/node.js';
import { waitFor } from '../helpers/wait.js';
import { startE2E } from './fixture.js';

describe('client publish (chat)', () => {
  it('alice writes to bob through the gateway', async () => {
    await using e2e = await startE2E({
      authorizePublish: (session, to) => 'user' in to && to.user !== session.userId,
    });
    const alice = e2e.client('alice');
    const bob = e2e.client('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const inbox: PushMessage[] = [];
    bob.on('message', (m) => inbox.push(m));

    const receipt = await alice.publish({ user: 'bob' }, { from: 'alice', text: 'hello' });
    assert.deepEqual(
      receipt.positions.map((p) => p.stream),
      ['user:bob'],
    );
    await waitFor(() => assert.equal(inbox.length, 1));
    assert.equal(inbox[0]?.id, receipt.id);
    assert.deepEqual(inbox[0]?.data, { from: 'alice', text: 'hello' });

    await assert.rejects(
      alice.publish({ user: 'alice' }, 'to myself'),
      (error: unknown) => error instanceof RequestFailedError && error.replyCode === 'forbidden',
    );
  });

  it('a publish whose reply was lost is re-sent with the same id and stored once', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await using e2e = await startE2E({
      authorizePublish: async () => {
        calls++;
        await held; // the connection is cut while the first attempt waits here
        return true;
      },
    });
    const alice = e2e.client('alice', { device: 'laptop' });
    const bob = e2e.client('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const inbox: PushMessage[] = [];
    bob.on('message', (m) => inbox.push(m));

    const sent = alice.publish({ user: 'bob' }, 'exactly once');
    await waitFor(() => assert.equal(calls, 1));
    e2e.proxy.cut();
    release();
    const receipt = await sent;
    await waitFor(() => assert.equal(inbox.length, 1));
    assert.equal(inbox[0]?.id, receipt.id);
    assert.equal(calls, 1, 'authorizePublish ran once');
    assert.equal(e2e.gateway().stats().published, 1);
  });
});
