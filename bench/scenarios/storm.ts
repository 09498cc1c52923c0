/**
 * Scenario 4, reconnect storm: N clients on one server; the server process is killed
 * with SIGKILL and a replacement takes over the same port after `downMs`. Before it
 * listens, the replacement publishes `missed` messages to every user — messages published
 * while the clients had no server. Time until every client is back (and, with a durable
 * log, has every missed message), the replacement's CPU meanwhile, listen-queue overflows.
 */
import { readFileSync } from 'node:fs';
import { sleep, spawnLoad, spawnServer, storeFor, waitFor, connectClients } from '../orchestra.js';
import { now, type PeerName } from '../protocol.js';
import { newTable, type Sample, type Table } from '../report.js';
import { alternate, type Context } from './context.js';

/** Longest wait for the storm to settle, in ms. */
const STORM_TIMEOUT_MS = 60_000;

/** TcpExt ListenOverflows of this host (all processes), or NaN where unreadable. */
function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const i = lines.findIndex((l) => l.startsWith('TcpExt:'));
    const names = lines[i]?.split(/\s+/) ?? [];
    const values = lines[i + 1]?.split(/\s+/) ?? [];
    return Number(values[names.indexOf('ListenOverflows')]);
  } catch {
    return Number.NaN;
  }
}

async function stormOnce(
  ctx: Context,
  peer: PeerName,
  round: number,
): Promise<{ sample: Sample; store: string }> {
  const { config } = ctx;
  const n = config.stormClients;
  const store = storeFor(config, `storm-${peer}-${round}`);
  const first = spawnServer(peer, config, store);
  const load = spawnLoad(peer, config);
  let second: ReturnType<typeof spawnServer> | undefined;
  try {
    const description = await first.call('describe', {}, 20_000);
    const { port } = await first.call('listen', { port: 0 });
    await connectClients(load, config, { peer, port, clients: n });
    await waitFor(
      'every client on the server',
      async () => (await first.call('count', {})) === n,
      10_000,
    );

    // One message per user first: a client resumes from the last position it delivered,
    // and without one there is nothing to resume from (PROTOCOL.md §10).
    await load.call('measureStart', { order: false });
    await first.call('pushEach', { users: n, count: 1 }, 60_000);
    await waitFor(
      'the first message everywhere',
      async () => (await load.call('delivered', {})) >= n,
      20_000,
    );

    // The replacement is started (and its modules loaded) before the kill, so the time
    // the server is away is `downMs`, not Node's start-up time.
    second = spawnServer(peer, config, store);
    await second.call('describe', {}, 20_000);
    await load.call('measureStart', { order: true });
    await load.call('stormArm', {});
    const overflowsBefore = listenOverflows();
    const s0 = await second.call('stats', { gc: false });
    const killedAt = now();
    first.kill('SIGKILL');
    await first.exited;
    // The replacement publishes from the moment of the kill, and listens after `downMs`
    // whether or not it is done: every peer is away for the same time, and a store that is
    // slow to take the messages is still publishing while its clients come back.
    const publishing = second.call('pushEach', { users: n, count: config.missed }, 60_000);
    publishing.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    await waitFor(
      'every client to notice',
      async () => (await load.call('stormStatus', {})).down === n,
      10_000,
      20,
    );
    await sleep(Math.max(0, killedAt + config.downMs - now()));
    await second.call('listen', { port });
    const listenedAt = now();
    const missed = await publishing;
    // Only a log that survives the restart can hand the missed messages to the clients.
    const durable = peer === 'lifeline' && description.store.startsWith('sqlite');
    let status = await load.call('stormStatus', {});
    const deadline = Date.now() + STORM_TIMEOUT_MS;
    while (Date.now() < deadline) {
      status = await load.call('stormStatus', {});
      if (status.allBackAt > 0 && (!durable || status.delivered >= missed.sent)) break;
      await sleep(20);
    }
    const s1 = await second.call('stats', { gc: false });
    if (status.allBackAt === 0) throw new Error(`only ${status.back} of ${n} clients came back`);
    const check = await load.call('verify', { perUser: missed.perUser });
    const settledAt = durable
      ? Math.max(status.allBackAt, status.lastDeliveryAt)
      : status.allBackAt;
    return {
      store: description.store,
      sample: {
        downMs: listenedAt - killedAt,
        publishMs: missed.elapsedMs,
        backMs: status.allBackAt - killedAt,
        halfBackMs: status.halfBackAt - killedAt,
        mostBackMs: status.mostBackAt - killedAt,
        caughtUpMs: durable ? settledAt - killedAt : Number.NaN,
        missedPublished: missed.sent,
        missedDelivered: peer === 'lifeline' ? missed.sent - check.lost : Number.NaN,
        duplicates: check.duplicates,
        serverCpuMs: (s1.cpuUs - s0.cpuUs) / 1000,
        serverCpuPct: ((s1.cpuUs - s0.cpuUs) / 1000 / Math.max(s1.at - s0.at, 1)) * 100,
        listenOverflows: listenOverflows() - overflowsBefore,
      },
    };
  } finally {
    await load.stop();
    first.kill('SIGKILL');
    await second?.stop();
  }
}

