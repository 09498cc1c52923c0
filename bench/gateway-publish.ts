/**
 * Micro-benchmark of one durable publish inside the gateway, without sockets: the gateway
 * core on the SQLite store (or memory), `users` sessions on connections that only count
 * what is written to them, and `gateway.publish({ to: { user } })` round robin at `rate`
 * per second. Prints the process CPU per publish: validation, append, commit, fan-out —
 * everything a push costs the server except the socket write itself.
 * `node --import tsx bench/gateway-publish.ts [users] [rate] [seconds] [sqlite|memory]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayCore, createSqliteStore, type Connection } from '../src/entries/server.js';

const args = process.argv.slice(2);
const [users = 5_000, rate = 40_000, seconds = 3] = args.slice(0, 3).map(Number);
const storeKind = args[3] ?? 'sqlite';
const dir = mkdtempSync(join(tmpdir(), 'lifeline-publish-'));
const store =
  storeKind === 'sqlite' ? createSqliteStore({ path: join(dir, 'bench.db') }) : undefined;
const core = createGatewayCore({
  authenticate: ({ token }) => ({ userId: token ?? '' }),
  ...(store === undefined ? {} : { messageLog: store.log, ackStore: store.acks }),
});

let written = 0;
let welcomed = 0;
function connection(): Connection {
  return {
    info: { remoteAddress: '127.0.0.1', headers: {}, transport: 'websocket' },
    send(text) {
      if (text.startsWith('{"type":"welcome"')) welcomed++;
      else written++;
    },
    bufferedAmount: 0,
    close() {},
    terminate() {},
  };
}
for (let u = 0; u < users; u++) {
  const handler = core.accept(connection());
  const hello = JSON.stringify({ type: 'hello', token: `u${u}` });
  handler.message(hello, hello.length);
}
while (welcomed < users) await new Promise((resolve) => setTimeout(resolve, 10));
written = 0;

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
      void core
        .publish({ to: { user: `u${k % users}` }, data: { seq: k, body: 'x'.repeat(60) } })
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
  `${storeKind}: ${sent} publishes (${written} pushes written) in ${wall.toFixed(0)} ms; ` +
    `CPU ${((cpu.user + cpu.system) / sent).toFixed(2)} µs/publish ` +
    `(user ${(cpu.user / sent).toFixed(2)}, system ${(cpu.system / sent).toFixed(2)}); ` +
    `latency p50 ${q(0.5)} p99 ${q(0.99)} max ${q(1)} ms`,
);
await core.close();
await store?.close();
rmSync(dir, { recursive: true, force: true });
