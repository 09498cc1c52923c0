/**
 * The load generator: a child process holding every benchmark client of one run. It
 * connects them with bounded concurrency, counts and times deliveries, checks per-client
 * order, and follows a reconnect storm. Its own CPU time is reported so a saturated load
 * generator is visible next to the server's figures.
 */
import { SignJWT } from 'jose';
import { serve } from '../ipc.js';
import {
  now,
  userOf,
  type BenchData,
  type ConnectArgs,
  type ConnectResult,
  type LoadCommands,
  type StormStatus,
} from '../protocol.js';
import { Reservoir, percentile, processStats } from '../stats.js';
import { openClient, type LoadClient } from './clients.js';

/** Latencies kept per measurement (a uniform sample beyond that). */
const LATENCY_SAMPLE = 1_000_000;

let clients: (LoadClient | undefined)[] = [];
let open = new Uint8Array(0);
let openCount = 0;

// Measurement, reset by measureStart.
let delivered = 0;
let firstAt = 0;
let lastAt = 0;
let measureFrom = 0;
let cpuFrom = 0;
const latency = new Reservoir(LATENCY_SAMPLE);
let checkOrder = false;
let expected = new Int32Array(0);
let inOrder = new Int32Array(0);
let duplicates = 0;
let gaps = 0;

// Reconnect storm, reset by stormArm.
let stormArmed = false;
let wentDown = new Uint8Array(0);
let cameBack = new Uint8Array(0);
let stormDown = 0;
let stormBack = 0;
let allBackAt = 0;
let backTimes: number[] = [];

function onData(index: number, data: BenchData): void {
  const at = now();
  delivered++;
  if (firstAt === 0) firstAt = at;
  lastAt = at;
  latency.add(at - data.t);
  if (!checkOrder) return;
  const want = expected[index]!;
  if (data.s === want) {
    expected[index] = want + 1;
    inOrder[index]!++;
  } else if (data.s < want) duplicates++;
  else {
    gaps++;
    expected[index] = data.s + 1;
  }
}

function onState(index: number, isOpen: boolean): void {
  if (open[index] === (isOpen ? 1 : 0)) return;
  open[index] = isOpen ? 1 : 0;
  openCount += isOpen ? 1 : -1;
  if (!stormArmed) return;
  if (!isOpen && wentDown[index] === 0) {
    wentDown[index] = 1;
    stormDown++;
  } else if (isOpen && wentDown[index] === 1 && cameBack[index] === 0) {
    cameBack[index] = 1;
    backTimes.push(now());
    if (++stormBack === clients.length) allBackAt = now();
  }
}

async function tokenFor(args: ConnectArgs, index: number): Promise<string> {
  const user = userOf(index);
  if (args.peer !== 'lifeline' || args.auth !== 'jwt') return user;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(args.secret));
}

function reset(n: number): void {
  for (const client of clients) client?.close();
  clients = new Array<LoadClient | undefined>(n);
  open = new Uint8Array(n);
  openCount = 0;
  expected = new Int32Array(n).fill(1);
  inOrder = new Int32Array(n);
}

async function connect(args: ConnectArgs): Promise<ConnectResult> {
  reset(args.clients);
  const started = now();
  const cpu = processStats().cpuUs;
  const deadline = started + args.timeoutMs;
  let next = 0;
  let connected = 0;
  let failed = 0;
  let firstError: string | undefined;
  const events = { data: onData, state: onState };
  const worker = async (): Promise<void> => {
    while (next < args.clients && now() < deadline) {
      const index = next++;
      const token = await tokenFor(args, index);
      const client = openClient(
        { peer: args.peer, port: args.port, index, token, channel: args.channel },
        events,
      );
      clients[index] = client;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('connect timed out')), deadline - now());
      });
      try {
        await Promise.race([client.ready, timeout]);
        connected++;
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.concurrency, args.clients) }, worker));
  failed += args.clients - next;
  return {
    connected,
    failed,
    elapsedMs: now() - started,
    cpuUs: processStats().cpuUs - cpu,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

let progressTimer: NodeJS.Timeout | undefined;

const ipc = serve<LoadCommands>({
  connect,
  measureStart: ({ order }) => {
    delivered = firstAt = lastAt = duplicates = gaps = 0;
    latency.reset();
    checkOrder = order;
    expected.fill(1);
    inOrder.fill(0);
    measureFrom = now();
    cpuFrom = processStats().cpuUs;
  },
  measureStop: () => ({
    deliveries: delivered,
    elapsedMs: now() - measureFrom,
    cpuUs: processStats().cpuUs - cpuFrom,
    firstAt,
    lastAt,
    latency: latency.summary(),
  }),
  delivered: () => delivered,
  progress: ({ intervalMs }) => {
    clearTimeout(progressTimer);
    if (intervalMs <= 0) return;
    const tick = (): void => {
      ipc.emit('progress', delivered);
      progressTimer = setTimeout(tick, intervalMs);
    };
    tick();
  },
  verify: ({ perUser }) => {
    let lost = 0;
    perUser.forEach((sent, user) => (lost += Math.max(0, sent - (inOrder[user] ?? 0))));
    return { lost, duplicates, gaps };
  },
  stormArm: () => {
    stormArmed = true;
    wentDown = new Uint8Array(clients.length);
    cameBack = new Uint8Array(clients.length);
    stormDown = stormBack = allBackAt = 0;
    backTimes = [];
    delivered = firstAt = lastAt = 0;
  },
  stormStatus: (): StormStatus => ({
    down: stormDown,
    open: openCount,
    back: stormBack,
    allBackAt,
    // In arrival order, so already ascending.
    halfBackAt: allBackAt > 0 ? percentile(backTimes, 0.5) : 0,
    mostBackAt: allBackAt > 0 ? percentile(backTimes, 0.95) : 0,
    delivered,
    lastDeliveryAt: lastAt,
  }),
  stats: () => processStats(),
  shutdown: () => {
    clearTimeout(progressTimer);
    for (const client of clients) client?.close();
  },
});