export async function storm(ctx: Context): Promise<Table[]> {
  const { config } = ctx;
  const n = config.stormClients;
  const table = newTable('storm', `Reconnect storm: ${n.toLocaleString('en-US')} clients`, [
    { key: 'downMs', label: 'kill → replacement listening (ms)' },
    { key: 'publishMs', label: 'publishing the missed messages took (ms)' },
    { key: 'halfBackMs', label: 'kill → 50% of clients back (ms)' },
    { key: 'mostBackMs', label: 'kill → 95% of clients back (ms)' },
    { key: 'backMs', label: 'kill → every client back (ms)' },
    { key: 'caughtUpMs', label: 'kill → every missed message delivered (ms)' },
    { key: 'missedPublished', label: 'messages published while down', noRatio: true },
    {
      key: 'missedDelivered',
      label: 'of those, delivered in order after the restart',
      noRatio: true,
    },
    { key: 'duplicates', label: 'duplicates', noRatio: true },
    { key: 'serverCpuMs', label: 'replacement server CPU, kill → all back (ms)' },
    { key: 'serverCpuPct', label: 'replacement server CPU (% of one core)' },
    { key: 'listenOverflows', label: 'listen-queue overflows (host-wide)', noRatio: true },
  ]);
  table.notes.push(
    `Every user first gets one message. Then the server is killed with SIGKILL; a replacement process (modules already loaded, same store) publishes ${config.missed} messages to every user from the moment of the kill, and listens on the same port ${config.downMs} ms after it (publishing goes on meanwhile if it is not done). Its CPU includes that publishing.`,
    'Reconnect policies: Lifeline and the raw `ws` client wait a full-jitter delay in [0, min(30 s, 1 s · 2^(attempt−1))]; Socket.IO uses its defaults (1 s ± 50%, doubling up to 5 s). The last client back is the tail of that random draw (attempts that hit the down time double their window), so compare the 50% and 95% rows too.',
    'ws and Socket.IO keep no history: messages published while their clients were away are gone by design (shown as –).',
  );
  await alternate(ctx, [table], async (peer, round) => {
    const { sample, store } = await stormOnce(ctx, peer, round);
    if (peer === 'lifeline') {
      const note = store.startsWith('sqlite')
        ? `Lifeline message log: ${store.replace(/:.*/, '')} (survives the restart).`
        : `Lifeline message log: ${store} — a restarted in-memory gateway starts a new epoch, so the messages published before the clients returned are not replayed (the clients get \`resync\`, PROTOCOL.md §10).`;
      if (!table.notes.includes(note)) table.notes.push(note);
    }
    return [sample];
  });
  return [table];
}
