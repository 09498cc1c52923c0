/**
 * Request de-duplication: a request re-sent with the same id after a reconnect runs the
 * handler once and is answered with the original reply — over raw sockets, and end to end
 * with the Lifeline client behind a TCP proxy that drops the connection mid-request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createGatewayCore,
  DEFAULT_REQUEST_DEDUPE_MAX_ENTRIES_PER_USER,
  DEFAULT_REQUEST_DEDUPE_WINDOW_MS,
  InvalidOptionError,
  type OnMessage,
} from '../../src/entries/server.js';
import { reach, startE2E } from '../e2e/fixture.js';
import { startGateway, testAuthenticate, waitFor } from './fixtures.js';

/** An `onMessage` hook that counts its runs and answers only when released. */
function slowHandler(): {
  hook: OnMessage;
  readonly runs: number;
  release(): void;
} {
  let runs = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    hook: async (session, data) => {
      runs++;
      await released;
      return { echo: data, run: runs, user: session.userId };
    },
    get runs() {
      return runs;
    },
    release: () => release(),
  };
}

/** An `onMessage` hook that answers at once and counts its runs. */
function countingHandler(): { hook: OnMessage; readonly runs: number } {
  let runs = 0;
  return {
    hook: (_session, data) => ({ echo: data, run: ++runs }),
    get runs() {
      return runs;
    },
  };
}

describe('request de-duplication options', () => {
  it('defaults to a 2 minute window and 1,000 ids per user', () => {
    assert.equal(DEFAULT_REQUEST_DEDUPE_WINDOW_MS, 120_000);
    assert.equal(DEFAULT_REQUEST_DEDUPE_MAX_ENTRIES_PER_USER, 1_000);
  });

  it('rejects invalid values', () => {
    for (const requestDedupe of [{ windowMs: 0 }, { maxEntriesPerUser: -1 }, { windowMs: 1.5 }]) {
      assert.throws(
        () => createGatewayCore({ authenticate: testAuthenticate, requestDedupe }),
        InvalidOptionError,
      );
    }
  });
});

describe('a re-sent request', () => {
  it('after a reconnect, is answered with the original reply and the handler ran once', async () => {
    const handler = slowHandler();
    await using fx = await startGateway({ onMessage: handler.hook });
    const first = await fx.open('u:alice');
    first.client.send({ type: 'request', id: 'x-1', data: 'hi' });
    await waitFor(() => assert.equal(handler.runs, 1));
    first.client.socket.terminate(); // the connection drops before the reply
    await first.client.closed();
    handler.release();

    const second = await fx.open('u:alice');
    assert.notEqual(second.welcome['session'], first.welcome['session']);
    second.client.send({ type: 'request', id: 'x-1', data: 'hi' });
    assert.deepEqual(await second.client.nextOf('reply'), {
      type: 'reply',
      id: 'x-1',
      ok: true,
      data: { echo: 'hi', run: 1, user: 'alice' },
    });
    assert.equal(handler.runs, 1);
  });

  it('while the original still runs, waits for the same reply', async () => {
    const handler = slowHandler();
    await using fx = await startGateway({ onMessage: handler.hook });
    const first = await fx.open('u:alice', { device: 'phone' });
    first.client.send({ type: 'request', id: 'x-1', data: 1 });
    await waitFor(() => assert.equal(handler.runs, 1));
    first.client.socket.terminate();
    const second = await fx.open('u:alice', { device: 'phone' });
    second.client.send({ type: 'request', id: 'x-1', data: 1 });
    second.client.send({ type: 'ping', t: 1 });
    assert.deepEqual(await second.client.next(), { type: 'pong', t: 1 }, 'not answered yet');
    handler.release();
    const reply = await second.client.nextOf('reply');
    assert.deepEqual(reply['data'], { echo: 1, run: 1, user: 'alice' });
    assert.equal(handler.runs, 1);
  });

  it('is not confused with the same id from another user, tenant or device', async () => {
    const handler = countingHandler();
    await using fx = await startGateway({ onMessage: handler.hook });
    const senders = [
      await fx.open('u:alice', { device: 'phone' }),
      await fx.open('u:alice', { device: 'laptop' }),
      await fx.open('u:bob', { device: 'phone' }),
      await fx.open('u:alice@acme', { device: 'phone' }),
    ];
    const runs: unknown[] = [];
    for (const { client } of senders) {
      client.send({ type: 'request', id: 'same', data: 0 });
      runs.push(((await client.nextOf('reply'))['data'] as { run: number }).run);
    }
    assert.deepEqual(runs, [1, 2, 3, 4]);
  });

  it('runs again once the window has passed', async () => {
    const handler = countingHandler();
    await using fx = await startGateway({
      onMessage: handler.hook,
      requestDedupe: { windowMs: 20 },
    });
    const { client } = await fx.open('u:alice');
    client.send({ type: 'request', id: 'x', data: 0 });
    await client.nextOf('reply');
    client.send({ type: 'request', id: 'x', data: 0 });
    assert.equal(((await client.nextOf('reply'))['data'] as { run: number }).run, 1);
    await waitFor(async () => {
      client.send({ type: 'request', id: 'x', data: 0 });
      assert.equal(((await client.nextOf('reply'))['data'] as { run: number }).run, 2);
    });
  });

  it('keeps at most maxEntriesPerUser ids, forgetting the least recently used', async () => {
    const handler = countingHandler();
    await using fx = await startGateway({
      onMessage: handler.hook,
      requestDedupe: { maxEntriesPerUser: 2 },
    });
    const { client } = await fx.open('u:alice');
    const ask = async (id: string): Promise<number> => {
      client.send({ type: 'request', id, data: id });
      return ((await client.nextOf('reply'))['data'] as { run: number }).run;
    };
    assert.deepEqual(
      [await ask('a'), await ask('b'), await ask('a'), await ask('c')],
      [1, 2, 1, 3],
    );
    assert.equal(await ask('a'), 1, 'a was used recently and stays');
    assert.equal(await ask('b'), 4, 'b was the least recently used and was forgotten');
  });

  it('a failed run is remembered as its reply too', async () => {
    let runs = 0;
    await using fx = await startGateway({
      onMessage: () => {
        runs++;
        throw new Error('boom');
      },
    });
    const { client } = await fx.open('u:alice');
    for (let i = 0; i < 2; i++) {
      client.send({ type: 'request', id: 'x', data: 0 });
      const reply = await client.nextOf('reply');
      assert.equal((reply['error'] as { code: string }).code, 'handler_error');
    }
    assert.equal(runs, 1);
  });
});

describe('with the Lifeline client', () => {
  it('a request whose connection is cut resolves once, and the handler ran once', async () => {
    const handler = slowHandler();
    await using e2e = await startE2E({ onMessage: handler.hook });
    const client = e2e.client('alice');
    await client.connect();
    const reply = client.request({ n: 7 }, { timeoutMs: 5_000 });
    await waitFor(() => assert.equal(handler.runs, 1));
    e2e.proxy.cut();
    // The reply is produced while the client has no connection, and is lost with it.
    handler.release();
    await reach(client, 'open');
    assert.deepEqual(await reply, { echo: { n: 7 }, run: 1, user: 'alice' });
    assert.equal(handler.runs, 1);
    assert.ok(e2e.proxy.accepted >= 2, 'the client reconnected');
  });
});
