/**
 * The process around a peer server: an HTTP server on loopback, the peer on it, and the
 * orchestrator's commands (listen, publish, stats) over IPC. Publishing happens here,
 * server-side, for every peer alike.
 */
import { createServer } from 'node:http';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { serve, type Handlers } from '../ipc.js';
import {
  benchData,
  now,
  userOf,
  type PushResult,
  type ServerCommands,
  type ServerPart,
} from '../protocol.js';
import { percentile, processStats } from '../stats.js';
import { pace } from './pace.js';
import type { PeerFactory } from './types.js';

/** Publishes `pushEach` issues before it yields to the event loop. */
const PUSH_EACH_CHUNK = 500;

/**
 * From now until `stop()`: how late the event loop ran (a 10 ms timer's delay) and how long
 * garbage collection paused it — where a server's latency tail comes from when its CPU
 * is not saturated.
 */
function watchStalls(): { stop(): Omit<ServerPart, 'p50' | 'p99'> } {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let gcPauseTotal = 0;
  let gcPauseMax = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPauseTotal += entry.duration;
      gcPauseMax = Math.max(gcPauseMax, entry.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      loop.disable();
      gc.disconnect();
      // The histogram is in ns, and counts the timer's own 10 ms.
      const late = (ns: number): number => Math.max(0, ns / 1e6 - 10);
      return {
        loopDelayP99: late(loop.percentile(99)),
        loopDelayMax: late(loop.max),
        gcPauseTotal,
        gcPauseMax,
      };
    },
  };
}

export async function runPeerServer(factory: PeerFactory): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'memory' },
      auth: { type: 'string', default: 'hook' },
      secret: { type: 'string', default: 'lifeline-bench-secret' },
    },
  });
  const auth = values.auth === 'jwt' ? 'jwt' : 'hook';
  const http = createServer();
  // Each peer answers upgrades only; plain requests get a bare 404.
  http.on('request', (_req, res) => res.writeHead(404).end());
  const peer = await factory(http, { store: values.store, auth, secret: values.secret });
  let broadcastSeq = 0;

  async function pushAll(
    users: number,
    run: (emit: (k: number) => Promise<unknown> | void) => Promise<Omit<PushResult, 'perUser'>>,
  ): Promise<PushResult> {
    const perUser = new Array<number>(users).fill(0);
    const result = await run((k) => {
      const user = k % users;
      return peer.push(userOf(user), benchData(++perUser[user]!));
    });
    return { ...result, perUser };
  }

  /**
   * `emit`, timed: per call, how long until the server handed the message's frames to the
   * sockets (a synchronous call: until it returned; a promise: until it settled).
   */
  function timing(emit: (k: number) => Promise<unknown> | void): {
    emit: (k: number) => Promise<unknown> | void;
    summary(): ServerPart;
  } {
    const took: number[] = [];
    const stalls = watchStalls();
    return {
      emit(k) {
        const started = now();
        const result = emit(k);
        if (result === undefined) {
          took.push(now() - started);
          return undefined;
        }
        return result.then(() => void took.push(now() - started));
      },
      summary() {
        took.sort((a, b) => a - b);
        return { p50: percentile(took, 0.5), p99: percentile(took, 0.99), ...stalls.stop() };
      },
    };
  }

  const handlers: Handlers<ServerCommands> = {
    describe: () => ({ peer: peer.peer, store: peer.store, auth: peer.auth }),
    listen: ({ port }) =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        // A generous backlog: a reconnect storm must not be limited by the listen queue.
        http.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
          http.off('error', reject);
          const address = http.address();
          resolve({ port: typeof address === 'object' && address ? address.port : port });
        });
      }),
    stats: ({ gc }) => processStats(gc),
    count: ({ channel }) => peer.count(channel),
    publish: async ({ channel, count }) => {
      // Concurrently, as a backend publishing flat out would: a durable log commits the
      // burst in one transaction instead of one per message.
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < count; i++) {
        const result = peer.broadcast(channel, benchData(++broadcastSeq));
        if (result !== undefined) pending.push(result);
      }
      await Promise.all(pending);
      return { sent: count };
    },
    broadcastRate: async ({ channel, rate, durationMs }) => {
      const timed = timing(() => peer.broadcast(channel, benchData(++broadcastSeq)));
      const paced = await pace(rate, durationMs, timed.emit);
      return { ...paced, server: timed.summary() };
    },
    pushRate: async ({ users, rate, durationMs }) => {
      let server: ServerPart | undefined;
      const pushed = await pushAll(users, async (emit) => {
        const timed = timing(emit);
        const paced = await pace(rate, durationMs, timed.emit);
        server = timed.summary();
        return paced;
      });
      return { ...pushed, ...(server === undefined ? {} : { server }) };
    },
    pushEach: ({ users, count }) =>
      pushAll(users, async (emit) => {
        const started = performance.now();
        const pending: Promise<unknown>[] = [];
        for (let k = 0; k < users * count; k++) {
          const result = emit(k);
          if (result !== undefined) pending.push(result);
          // Publishes arrive over time, not in one synchronous loop: let the process do
          // its other work (commits, accepting connections, IPC) in between.
          if (k % PUSH_EACH_CHUNK === PUSH_EACH_CHUNK - 1) await new Promise(setImmediate);
        }
        await Promise.all(pending);
        return { sent: users * count, behind: 0, elapsedMs: performance.now() - started };
      }),
    shutdown: async () => {
      // Bounded: a peer waiting for closing handshakes must not hold up the run.
      await Promise.race([peer.close(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
      http.closeAllConnections();
      http.close();
    },
  };
  serve<ServerCommands>(handlers);
}
