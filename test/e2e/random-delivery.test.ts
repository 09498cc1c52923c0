/**
 * Lifeline's delivery promise under faults, end to end and randomized: the built
 * `lifeline serve` with its SQLite store, many real clients behind faulty TCP proxies, a
 * backend publishing thousands of messages over the HTTP API to users and channels, and
 * meanwhile every connection cut, single connections cut or left half-open, and the
 * gateway process SIGKILLed (with publishes in flight) and started again on the same
 * data. A quarter of the clients use HTTP long-polling instead of WebSocket. Afterwards every client's application must have received every message addressed
 * to it exactly once, in order per stream.
 *
 * The scenario (who subscribes to what, the targets, which fault strikes after which
 * publish) comes from a seed: `LIFELINE_SEED=<n>` replays a run; the seed is printed first.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createNodeClient, type LifelineClient } from '../../src/entries/node.js';
import { assertBuilt } from '../helpers/cli.js';
import { DeliveryLedger, type Delivery, type Receiver } from '../helpers/delivery-ledger.js';
import { freePort, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { signHs256 } from '../helpers/jwt.js';
import { createPrng, seedFromEnv, type Prng } from '../helpers/prng.js';
import { publishApi, type PublishApi, type PublishTarget } from '../helpers/publish-api.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const DEFAULT_SEED = 0x11fe11e;
const USERS = 8;
const CHANNELS = 4;
const CLIENTS = 20;
const MESSAGES = 3_000;
/** Publishes in flight at once (one per stream at a time, so each stream keeps its order). */
const CONCURRENCY = 4;
/** Everything, setup and teardown included, stays inside the runner's 60 s. */
const BUDGET_MS = 50_000;
const SECRET = 'random-delivery-secret-long-enough-for-hs256';
const API_KEY = 'random-delivery-api-key';

type Fault =
  | { readonly kind: 'cut-all' }
  | { readonly kind: 'cut-one'; readonly client: number }
  | { readonly kind: 'freeze-one'; readonly client: number }
  | { readonly kind: 'restart' };

interface Planned {
  readonly seq: number;
  readonly to: PublishTarget;
  /** Faults injected just before this message is published. */
  readonly faults: Fault[];
}

/** One client and everything the test knows about it. */
interface Peer extends Receiver {
  readonly client: LifelineClient;
  readonly proxy: TcpProxy;
  readonly deliveries: Delivery[];
  readonly errors: Error[];
  sessions: number;
}

const userStream = (user: string): string => `user:${user}`;
const channelStream = (channel: string): string => `channel:${channel}`;

function streamsOf(to: PublishTarget): string[] {
  if ('channel' in to) return [channelStream(to.channel)];
  if ('user' in to) return [userStream(to.user)];
  return to.users.map(userStream);
}

