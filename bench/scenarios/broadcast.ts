/**
 * Scenario 2, broadcast: every client subscribes one channel; the server publishes
 * ~100-byte messages to it. (a) Max rate: a closed loop keeps `window` messages in
 * flight and counts deliveries at the clients. (b) Fixed rate: latency from the publish
 * call to the application callback.
 */
import { sleep, waitFor, withPeer, type PeerRun, connectClients } from '../orchestra.js';
import { CHANNEL } from '../protocol.js';
import { newTable, type Sample, type Table } from '../report.js';
import { hostCpu } from '../stats.js';
import { alternate, type Context } from './context.js';
import { HOST_SHARE_METRICS, HOST_SHARE_NOTE, hostShares } from './host-share.js';
import { STALL_METRICS, STALL_NOTE, stallSample } from './stalls.js';

/** Unmeasured max-rate run before measuring (JIT, buffers), in ms. */
const WARMUP_MS = 500;
/** How often the load generator reports its delivery count at max rate, in ms. */
const PROGRESS_MS = 2;
/** Longest wait for messages still in flight after a phase, in ms. */
const DRAIN_MS = 10_000;

/** Publish as fast as the clients take it: keep at most `window` messages undelivered. */
async function maxRate(
  run: PeerRun,
  n: number,
  window: number,
  durationMs: number,
): Promise<number> {
  const { server, load } = run;
  let delivered = 0;
  let wake: (() => void) | undefined;
  const off = load.on('progress', (count) => {
    delivered = count as number;
    wake?.();
  });
  await load.call('progress', { intervalMs: PROGRESS_MS });
  let published = 0;
  const end = Date.now() + durationMs;
  try {
    while (Date.now() < end) {
      const outstanding = published - delivered / n;
      if (outstanding <= window / 2) {
        const count = Math.ceil(window - outstanding);
        await server.call('publish', { channel: CHANNEL, count });
        published += count;
      } else {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 20);
        });
      }
    }
  } finally {
    await load.call('progress', { intervalMs: 0 });
    off();
  }
  return published;
}

/** Wait until `expected` deliveries arrived, or {@link DRAIN_MS}; missing ones are counted later. */
async function drain(run: PeerRun, expected: number): Promise<void> {
  const deadline = Date.now() + DRAIN_MS;
  while (Date.now() < deadline && (await run.load.call('delivered', {})) < expected) {
    await sleep(20);
  }
}

async function measure(run: PeerRun, n: number, ctx: Context): Promise<[Sample, Sample]> {
  const { server, load } = run;
  const { durationMs, window, fixedDeliveries } = ctx.config;

  await load.call('measureStart', { order: false });
  await drain(run, (await maxRate(run, n, window, WARMUP_MS)) * n);

  await load.call('measureStart', { order: false });
  const s0 = await server.call('stats', { gc: false });
  const h0 = hostCpu();
  const published = await maxRate(run, n, window, durationMs);
  const m = await load.call('measureStop', {});
  const h1 = hostCpu();
  const s1 = await server.call('stats', { gc: false });
  const serverCpu = s1.cpuUs - s0.cpuUs;
  const ourCpuMs = (serverCpu + m.cpuUs) / 1000;
  const max: Sample = {
    deliveriesPerSec: m.deliveries / (m.elapsedMs / 1000),
    messagesPerSec: published / (m.elapsedMs / 1000),
    serverCpuPerDelivery: serverCpu / m.deliveries,
    loadCpuPerDelivery: m.cpuUs / m.deliveries,
    serverCpuPct: (serverCpu / 1000 / (s1.at - s0.at)) * 100,
    loadCpuPct: (m.cpuUs / 1000 / m.elapsedMs) * 100,
    ...hostShares(h0, h1, ourCpuMs, m.elapsedMs),
  };
  await drain(run, published * n);

  const rate = Math.max(1, Math.round(fixedDeliveries / n));
  await load.call('measureStart', { order: false });
  const f0 = await server.call('stats', { gc: false });
  const paced = await server.call(
    'broadcastRate',
    { channel: CHANNEL, rate, durationMs },
    durationMs + 30_000,
  );
  await drain(run, paced.sent * n);
  const f = await load.call('measureStop', {});
  const f1 = await server.call('stats', { gc: false });
  const fixed: Sample = {
    rate,
    serverP50: paced.server.p50,
    serverP99: paced.server.p99,
    ...stallSample(paced.server),
    p50: f.latency.p50,
    p95: f.latency.p95,
    p99: f.latency.p99,
    max: f.latency.max,
    lost: paced.sent * n - f.deliveries,
    serverCpuPct: ((f1.cpuUs - f0.cpuUs) / 1000 / (f1.at - f0.at)) * 100,
    loadCpuPct: (f.cpuUs / 1000 / f.elapsedMs) * 100,
    serverRssMiB: f1.rss / 2 ** 20,
  };
  return [max, fixed];
}

