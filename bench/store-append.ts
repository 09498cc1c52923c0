/**
 * Micro-benchmark of the SQLite store's append path alone, without sockets: `rate`
 * publishes per second, round robin over `users` user streams, in the bursts a paced
 * publisher makes. Prints CPU per append and commit latency.
 * `node --import tsx bench/store-append.ts [users] [rate] [seconds] [checkpointIntervalMs]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../src/entries/server.js';
import { loopCpuUs, paced } from './paced.js';

const [users = 5_000, rate = 40_000, seconds = 3, checkpointIntervalMs] = process.argv
  .slice(2)
  .map(Number);
const dir = mkdtempSync(join(tmpdir(), 'lifeline-append-'));
const commits: number[] = [];
const store = createSqliteStore({
  path: join(dir, 'bench.db'),
  ...(checkpointIntervalMs === undefined ? {} : { checkpointIntervalMs }),
  onCommit: ({ durationMs }) => commits.push(durationMs),
});
const loop0 = loopCpuUs();
const run = await paced(rate, seconds, (k) =>
  store.log.publish({
    streams: [`user:/u${k % users}`],
    message: { id: `m${k}`, data: { seq: k, body: 'x'.repeat(60) }, publishedAt: Date.now() },
  }),
);
const q = run.quantile;
const loop1 = loopCpuUs();
const loop =
  loop0 === undefined || loop1 === undefined
    ? ''
    : `, event loop thread ${((loop1 - loop0) / run.sent).toFixed(2)} µs/append`;
console.log(
  `${run.sent} appends in ${run.wallMs.toFixed(0)} ms ` +
    `(${((run.sent / run.wallMs) * 1000).toFixed(0)}/s); ${run.cpuPer('append')}${loop}; ` +
    `latency p50 ${q(0.5)} p99 ${q(0.99)} max ${q(1)} ms; ${commits.length} commits, ` +
    `slowest ${commits
      .sort((a, b) => b - a)
      .slice(0, 5)
      .map((ms) => ms.toFixed(1))
      .join(', ')} ms`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
