/**
 * What the orchestrator, the peer servers and the load generator say to each other, and
 * the message every peer pushes. Shared by all three kinds of process.
 */
import { performance } from 'node:perf_hooks';

export const PEERS = ['ws', 'socketio', 'lifeline'] as const;
export type PeerName = (typeof PEERS)[number];

/** The pushed message: sequence number, publish time, padding to about 100 bytes of JSON. */
export interface BenchData {
  /** Sequence number: per broadcast run, or per user for pushes (from 1). */
  readonly s: number;
  /** Publish time, ms since the Unix epoch with sub-ms precision ({@link now}). */
  readonly t: number;
  readonly p: string;
}

const PAD = 'x'.repeat(60);

export function benchData(seq: number): BenchData {
  return { s: seq, t: now(), p: PAD };
}

/** Wall-clock time with sub-millisecond precision, comparable across processes on one host. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The channel every broadcast subscriber joins. */
export const CHANNEL = 'bench';

/** User id of load client number `index`. */
export function userOf(index: number): string {
  return `u${index}`;
}

export interface ProcessStats {
  /** CPU time (user + system) since the process started, in µs. */
  readonly cpuUs: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** Memory outside the V8 heap (Buffers and the like), in bytes. */
  readonly external: number;
  /** When the sample was taken ({@link now}). */
  readonly at: number;
}

export interface PaceResult {
  readonly sent: number;
  /** Messages that were due but not sent because too many publishes were in flight. */
  readonly behind: number;
  readonly elapsedMs: number;
}

/**
 * Per message, the server's own part of its latency: from the publish call until every
 * receiver's frame was handed to its socket (ws, Socket.IO: the call returned, it is
 * synchronous; Lifeline: its promise settled, after the commit and the fan-out), in ms.
 */
export interface ServerPart {
  readonly p50: number;
  readonly p99: number;
  /** The server's event loop during the phase: how late a 10 ms timer ran, p99 and max (ms). */
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
  /** Garbage collection during the phase: pauses in all (ms), the longest one (ms). */
  readonly gcPauseTotal: number;
  readonly gcPauseMax: number;
}

export interface BroadcastResult extends PaceResult {
  readonly server: ServerPart;
}

export interface PushResult extends PaceResult {
  /** Messages sent per user, indexed like the load clients. */
  readonly perUser: number[];
  /** At a paced rate (`pushRate`) only. */
  readonly server?: ServerPart;
}

export type ServerCommands = {
  describe: {
    args: Record<string, never>;
    result: { peer: PeerName; store: string; auth: string };
  };
  listen: { args: { port: number }; result: { port: number } };
  stats: { args: { gc: boolean }; result: ProcessStats };
  /** Authenticated connections, or subscribers of `channel`. */
  count: { args: { channel?: string }; result: number };
  /** Broadcast `count` messages on `channel` now. */
  publish: { args: { channel: string; count: number }; result: { sent: number } };
  broadcastRate: {
    args: { channel: string; rate: number; durationMs: number };
    result: BroadcastResult;
  };
  /** Per-user messages to users 0..users−1, round robin, at `rate` messages/s. */
  pushRate: { args: { users: number; rate: number; durationMs: number }; result: PushResult };
  /** `count` messages to every user 0..users−1, as fast as possible. */
  pushEach: { args: { users: number; count: number }; result: PushResult };
  shutdown: { args: Record<string, never>; result: void };
};

export interface ConnectArgs {
  readonly peer: PeerName;
  readonly port: number;
  readonly clients: number;
  /** Connections being opened at once. */
  readonly concurrency: number;
  /** Subscribe every client to this channel. */
  readonly channel?: string;
  /** `jwt`: Lifeline clients send an HS256 JWT signed with `secret`; otherwise the user id. */
  readonly auth: 'hook' | 'jwt';
  readonly secret: string;
  readonly timeoutMs: number;
}

export interface ConnectResult {
  readonly connected: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly cpuUs: number;
  readonly firstError?: string;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface Measurement {
  readonly deliveries: number;
  readonly elapsedMs: number;
  /** Load-generator CPU time over the measurement, in µs. */
  readonly cpuUs: number;
  /** Time of the first and the last delivery ({@link now}); 0 when none. */
  readonly firstAt: number;
  readonly lastAt: number;
  readonly latency: LatencySummary;
}

export interface OrderCheck {
  /** Messages the server sent that no client delivered (in order). */
  readonly lost: number;
  /** Messages delivered more than once, or behind one already delivered. */
  readonly duplicates: number;
  /** Times a client saw a sequence number ahead of the next expected one. */
  readonly gaps: number;
}

export interface StormStatus {
  readonly down: number;
  readonly open: number;
  /** Clients that went down after `stormArm` and are open again. */
  readonly back: number;
  /** When the last of those came back ({@link now}); 0 while some are still away. */
  readonly allBackAt: number;
  /** Once all are back: when half of them, and 95% of them, were back. */
  readonly halfBackAt: number;
  readonly mostBackAt: number;
  /** Messages delivered since `stormArm`. */
  readonly delivered: number;
  readonly lastDeliveryAt: number;
}

export type LoadCommands = {
  connect: { args: ConnectArgs; result: ConnectResult };
  /** Reset counters; record latencies (and check per-client order) until `measureStop`. */
  measureStart: { args: { order: boolean }; result: void };
  measureStop: { args: Record<string, never>; result: Measurement };
  /** Deliveries since `measureStart`, now. */
  delivered: { args: Record<string, never>; result: number };
  /** Emit `progress` events with the delivery count every `intervalMs` (0 stops). */
  progress: { args: { intervalMs: number }; result: void };
  verify: { args: { perUser: number[] }; result: OrderCheck };
  stormArm: { args: Record<string, never>; result: void };
  stormStatus: { args: Record<string, never>; result: StormStatus };
  stats: { args: Record<string, never>; result: ProcessStats };
  shutdown: { args: Record<string, never>; result: void };
};

/** Where each peer's server listens for WebSocket upgrades. */
export const WS_PATH = '/ws';
