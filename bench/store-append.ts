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
import { paced } from './paced.js';

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
const run = await paced(rate, seconds, (k) =>
  store.log.publish({
    streams: [`user:/u${k % users}`],
    message: { id: `m${k}`, data: { seq: k, body: 'x'.repeat(60) }, publishedAt: Date.now() },
  }),
);
const q = run.quantile;
console.log(
  `${run.sent} appends in ${run.wallMs.toFixed(0)} ms ` +
    `(${((run.sent / run.wallMs) * 1000).toFixed(0)}/s); ${run.cpuPer('append')}; ` +
    `latency p50 ${q(0.5)} p99 ${q(0.99)} max ${q(1)} ms; ${commits.length} commits, ` +
    `slowest ${commits
      .sort((a, b) => b - a)
      .slice(0, 5)
      .map((ms) => ms.toFixed(1))
      .join(', ')} ms`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
