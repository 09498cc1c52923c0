/**
 * A `lifeline serve` child process that can crash and come back: SIGKILL it (no graceful
 * shutdown, no close frames, whatever SQLite had not committed is gone) and start it again
 * on the same port and the same `--data` directory, as a supervisor would after a crash.
 */
import { createServer } from 'node:net';
import { startCli, type RunningCli } from './cli.js';

/** A TCP port that was free a moment ago: bind port 0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port was bound'))));
    });
  });
}

export interface GatewayProcessOptions {
  readonly port: number;
  /** `--data`: the SQLite store, kept across restarts. */
  readonly dataDir: string;
  readonly jwtSecret: string;
  readonly apiKey: string;
}

export interface GatewayProcess extends AsyncDisposable {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The running process; `undefined` between {@link kill} and {@link start}. */
  readonly current: RunningCli | undefined;
  /** Processes started so far. */
  readonly starts: number;
  /** SIGKILL the process and wait until it has exited (its port is free again). */
  kill(): Promise<void>;
  /** Start a new process on the same port and data directory; resolves once it listens. */
  start(): Promise<void>;
}

/** Start `lifeline serve` on `options.port` with the SQLite store in `options.dataDir`. */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  let current: RunningCli | undefined;
  let starts = 0;
  const args = ['serve', '--port', String(options.port), '--data', options.dataDir];
  // Secrets through the environment, as the README recommends: flags show in `ps`.
  const env = { LIFELINE_JWT_SECRET: options.jwtSecret, LIFELINE_API_KEY: options.apiKey };

  const gateway: GatewayProcess = {
    port: options.port,
    url: `http://127.0.0.1:${options.port}`,
    get current() {
      return current;
    },
    get starts() {
      return starts;
    },
    async kill() {
      const running = current;
      current = undefined;
      if (running === undefined) return;
      await running.stop('SIGKILL', 5_000);
    },
    async start() {
      if (current !== undefined) throw new Error('the gateway process is already running');
      starts++;
      const running = await startCli(args, { env, timeoutMs: 10_000 });
      if (running.port !== options.port) {
        await running.stop('SIGKILL', 5_000);
        throw new Error(`lifeline listened on ${running.port}, not on ${options.port}`);
      }
      current = running;
    },
    async [Symbol.asyncDispose]() {
      const running = current;
      current = undefined;
      await running?.[Symbol.asyncDispose]();
    },
  };
  await gateway.start();
  return gateway;
}
