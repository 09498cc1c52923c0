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
import {
  createGatewayCore,
  createSqliteStore,
  type Connection,
  type ConnectionHandler,
} from '../src/entries/server.js';
import { loopCpuUs, paced } from './paced.js';

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
/** A connection that counts what is written to it and, like a socket, reports its close. */
function connection(): Connection & { handler?: ConnectionHandler } {
  const c: Connection & { handler?: ConnectionHandler } = {
    info: { remoteAddress: '127.0.0.1', headers: {}, transport: 'websocket' },
    send(text) {
      if (text.startsWith('{"type":"welcome"')) welcomed++;
      else written++;
    },
    bufferedAmount: 0,
    close(code, reason) {
      queueMicrotask(() => c.handler?.closed(code, reason));
    },
    terminate() {
      queueMicrotask(() => c.handler?.closed(1006, ''));
    },
  };
  return c;
}
for (let u = 0; u < users; u++) {
  const c = connection();
  const handler = core.accept(c);
  c.handler = handler;
  const hello = JSON.stringify({ type: 'hello', token: `u${u}` });
  handler.message(hello, hello.length);
}
while (welcomed < users) await new Promise((resolve) => setTimeout(resolve, 10));
written = 0;

const loop0 = loopCpuUs();
const run = await paced(rate, seconds, (k) =>
  core.publish({ to: { user: `u${k % users}` }, data: { seq: k, body: 'x'.repeat(60) } }),
);
const q = run.quantile;
const loop1 = loopCpuUs();
const loop =
  loop0 === undefined || loop1 === undefined
    ? ''
    : `, event loop thread ${((loop1 - loop0) / run.sent).toFixed(2)} µs/publish`;
console.log(
  `${storeKind}: ${run.sent} publishes (${written} pushes written) in ${run.wallMs.toFixed(0)} ms; ` +
    `${run.cpuPer('publish')}${loop}; latency p50 ${q(0.5)} p99 ${q(0.99)} max ${q(1)} ms`,
);
await core.close();
await store?.close();
rmSync(dir, { recursive: true, force: true });
