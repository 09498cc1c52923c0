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
const TICK_MS = 5;
const latencies: number[] = [];
const cpu0 = process.cpuUsage();
const started = performance.now();
let sent = 0;
let pending = 0;
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const elapsed = performance.now() - started;
    const due = Math.floor((Math.min(elapsed, seconds * 1000) * rate) / 1000);
    while (sent < due) {
      const k = sent++;
      const at = performance.now();
      pending++;
      void store.log
        .publish({
          streams: [`user:/u${k % users}`],
          message: { id: `m${k}`, data: { seq: k, body: 'x'.repeat(60) }, publishedAt: Date.now() },
        })
        .then(() => {
          latencies.push(performance.now() - at);
          if (--pending === 0 && sent >= seconds * rate) resolve();
        });
    }
    if (elapsed < seconds * 1000 || pending > 0) setTimeout(tick, TICK_MS);
  };
  tick();
});
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - started;
latencies.sort((a, b) => a - b);
const q = (p: number): string =>
  (latencies[Math.floor(p * (latencies.length - 1))] ?? 0).toFixed(1);
console.log(
  `${sent} appends in ${wall.toFixed(0)} ms (${((sent / wall) * 1000).toFixed(0)}/s); ` +
    `CPU ${((cpu.user + cpu.system) / sent).toFixed(2)} µs/append ` +
    `(user ${(cpu.user / sent).toFixed(2)}, system ${(cpu.system / sent).toFixed(2)}); ` +
    `latency p50 ${q(0.5)} p99 ${q(0.99)} max ${q(1)} ms; ${commits.length} commits, ` +
    `slowest ${commits
      .sort((a, b) => b - a)
      .slice(0, 5)
      .map((ms) => ms.toFixed(1))
      .join(', ')} ms`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
