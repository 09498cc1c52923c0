/**
 * Scenario 3, push: per-user messages, round robin over N users (one client each), at
 * target rates. Achieved rate, latency, and a loss check: every client must deliver
 * every message sent to its user exactly once, in order.
 */
import { sleep, waitFor, withPeer, type PeerRun, connectClients } from '../orchestra.js';
import { newTable, type Sample, type Table } from '../report.js';
import { hostCpu } from '../stats.js';
import { alternate, type Context } from './context.js';
import { HOST_SHARE_METRICS, HOST_SHARE_NOTE, hostShares } from './host-share.js';
import { STALL_METRICS, STALL_NOTE, stallSample } from './stalls.js';

/** A phase ends when everything arrived, or when deliveries stalled this long, in ms. */
const STALL_MS = 3_000;

async function drain(run: PeerRun, expected: number): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const delivered = await run.load.call('delivered', {});
    if (delivered >= expected) return;
    if (delivered !== last) {
      last = delivered;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) return;
    await sleep(20);
  }
}

async function atRate(
  run: PeerRun,
  users: number,
  rate: number,
  durationMs: number,
): Promise<Sample> {
  const { server, load } = run;
  await load.call('measureStart', { order: true });
  const s0 = await server.call('stats', { gc: false });
  const h0 = hostCpu();
  const pushed = await server.call('pushRate', { users, rate, durationMs }, durationMs + 60_000);
  await drain(run, pushed.sent);
  const m = await load.call('measureStop', {});
  const h1 = hostCpu();
  const s1 = await server.call('stats', { gc: false });
  const check = await load.call('verify', { perUser: pushed.perUser });
  const spanMs = Math.max(m.lastAt - m.firstAt, 1);
  return {
    publishedPerSec: pushed.sent / (pushed.elapsedMs / 1000),
    deliveredPerSec: m.deliveries / (spanMs / 1000),
    serverP50: pushed.server?.p50 ?? Number.NaN,
    serverP99: pushed.server?.p99 ?? Number.NaN,
    ...stallSample(pushed.server),
    p50: m.latency.p50,
    p95: m.latency.p95,
    p99: m.latency.p99,
    max: m.latency.max,
    lost: check.lost,
    duplicates: check.duplicates,
    behind: pushed.behind,
    serverCpuPerMessage: (s1.cpuUs - s0.cpuUs) / Math.max(m.deliveries, 1),
    loadCpuPerMessage: m.cpuUs / Math.max(m.deliveries, 1),
    serverCpuPct: ((s1.cpuUs - s0.cpuUs) / 1000 / (s1.at - s0.at)) * 100,
    loadCpuPct: (m.cpuUs / 1000 / (s1.at - s0.at)) * 100,
    ...hostShares(h0, h1, (s1.cpuUs - s0.cpuUs + m.cpuUs) / 1000, s1.at - s0.at),
  };
}

export async function push(ctx: Context): Promise<Table[]> {
  const { config } = ctx;
  const users = config.pushUsers;
  const tables = config.pushRates.map((rate) => {
    const t = newTable(
      `push-${rate}`,
      `Push: ${users.toLocaleString('en-US')} users at ${rate.toLocaleString('en-US')} messages/s`,
      [
        { key: 'publishedPerSec', label: 'messages/s published' },
        { key: 'deliveredPerSec', label: 'messages/s delivered' },
        { key: 'serverP50', label: 'server part: publish → frame written, p50 (ms)', digits: 2 },
        { key: 'serverP99', label: 'server part: publish → frame written, p99 (ms)', digits: 2 },
        ...STALL_METRICS,
        { key: 'p50', label: 'latency p50 (ms)', digits: 2 },
        { key: 'p95', label: 'latency p95 (ms)', digits: 2 },
        { key: 'p99', label: 'latency p99 (ms)', digits: 2 },
        { key: 'max', label: 'latency max (ms)', digits: 1 },
        { key: 'lost', label: 'lost (not delivered in order)', noRatio: true },
        { key: 'duplicates', label: 'duplicates', noRatio: true },
        { key: 'behind', label: 'not published in time (publisher behind)', noRatio: true },
        { key: 'serverCpuPerMessage', label: 'server CPU per message (µs)', digits: 2 },
        { key: 'loadCpuPerMessage', label: 'load-generator CPU per message (µs)', digits: 2 },
        { key: 'serverCpuPct', label: 'server CPU (% of one core)' },
        { key: 'loadCpuPct', label: 'load-generator CPU (% of one core)' },
        ...HOST_SHARE_METRICS,
      ],
    );
    t.notes.push(
      `${config.durationMs} ms per rate; one message per publish call, addressed to one user (Lifeline: \`gateway.publish({ to: { user } })\`; Socket.IO: the user's room; ws: the user's socket).`,
      HOST_SHARE_NOTE,
      "Server part: from the publish call until the user's frame was handed to its socket (ws and Socket.IO: the synchronous call returned; Lifeline: its promise settled, after the commit and the fan-out); the rest of the latency is the kernel and the load generator.",
      STALL_NOTE,
    );
    return t;
  });
  await alternate(ctx, tables, (peer) =>
    withPeer(peer, config, 'push', async (run) => {
      await connectClients(run.load, config, { peer, port: run.port, clients: users });
      await waitFor(
        'every user on the server',
        async () => (await run.server.call('count', {})) === users,
        10_000,
      );
      if (peer === 'lifeline') {
        for (const t of tables) {
          const note = `Lifeline message log: ${run.description.store}.`;
          if (!t.notes.includes(note)) t.notes.push(note);
        }
      }
      const samples: Sample[] = [];
      for (const rate of config.pushRates) {
        samples.push(await atRate(run, users, rate, config.durationMs));
      }
      return samples;
    }),
  );
  return tables;
}
