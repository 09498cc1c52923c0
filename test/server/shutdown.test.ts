import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CloseCode, type SessionClosedEvent } from '../../src/entries/server.js';
import { assertClosedWith, countingClock, startGateway, waitFor } from './fixtures.js';

test('close() sends 4007 to every session, resolves, and is idempotent', async () => {
  const clock = countingClock();
  await using fx = await startGateway({ clock, pingIntervalMs: 1000, idleTimeoutMs: 5000 });
  const clients = await Promise.all(
    ['a', 'b', 'c'].map(async (u) => (await fx.open(`u:${u}`)).client),
  );
  const handshaking = await fx.connect();
  assert.ok(clock.pending > 0);
  const first = fx.gateway.close();
  const second = fx.gateway.close();
  assert.equal(first, second);
  await Promise.all(
    [...clients, handshaking].map((c) => assertClosedWith(c, CloseCode.SHUTTING_DOWN)),
  );
  await first;
  assert.equal(fx.gateway.stats().connections, 0);
  assert.equal(clock.pending, 0, 'no timer is left behind');
  await assert.rejects(fx.connect(), 'no new connections after close');
  await assert.rejects(fx.gateway.publish({ to: { user: 'a' }, data: 1 }));
});

test('close() drops sessions that do not finish the closing handshake in time', async () => {
  await using fx = await startGateway({ shutdownTimeoutMs: 100 });
  const { client } = await fx.open('u:stuck');
  client.socket.pause(); // never reads the close frame, never answers it
  // Resolves at the shutdown timeout (the test's own timeout bounds the wait), with the
  // stuck connection dropped rather than waited for.
  await fx.gateway.close();
  assert.equal(fx.gateway.stats().connections, 0);
});

test('Symbol.asyncDispose closes the gateway', async () => {
  const fx = await startGateway();
  const { client } = await fx.open('u:a');
  await fx.gateway[Symbol.asyncDispose]();
  await assertClosedWith(client, CloseCode.SHUTTING_DOWN);
  await fx[Symbol.asyncDispose]();
});

test('sessions() lists presence and disconnect() kicks', async () => {
  await using fx = await startGateway();
  const closedEvents: SessionClosedEvent[] = [];
  fx.gateway.on('closed', (event) => closedEvents.push(event));
  const a1 = await fx.open('u:alice', { device: 'laptop' });
  const a2 = await fx.open('u:alice');
  const b = await fx.open('u:bob@acme');
  assert.equal(fx.gateway.sessions().length, 3);
  const alice = fx.gateway.sessions({ user: 'alice' });
  assert.deepEqual(
    alice.map((s) => s.id).sort(),
    [a1.welcome['session'], a2.welcome['session']].sort(),
  );
  assert.equal(alice.find((s) => s.device === 'laptop')?.transport, 'websocket');
  assert.equal(fx.gateway.sessions({ user: 'bob', tenant: 'acme' })[0]?.tenantId, 'acme');

  assert.equal(fx.gateway.disconnect({ user: 'alice' }), 2);
  await assertClosedWith(a1.client, CloseCode.KICKED);
  await assertClosedWith(a2.client, CloseCode.KICKED);
  assert.equal(fx.gateway.sessions({ user: 'alice' }).length, 0);
  assert.equal(closedEvents.filter((e) => e.code === CloseCode.KICKED).length, 2);

  assert.equal(
    fx.gateway.disconnect({ session: b.welcome['session'] as string }, CloseCode.REPLACED),
    1,
  );
  await assertClosedWith(b.client, CloseCode.REPLACED);
  assert.equal(fx.gateway.disconnect({ user: 'nobody' }), 0);
  assert.throws(() => fx.gateway.disconnect({ user: 'x' }, 1006 as CloseCode));
});

test('a client closing on purpose ends its session at once', async () => {
  await using fx = await startGateway();
  const opened: string[] = [];
  fx.gateway.on('opened', (s) => opened.push(s.userId));
  const { client } = await fx.open('u:alice');
  assert.deepEqual(opened, ['alice']);
  client.close(1000);
  await waitFor(() => assert.equal(fx.gateway.sessions().length, 0));
  const result = await fx.gateway.publish({ to: { user: 'alice' }, data: 1 });
  assert.equal(result.delivered, 0);
});

test('close() completes when the sessions it waits for are all that is left of the process', async () => {
  // A connection that never reports its close (a polling session between two polls, say)
  // and nothing else alive: the wait for it must still end at the shutdown timeout, or
  // the rest of close() (receipts to the store, the stores) would never run.
  const server = new URL('../../src/entries/server.ts', import.meta.url).href;
  const script = `
    import { createGatewayCore } from ${JSON.stringify(server)};
    const core = createGatewayCore({
      authenticate: ({ token }) => ({ userId: token ?? '' }),
      shutdownTimeoutMs: 100,
    });
    const handler = core.accept({
      info: { remoteAddress: '127.0.0.1', headers: {}, transport: 'websocket' },
      send() {},
      bufferedAmount: 0,
      close() {},
      terminate() {},
    });
    handler.message('{"type":"hello","token":"u1"}', 30);
    while (core.stats().sessions === 0) await new Promise((r) => setTimeout(r, 5));
    await core.close();
    console.log('closed');
  `;
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(child.stderr, '');
  assert.equal(child.stdout.trim(), 'closed');
  assert.equal(child.status, 0, 'exit code 13 would mean close() never settled');
});