function seqOf(data: unknown): number | undefined {
  const seq = (data as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' ? seq : undefined;
}

/** The publish script and the faults between its messages, all drawn from `rng`. */
function plan(rng: Prng, users: string[], channels: string[]): Planned[] {
  const script: Planned[] = [];
  for (let seq = 1; seq <= MESSAGES; seq++) {
    const roll = rng.next();
    const to: PublishTarget =
      roll < 0.45
        ? { user: rng.pick(users) }
        : roll < 0.55
          ? { users: rng.sample(users, 2) }
          : { channel: rng.pick(channels) };
    script.push({ seq, to, faults: [] });
  }
  const at = (from: number, to: number): Fault[] =>
    (script[rng.int(Math.floor(MESSAGES * from), Math.floor(MESSAGES * to) - 1)] as Planned).faults;
  // Restarts are kept apart so each one is its own outage.
  const restarts = rng.int(1, 2);
  for (let r = 0; r < restarts; r++) {
    at(0.15 + (0.7 * r) / restarts, 0.15 + (0.7 * (r + 0.6)) / restarts).push({ kind: 'restart' });
  }
  for (let n = rng.int(2, 4); n > 0; n--) at(0.05, 0.95).push({ kind: 'cut-all' });
  for (let n = rng.int(8, 14); n > 0; n--) {
    at(0.02, 0.98).push({ kind: 'cut-one', client: rng.int(0, CLIENTS - 1) });
  }
  for (let n = rng.int(2, 4); n > 0; n--) {
    at(0.02, 0.9).push({ kind: 'freeze-one', client: rng.int(0, CLIENTS - 1) });
  }
  // Last, one message to every stream: each stream then ends with an acknowledged
  // message, so a stored message nobody received shows as a gap before it.
  const finals: PublishTarget[] = [
    ...users.map((user) => ({ user })),
    ...channels.map((channel) => ({ channel })),
  ];
  for (const to of finals) script.push({ seq: script.length + 1, to, faults: [] });
  return script;
}

/**
 * Publish untracked messages to every stream until each client has received at least
 * one on each of its streams. From then on every client holds a position on every stream
 * it receives, so it resumes each of them after any fault, and the set of tracked
 * messages it must receive is exactly those published later.
 */
async function warmUp(api: PublishApi, peers: readonly Peer[], deadline: number): Promise<number> {
  const lacking = (): Set<string> => {
    const streams = new Set<string>();
    for (const p of peers) {
      for (const s of p.streams) if (!p.deliveries.some((d) => d.stream === s)) streams.add(s);
    }
    return streams;
  };
  let sent = 0;
  for (let round = 1; ; round++) {
    const streams = lacking();
    if (streams.size === 0) return sent;
    if (round > 50 || Date.now() > deadline) {
      throw new Error(`warm-up: still nothing received on ${[...streams].join(', ')}`);
    }
    for (const stream of streams) {
      const [kind, name] = stream.split(':') as [string, string];
      const to: PublishTarget = kind === 'user' ? { user: name } : { channel: name };
      await api.publish(to, { warmUp: round }, deadline);
      sent++;
    }
    await waitFor(() => assert.equal(lacking().size, 0), { timeoutMs: 200, intervalMs: 10 }).catch(
      () => {},
    );
  }
}

/** The gateway process, its data directory, and the clients, each behind its own proxy. */
interface Rig extends AsyncDisposable {
  readonly gateway: GatewayProcess;
  readonly api: PublishApi;
  readonly peers: readonly Peer[];
}

async function startRig(rng: Prng, users: string[], channels: string[]): Promise<Rig> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-random-delivery-'));
  const peers: Peer[] = [];
  let gateway: GatewayProcess | undefined;
  const dispose = async (): Promise<void> => {
    await Promise.all(peers.map((p) => p.client.close()));
    await Promise.all(peers.map((p) => p.proxy.close()));
    await gateway?.[Symbol.asyncDispose]();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    gateway = await startGatewayProcess({
      port: await freePort(),
      dataDir,
      jwtSecret: SECRET,
      apiKey: API_KEY,
    });
    // Every client has its own proxy, so one client's connection can be cut alone, and its
    // own device: the default policy lets a session replace another of the same device.
    for (let i = 0; i < CLIENTS; i++) {
      const user = users[i % USERS] as string;
      const subscribed = rng.sample(channels, rng.int(1, 3));
      const proxy = await startTcpProxy(gateway.port);
      // Every fourth client carries its session over HTTP long-polling: same promise.
      const polling = i % 4 === 3;
      const client = createNodeClient({
        url: `ws://127.0.0.1:${proxy.port}/ws`,
        ...(polling ? { transports: ['polling'] as const } : {}),
        token: () => signHs256(SECRET, { sub: user }),
        device: `device-${i}`,
        random: rng.fork().next,
        minReconnectDelayMs: 10,
        maxReconnectDelayMs: 100,
        pingIntervalMs: 400,
        pongTimeoutMs: 400,
        connectTimeoutMs: 3_000,
      });
      const peer: Peer = {
        name: `client ${i} (${user}, device-${i}, ${polling ? 'polling' : 'websocket'})`,
        streams: [userStream(user), ...subscribed.map(channelStream)],
        client,
        proxy,
        deliveries: [],
        errors: [],
        sessions: 0,
      };
      client.on('message', (m) =>
        peer.deliveries.push({
          stream: m.stream,
          epoch: m.epoch,
          offset: m.offset,
          seq: seqOf(m.data),
        }),
      );
      client.on('state', ({ to }) => {
        if (to.kind === 'open') peer.sessions++;
      });
      client.on('error', (error) => peer.errors.push(error));
      // Subscribed before the first session, so every session subscribes them at once.
      for (const channel of subscribed) client.subscribe(channel);
      peers.push(peer);
    }
    await Promise.all(peers.map((p) => p.client.connect()));
    return {
      gateway,
      api: publishApi(gateway.url, API_KEY),
      peers,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

interface RunCounts {
  /** Publish attempts refused while the gateway was down (then retried). */
  refused: number;
  /** Publishes cut off by a kill, their outcome unknown. */
  cutOff: number;
  cutAll: number;
  cutOne: number;
  freezeOne: number;
  restarts: number;
}

/**
 * Publish the script, at most {@link CONCURRENCY} at once and one at a time per stream,
 * injecting each message's faults just before it. Records every outcome in `ledger`.
 */
async function runScript(
  rig: Rig,
  script: readonly Planned[],
  ledger: DeliveryLedger,
  deadline: number,
): Promise<RunCounts> {
  const { gateway, api, peers } = rig;
  const counts: RunCounts = {
    refused: 0,
    cutOff: 0,
    cutAll: 0,
    cutOne: 0,
    freezeOne: 0,
    restarts: 0,
  };
  const inFlight = new Set<Promise<void>>();
  // The last publish of each stream: the next one to the stream waits for it.
  const tails = new Map<string, Promise<unknown>>();
  let failure: unknown;
  let restarting: Promise<void> = Promise.resolve();

  const inject = async (fault: Fault): Promise<void> => {
    switch (fault.kind) {
      case 'cut-all':
        counts.cutAll++;
        for (const p of peers) p.proxy.cut();
        return;
      case 'cut-one':
        counts.cutOne++;
        peers[fault.client]?.proxy.cut();
        return;
      case 'freeze-one':
        // Half-open: no FIN, no RST; only the client's heartbeat can notice.
        counts.freezeOne++;
        peers[fault.client]?.proxy.freeze();
        return;
      case 'restart':
        counts.restarts++;
        await restarting;
        // Killed with publishes in flight: those are neither retried nor counted as
        // published; the ledger settles them from what the clients received. Publishes
        // made while it is down are refused and retried until the new process takes them.
        await gateway.kill();
        restarting = gateway.start();
        restarting.catch(() => {});
        return;
    }
  };

  const launch = (message: Planned): void => {
    const streams = streamsOf(message.to);
    const before = Promise.all(streams.map((s) => tails.get(s)));
    const done = before.then(async () => {
      const outcome = await api.publish(message.to, { seq: message.seq }, deadline);
      counts.refused += outcome.refused;
      if (outcome.kind === 'acknowledged') {
        ledger.published(message.seq, outcome.answer.positions);
      } else {
        counts.cutOff++;
        ledger.uncertain(message.seq, streams);
      }
    });
    for (const s of streams) tails.set(s, done);
    const tracked = done.then(
      () => {},
      (error: unknown) => {
        failure ??= error;
      },
    );
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
  };

  try {
    for (const message of script) {
      if (failure !== undefined) break;
      if (Date.now() > deadline) throw new Error(`publishing did not finish in ${BUDGET_MS} ms`);
      for (const fault of message.faults) await inject(fault);
      while (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
      launch(message);
    }
  } finally {
    // Publishes are bounded by the deadline, the restart by the CLI's start timeout.
    await Promise.all(inFlight);
  }
  await restarting;
  if (failure !== undefined) throw failure;
  return counts;
}

describe('randomized delivery under faults', () => {
  it(
    'every client gets every message addressed to it exactly once, in order per stream',
    { timeout: 60_000 },
    async () => {
      const seed = seedFromEnv('LIFELINE_SEED', DEFAULT_SEED);
      console.log(`random-delivery: seed ${seed} (replay with LIFELINE_SEED=${seed})`);
      const startedAt = Date.now();
      const deadline = startedAt + BUDGET_MS;
      assertBuilt();
      const rng = createPrng(seed);
      const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
      const channels = Array.from({ length: CHANNELS }, (_, i) => `room-${i}`);
      const rigRng = rng.fork();
      const script = plan(rng.fork(), users, channels);

      await using rig = await startRig(rigRng, users, channels);
      const { peers } = rig;
      const warmUps = await warmUp(rig.api, peers, deadline);
      const ledger = new DeliveryLedger();
      const counts = await runScript(rig, script, ledger, deadline);
      const publishedAt = Date.now();

      await waitFor(
        () => {
          const outstanding = peers.reduce((n, p) => n + ledger.outstanding(p), 0);
          assert.equal(outstanding, 0, `${outstanding} deliveries still outstanding`);
        },
        { timeoutMs: Math.max(1_000, Math.min(20_000, deadline - Date.now())), intervalMs: 50 },
      ).catch(() => {
        // The checks below say precisely what is missing, and where.
      });

      const acknowledged = ledger.total;
      const settled = ledger.settle(peers);
      const problems: string[] = [...settled.problems];
      let verified = 0;
      let streams = 0;
      for (const peer of peers) {
        const verdict = ledger.verify(peer);
        verified += verdict.verified;
        streams += verdict.streams;
        problems.push(...verdict.problems);
        if (peer.client.state.kind !== 'open') {
          problems.push(`${peer.name} ended in state ${peer.client.state.kind}`);
        }
        for (const error of peer.errors) problems.push(`${peer.name} reported ${String(error)}`);
      }

      const targets = { user: 0, users: 0, channel: 0 };
      for (const { to } of script) {
        targets['channel' in to ? 'channel' : 'user' in to ? 'user' : 'users']++;
      }
      const subscriptions = peers.reduce((n, p) => n + p.streams.length - 1, 0);
      const sessions = peers.reduce((n, p) => n + p.sessions, 0);
      const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        [
          `random-delivery: seed ${seed}`,
          `  setup: ${CLIENTS} clients of ${USERS} users (a device each, a TCP proxy each), ` +
            `${CHANNELS} channels, ${subscriptions} subscriptions; ${warmUps} untracked warm-up messages`,
          `  published: ${script.length} messages over HTTP (${targets.user} to a user, ` +
            `${targets.users} to two users, ${targets.channel} to a channel), ` +
            `${acknowledged} stream positions acknowledged; ${counts.cutOff} cut off by a kill, ` +
            `settled per stream as ${settled.stored} stored and ${settled.absent} not stored; ` +
            `${counts.refused} attempts refused while the gateway was down, retried`,
          `  faults: ${counts.cutAll} cuts of every connection, ${counts.cutOne} of one connection, ` +
            `${counts.freezeOne} connections left half-open, gateway SIGKILLed and restarted on ` +
            `the same SQLite data ${counts.restarts}×; ${sessions} sessions opened`,
          `  verified: ${streams} client streams, ${verified} deliveries — each exactly once, ` +
            `offsets contiguous in one epoch, seq in publish order, none missing, none stray; ` +
            `${problems.length} problems`,
          `  time: ${seconds(publishedAt - startedAt)} to publish, ` +
            `${seconds(Date.now() - startedAt)} until checked`,
        ].join('\n'),
      );
      assert.deepEqual(
        problems.slice(0, 40),
        [],
        `seed ${seed}: ${problems.length} delivery problems (replay with LIFELINE_SEED=${seed})`,
      );
    },
  );
});
