/**
 * No sticky sessions: two `lifeline serve` processes share one SQLite file, and a balancer
 * sends every HTTP request of a polling session to the next process in turn. The session
 * runs on the process that opened it; the other one answers its GETs from the store and
 * forwards its POSTs through the store. Then the owner is killed: the client resumes on
 * the survivor. Every message arrives exactly once, in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createNodeClient, type PushMessage } from '../../src/entries/node.js';
import { assertBuilt } from '../helpers/cli.js';
import { freePort, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { signHs256 } from '../helpers/jwt.js';
import { publishApi } from '../helpers/publish-api.js';
import { startRoundRobinProxy } from '../helpers/round-robin-proxy.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'polling-nodes-secret-that-is-long-enough-for-hs256';
const API_KEY = 'polling-nodes-api-key';

async function sessionsOf(node: GatewayProcess, user: string): Promise<number> {
  const res = await fetch(`${node.url}/api/presence/${user}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  const body = (await res.json()) as { sessions: unknown[] };
  return body.sessions.length;
}

async function publishTo(node: GatewayProcess, from: number, to: number): Promise<void> {
  const api = publishApi(node.url, API_KEY);
  for (let n = from; n <= to; n++) {
    const outcome = await api.publish({ user: 'alice' }, n, Date.now() + 10_000);
    assert.equal(outcome.kind, 'acknowledged');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function assertExactlyOnceInOrder(seen: readonly PushMessage[], count: number): void {
  assert.deepEqual(
    seen.map((m) => m.data),
    Array.from({ length: count }, (_, i) => i + 1),
  );
  const offsets = seen.map((m) => m.offset);
  assert.deepEqual(
    offsets,
    offsets.map((_, i) => (offsets[0] ?? 0) + i),
    'offsets are contiguous',
  );
}

test('any node sharing the store serves any request of a polling session', async () => {
  assertBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-nodes-'));
  const options = { dataDir, jwtSecret: SECRET, apiKey: API_KEY };
  await using a = await startGatewayProcess({ ...options, port: await freePort() });
  await using b = await startGatewayProcess({ ...options, port: await freePort() });
  await using proxy = await startRoundRobinProxy([a.port, b.port]);
  const client = createNodeClient({
    url: `ws://127.0.0.1:${proxy.port}/ws`,
    token: () => signHs256(SECRET, { sub: 'alice' }),
    transports: ['polling'],
    pingIntervalMs: 500,
    pongTimeoutMs: 1_500,
    minReconnectDelayMs: 20,
    maxReconnectDelayMs: 200,
  });
  const seen: PushMessage[] = [];
  client.on('message', (m) => seen.push(m));
  try {
    await client.connect();
    await waitFor(() => assert.equal(client.state.kind, 'open'));
    assert.equal(client.state.kind === 'open' && client.state.transport, 'polling');

    // The node that opened the session runs it; live pushes start there.
    const [onA, onB] = [await sessionsOf(a, 'alice'), await sessionsOf(b, 'alice')];
    assert.equal(onA + onB, 1);
    const [owner, other] = onA === 1 ? [a, b] : [b, a];
    // Publish until GETs and POSTs (acks, pings) of the session have reached both nodes.
    const servedByBoth = (): boolean =>
      [a, b].every((node) =>
        ['GET', 'POST'].every((method) =>
          proxy.routed.some(
            (r) => r.upstream === node.port && r.method === method && r.url.includes('sid='),
          ),
        ),
      );
    let published = 0;
    for (let round = 0; round < 30 && (published < 30 || !servedByBoth()); round++) {
      await publishTo(owner, published + 1, published + 10);
      published += 10;
    }
    assert.ok(servedByBoth(), 'GETs and POSTs of the session reached both nodes');
    await waitFor(() => assert.equal(seen.length, published), { timeoutMs: 10_000 });
    assertExactlyOnceInOrder(seen, published);
    // One session all along: opened once, and no request of it was refused.
    assert.equal(proxy.routed.filter((r) => r.url.includes('/poll/open')).length, 1);
    assert.deepEqual(
      proxy.routed.filter((r) => r.status !== 200 && r.status !== 204),
      [],
    );

    // The owner dies with the session; the client resumes on the survivor.
    await owner.kill();
    await publishTo(other, published + 1, published + 30);
    await waitFor(() => assert.equal(seen.length, published + 30), { timeoutMs: 15_000 });
    assertExactlyOnceInOrder(seen, published + 30);
    await waitFor(async () => assert.equal(await sessionsOf(other, 'alice'), 1));
  } finally {
    await client.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
