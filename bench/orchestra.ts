/**
 * Starting and stopping the processes of one measurement: a peer server (in its own
 * process, with `--expose-gc`) and a load generator (in another).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from './config.js';
import { Worker } from './ipc.js';
import type { ConnectResult, LoadCommands, PeerName, ServerCommands } from './protocol.js';

export type ServerWorker = Worker<ServerCommands>;
export type LoadWorker = Worker<LoadCommands>;

/** Shared secret of the `--auth jwt` runs; loopback only, never a real credential. */
export const BENCH_SECRET = 'lifeline-bench-secret-not-for-production';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` every `everyMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

let profileSeq = 0;
let storeSeq = 0;
let scratch: string | undefined;

/** The `--store` argument of a Lifeline server: `memory`, or a fresh SQLite file per `label`. */
export function storeFor(config: BenchConfig, label: string): string {
  if (config.store === 'memory') return 'memory';
  scratch ??= mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  return `sqlite:${join(scratch, `${label}-${++storeSeq}.db`)}`;
}

/** Delete the SQLite files of this run. */
export function removeScratch(): void {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** `--cpu-prof` flags for one process, into `<cpuProfDir>/<label>/<n>/`. */
function profileFlags(config: BenchConfig, label: string): string[] {
  if (config.cpuProfDir === undefined) return [];
  // One directory per process: tsx's loader thread writes a profile of its own.
  return ['--cpu-prof', `--cpu-prof-dir=${join(config.cpuProfDir, label, String(++profileSeq))}`];
}

export function spawnServer(peer: PeerName, config: BenchConfig, store: string): ServerWorker {
  return new Worker(`${peer}-server`, here(`./peers/${peer}-server.ts`), {
    args: ['--store', store, '--auth', config.auth, '--secret', BENCH_SECRET],
    nodeFlags: ['--expose-gc', ...profileFlags(config, peer)],
  });
}

/**
 * Open `clients` connections of `peer` from the load generator (subscribed to `channel`
 * when given); throws when any of them failed.
 */
export async function connectClients(
  load: LoadWorker,
  config: BenchConfig,
  target: { readonly peer: PeerName; readonly port: number; readonly clients: number },
  channel?: string,
): Promise<ConnectResult> {
  const timeoutMs = 30_000 + target.clients * 10;
  const c = await load.call(
    'connect',
    {
      ...target,
      concurrency: config.concurrency,
      ...(channel === undefined ? {} : { channel }),
      auth: config.auth,
      secret: BENCH_SECRET,
      timeoutMs,
    },
    timeoutMs + 10_000,
  );
  if (c.failed > 0) {
    throw new Error(`${c.failed} of ${target.clients} clients failed: ${c.firstError ?? ''}`);
  }
  return c;
}

export function spawnLoad(peer: PeerName, config: BenchConfig): LoadWorker {
  return new Worker('load', here('./load/client.ts'), {
    nodeFlags: profileFlags(config, `${peer}-load`),
  });
}

export interface PeerRun {
  readonly peer: PeerName;
  readonly server: ServerWorker;
  readonly load: LoadWorker;
  readonly port: number;
  readonly description: ServerCommands['describe']['result'];
}

/**
 * Run `body` against a fresh server of `peer` and a fresh load generator; both processes
 * are stopped afterwards whatever happens (the load first, so the server's sessions are
 * already gone when it shuts down).
 */
export async function withPeer<T>(
  peer: PeerName,
  config: BenchConfig,
  label: string,
  body: (run: PeerRun) => Promise<T>,
): Promise<T> {
  const server = spawnServer(peer, config, storeFor(config, `${label}-${peer}`));
  const load = spawnLoad(peer, config);
  try {
    const description = await server.call('describe', {}, 20_000);
    const { port } = await server.call('listen', { port: 0 });
    return await body({ peer, server, load, port, description });
  } finally {
    await load.stop();
    await server.stop();
  }
}