export async function broadcast(ctx: Context): Promise<Table[]> {
  const { config } = ctx;
  const all: Table[] = [];
  for (const n of config.subscribers) {
    const subs = n.toLocaleString('en-US');
    const max = newTable(`broadcast-max-${n}`, `Broadcast, ${subs} subscribers: max rate`, [
      { key: 'deliveriesPerSec', label: 'deliveries/s (at the clients)' },
      { key: 'messagesPerSec', label: 'messages/s published' },
      { key: 'serverCpuPerDelivery', label: 'server CPU per delivery (µs)', digits: 2 },
      { key: 'loadCpuPerDelivery', label: 'load-generator CPU per delivery (µs)', digits: 2 },
      { key: 'serverCpuPct', label: 'server CPU (% of one core)' },
      { key: 'loadCpuPct', label: 'load-generator CPU (% of one core)' },
      ...HOST_SHARE_METRICS,
    ]);
    max.notes.push(
      `${config.durationMs} ms after a ${WARMUP_MS} ms warm-up; the orchestrator keeps ${config.window} messages in flight (published, not yet delivered to every subscriber) and the server publishes each batch concurrently, so the rate is what server and clients sustain together. (Latency at max rate only measures that queue, so it is not shown.)`,
      'A load generator near 100% of one core means the figure is client-bound, not a server limit.',
      HOST_SHARE_NOTE,
    );
    const fixed = newTable(`broadcast-fixed-${n}`, `Broadcast, ${subs} subscribers: fixed rate`, [
      { key: 'rate', label: 'messages/s published', noRatio: true },
      { key: 'serverP50', label: 'server part: publish → frames written, p50 (ms)', digits: 2 },
      { key: 'serverP99', label: 'server part: publish → frames written, p99 (ms)', digits: 2 },
      ...STALL_METRICS,
      { key: 'p50', label: 'latency p50 (ms)', digits: 2 },
      { key: 'p95', label: 'latency p95 (ms)', digits: 2 },
      { key: 'p99', label: 'latency p99 (ms)', digits: 2 },
      { key: 'max', label: 'latency max (ms)', digits: 1 },
      { key: 'lost', label: 'deliveries missing', noRatio: true },
      { key: 'serverCpuPct', label: 'server CPU (% of one core)' },
      { key: 'loadCpuPct', label: 'load-generator CPU (% of one core)' },
      { key: 'serverRssMiB', label: 'server RSS (MiB)', digits: 1 },
    ]);
    fixed.notes.push(
      `About ${config.fixedDeliveries.toLocaleString('en-US')} deliveries/s for ${config.durationMs} ms. Latency: publish call in the server process → the client's application callback, both on this host's clock.`,
      "Server part: from the publish call until every subscriber's frame was handed to its socket (ws and Socket.IO: the synchronous call returned; Lifeline: its promise settled, after the commit and the fan-out). The rest of the latency is the kernel and the load generator working through the frames: when it dominates, the load generator's CPU per delivery decides the p99.",
      STALL_NOTE,
    );
    await alternate(ctx, [max, fixed], (peer) =>
      withPeer(peer, config, `broadcast-${n}`, async (run) => {
        await connectClients(run.load, config, { peer, port: run.port, clients: n }, CHANNEL);
        await waitFor(
          'every subscription on the server',
          async () => (await run.server.call('count', { channel: CHANNEL })) === n,
          10_000,
        );
        return measure(run, n, ctx);
      }),
    );
    all.push(max, fixed);
  }
  return all;
}
