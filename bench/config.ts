/** Command-line options of `npm run bench`, with the quick and full presets. */
import { parseArgs } from 'node:util';
import { PEERS, type PeerName } from './protocol.js';

export const SCENARIOS = ['idle', 'broadcast', 'push', 'storm', 'size'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchConfig {
  readonly quick: boolean;
  /** Each peer runs once per round; the report shows the median over rounds. */
  readonly rounds: number;
  readonly peers: readonly PeerName[];
  readonly scenarios: readonly ScenarioName[];
  readonly idleClients: number;
  readonly subscribers: readonly number[];
  readonly pushUsers: number;
  /** Target per-user push rates, in messages/s across all users. */
  readonly pushRates: readonly number[];
  readonly stormClients: number;
  /** Length of each measured phase (max rate, fixed rate, push), in ms. */
  readonly durationMs: number;
  /** Deliveries/s the fixed-rate broadcast aims at (message rate = this / subscribers). */
  readonly fixedDeliveries: number;
  /** Broadcast messages in flight (published, not yet delivered everywhere) at max rate. */
  readonly window: number;
  /** Connections opened at once by the load generator. */
  readonly concurrency: number;
  /** Lifeline's store: `sqlite` (message log and acks in one file, the default) or `memory`. */
  readonly store: 'memory' | 'sqlite';
  readonly auth: 'hook' | 'jwt';
  /** How long the killed server stays down in the reconnect storm, in ms. */
  readonly downMs: number;
  /** Messages published to every user while the server is down. */
  readonly missed: number;
  readonly markdownPath: string | undefined;
  readonly jsonPath: string | undefined;
  /**
   * Write a `--cpu-prof` profile of every server and load-generator process into this
   * directory (`<dir>/<peer>/` and `<dir>/<peer>-load/`); the report summarizes Lifeline's
   * server.
   */
  readonly cpuProfDir: string | undefined;
  /** Hard limit on the whole run, in s. */
  readonly budgetS: number;
  /** Measure nothing: write the markdown report again from this results file. */
  readonly render: string | undefined;
}

const USAGE = `Usage: npm run bench -- [--quick] [options]
  --quick                  about a minute: small numbers, one round
  --rounds <n>             rounds; peers alternate within each round
  --peers <list>           ${PEERS.join(',')}
  --scenarios <list>       ${SCENARIOS.join(',')}
  --idle <n>               idle connections
  --subscribers <list>     broadcast subscriber counts, e.g. 1000,5000
  --push-users <n>         users (one client each) in the push scenario
  --push-rates <list>      push rates in messages/s, e.g. 20000,40000
  --storm <n>              clients in the reconnect storm
  --duration-ms <ms>       length of each measured phase
  --fixed-deliveries <n>   deliveries/s of the fixed-rate broadcast
  --window <n>             broadcast messages in flight at max rate
  --concurrency <n>        connections opened at once
  --store sqlite|memory    Lifeline's store (default sqlite, as \`lifeline serve\`)
  --auth hook|jwt          Lifeline authentication
  --down-ms <ms>           how long the server stays down in the storm
  --missed <n>             messages per user published while it is down
  --md <file>              markdown report (default: docs/BENCHMARKS.md; quick: a temp file)
  --json <file>            raw results (default: docs/benchmarks.json; quick: a temp file)
  --cpu-prof <dir>         profile every process (node --cpu-prof) into <dir>/<peer>[-load]/
  --budget-s <s>           hard time limit of the whole run
  --render <json>          rewrite the markdown report from a results file, measuring nothing`;

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

function ints(name: string, value: string | undefined, fallback: readonly number[]): number[] {
  return list(value)?.map((v) => int(name, v, 0)) ?? [...fallback];
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got ${value}`);
  }
  return value as T;
}

export class UsageError extends Error {
  readonly usage = USAGE;
}

export function parseConfig(argv: readonly string[]): BenchConfig | 'help' {
  const { values: v } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      rounds: { type: 'string' },
      peers: { type: 'string' },
      scenarios: { type: 'string' },
      idle: { type: 'string' },
      subscribers: { type: 'string' },
      'push-users': { type: 'string' },
      'push-rates': { type: 'string' },
      storm: { type: 'string' },
      'duration-ms': { type: 'string' },
      'fixed-deliveries': { type: 'string' },
      window: { type: 'string' },
      concurrency: { type: 'string' },
      store: { type: 'string', default: 'sqlite' },
      auth: { type: 'string', default: 'hook' },
      'down-ms': { type: 'string' },
      missed: { type: 'string' },
      md: { type: 'string' },
      json: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'budget-s': { type: 'string' },
      render: { type: 'string' },
    },
  });
  if (v.help) return 'help';
  const quick = v.quick;
  return {
    quick,
    rounds: int('rounds', v.rounds, quick ? 1 : 3),
    peers: (list(v.peers) ?? [...PEERS]).map((p) => oneOf('peers', p, PEERS)),
    scenarios: (list(v.scenarios) ?? [...SCENARIOS]).map((s) => oneOf('scenarios', s, SCENARIOS)),
    idleClients: int('idle', v.idle, quick ? 1_000 : 10_000),
    subscribers: ints('subscribers', v.subscribers, quick ? [200] : [1_000, 5_000]),
    pushUsers: int('push-users', v['push-users'], quick ? 200 : 5_000),
    pushRates: ints('push-rates', v['push-rates'], quick ? [2_000, 4_000] : [20_000, 40_000]),
    stormClients: int('storm', v.storm, quick ? 500 : 5_000),
    durationMs: int('duration-ms', v['duration-ms'], quick ? 2_000 : 3_000),
    fixedDeliveries: int('fixed-deliveries', v['fixed-deliveries'], quick ? 10_000 : 20_000),
    window: int('window', v.window, 32),
    concurrency: int('concurrency', v.concurrency, 100),
    store: oneOf('store', v.store, ['sqlite', 'memory'] as const),
    auth: oneOf('auth', v.auth, ['hook', 'jwt'] as const),
    downMs: int('down-ms', v['down-ms'], 500),
    missed: int('missed', v.missed, 5),
    markdownPath: v.md,
    jsonPath: v.json,
    cpuProfDir: v['cpu-prof'],
    budgetS: int('budget-s', v['budget-s'], quick ? 240 : 900),
    render: v.render,
  };
}
