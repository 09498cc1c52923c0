/**
 * Running the built `lifeline` command in tests: spawn `node dist/cli/main.js`, read its
 * JSON log lines from stdout, find the port in the `listening` line, stop it with a
 * signal. Every wait is bounded; a process left running is killed on dispose.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI. Tests run it from `dist/`, as users do. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Fail with a useful message when the build is missing (the tests never skip). */
export function assertBuilt(file = CLI_PATH): void {
  if (!existsSync(file)) {
    throw new Error(`${file} does not exist: run \`npm run build\` before these tests`);
  }
}

/** One JSON log line of the CLI (pino). */
export interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CliOptions {
  /** Extra environment variables (merged over the test's own). */
  readonly env?: Record<string, string | undefined>;
  /** How long to wait for the `listening` line, or for the process to exit, in ms. @default 10_000 */
  readonly timeoutMs?: number;
}

/** A `lifeline serve` process that has logged `listening`. */
export interface RunningCli extends AsyncDisposable {
  readonly child: ChildProcess;
  /** The `listening` log line. */
  readonly listening: LogLine;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** `ws://host:port/path` */
  readonly wsUrl: string;
  /** Every log line so far (stdout). */
  readonly logs: readonly LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process exits. */
  readonly exited: Promise<Exit>;
  /** Send `signal` and wait (bounded) for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

function spawnCli(args: readonly string[], env: CliOptions['env']): ChildProcess {
  assertBuilt();
  // Each run gets a working directory of its own, so the default `./lifeline-data` store
  // is fresh for every test and nothing is written into the repository.
  const cwd = mkdtempSync(join(tmpdir(), 'lifeline-cli-'));
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd,
    env: {
      ...process.env,
      // Start from a clean slate: the developer's own keys must not leak into a test.
      LIFELINE_API_KEY: undefined,
      LIFELINE_JWT_SECRET: undefined,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.once('exit', () => rmSync(cwd, { recursive: true, force: true }));
  return child;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Run the CLI to completion (for `--help`, usage errors); kills it after the timeout. */
export async function runCli(
  args: readonly string[],
  options: CliOptions = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  const child = spawnCli(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = exitOf(child);
  try {
    const exit = await withTimeout(
      exited,
      options.timeoutMs ?? 10_000,
      () => `lifeline ${args.join(' ')} did not exit; stderr: ${stderr}`,
    );
    // `exit` can come before the last pipe data: wait for the streams to end too.
    await Promise.all(
      [child.stdout, child.stderr].map(
        (s) =>
          new Promise<void>((resolve) =>
            s === null || s.readableEnded ? resolve() : s.once('end', resolve),
          ),
      ),
    );
    return { ...exit, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Start `lifeline <args>` and resolve once it logs `listening`. */
export async function startCli(
  args: readonly string[],
  options: CliOptions = {},
): Promise<RunningCli> {
  const child = spawnCli(args, options.env);
  const logs: LogLine[] = [];
  let stderr = '';
  let partial = '';
  let onListening: ((line: LogLine) => void) | undefined;
  const listening = new Promise<LogLine>((resolve) => (onListening = resolve));

  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const text of lines) {
      if (text.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        // Kept, not thrown: a test asserting on the logs will show it.
        line = { msg: undefined, notJson: text };
      }
      logs.push(line);
      if (line.msg === 'listening') onListening?.(line);
    }
  });
  const exited = exitOf(child);

  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const describe = (): string =>
    `stdout: ${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr}`;

  let line: LogLine;
  try {
    line = await withTimeout(
      Promise.race([
        listening,
        exited.then((exit) => {
          throw new Error(
            `lifeline exited (${JSON.stringify(exit)}) before listening; ${describe()}`,
          );
        }),
      ]),
      options.timeoutMs ?? 10_000,
      () => `lifeline did not log "listening" in time; ${describe()}`,
    );
  } catch (error) {
    kill();
    throw error;
  }

  const port = line['port'];
  const url = line['url'];
  const wsUrl = line['wsUrl'];
  if (typeof port !== 'number' || typeof url !== 'string' || typeof wsUrl !== 'string') {
    kill();
    throw new Error(`the listening line lacks port/url/wsUrl: ${JSON.stringify(line)}`);
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    try {
      return await withTimeout(
        exited,
        timeoutMs,
        () => `lifeline did not exit after ${signal}; ${describe()}`,
      );
    } catch (error) {
      kill();
      throw error;
    }
  };

  return {
    child,
    listening: line,
    port,
    url,
    wsUrl,
    logs,
    stderr: () => stderr,
    exited,
    stop,
    async [Symbol.asyncDispose]() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await stop('SIGTERM', 5_000).catch(() => kill());
    },
  };
}
