/**
 * Scenario 1, idle: N authenticated, heartbeating connections. Server memory per
 * connection after GC (minus the baseline before any connection), connect rate, and the
 * CPU both sides spent connecting.
 */
import { sleep, waitFor, withPeer, connectClients } from '../orchestra.js';
import { newTable, type Table } from '../report.js';
import { alternate, type Context } from './context.js';

/**
 * Time given to the server to settle before each sample, in ms: after it started (a
 * store's threads and caches come up in the background) and after the connections
 * (handshake timers, buffers).
 */
const SETTLE_MS = 1_000;

export async function idle(ctx: Context): Promise<Table[]> {
  const { config } = ctx;
  const n = config.idleClients;
  const table = newTable('idle', `Idle: ${n.toLocaleString('en-US')} connections`, [
    { key: 'rssPerConn', label: 'server RSS per connection (bytes)' },
    { key: 'heapPerConn', label: 'server JS heap per connection (bytes)' },
    {
      key: 'externalPerConn',
      label: 'server external memory per connection (bytes)',
      noRatio: true,
    },
    { key: 'connectRate', label: 'connect rate (connections/s)' },
    { key: 'serverCpuPerConn', label: 'server CPU per connect (µs)' },
    { key: 'loadCpuPerConn', label: 'load-generator CPU per connect (µs)' },
  ]);
  table.notes.push(
    `Memory sampled in the server process after two forced GCs (--expose-gc), minus the same sample before the first connection; ${SETTLE_MS} ms settle time before each (the server's fixed memory, such as the SQLite store's checkpoint thread, is in the baseline).`,
    `Connect rate: ${config.concurrency} connections opening at once, each until authenticated (Lifeline: \`welcome\`; Socket.IO: \`connect\`; ws: \`open\`).`,
  );
  await alternate(ctx, [table], (peer) =>
    withPeer(peer, config, 'idle', async ({ server, load, port }) => {
      await sleep(SETTLE_MS);
      const base = await server.call('stats', { gc: true });
      const connect = await connectClients(load, config, { peer, port, clients: n });
      await waitFor(
        'every connection on the server',
        async () => (await server.call('count', {})) === n,
        10_000,
      );
      const connected = await server.call('stats', { gc: false });
      await sleep(SETTLE_MS);
      const after = await server.call('stats', { gc: true });
      return [
        {
          rssPerConn: (after.rss - base.rss) / n,
          heapPerConn: (after.heapUsed - base.heapUsed) / n,
          externalPerConn: (after.external - base.external) / n,
          connectRate: n / (connect.elapsedMs / 1000),
          serverCpuPerConn: (connected.cpuUs - base.cpuUs) / n,
          loadCpuPerConn: connect.cpuUs / n,
        },
      ];
    }),
  );
  return [table];
}
