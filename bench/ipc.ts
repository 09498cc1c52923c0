/**
 * Typed request/reply over the IPC channel of a forked process. The orchestrator holds a
 * {@link Worker} per child; a child calls {@link serve} with one handler per command.
 *
 * Every call has a deadline, every child dies with its IPC channel (so a killed
 * orchestrator leaves no orphans), and {@link killAll} ends whatever is still running.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** Commands of one kind of child: argument and result type per command name. */
export type Commands = Record<string, { args: unknown; result: unknown }>;

interface Request {
  readonly id: number;
  readonly cmd: string;
  readonly args: unknown;
}
type Reply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
interface EventMessage {
  readonly event: string;
  readonly data: unknown;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const live = new Set<ChildProcess>();

/** SIGKILL every child still running. Safe to call from an `exit` handler. */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

export interface SpawnOptions {
  readonly args?: readonly string[];
  /** Extra Node flags (`--expose-gc`, `--cpu-prof`); tsx is always loaded. */
  readonly nodeFlags?: readonly string[];
}

/** The orchestrator's handle on one child process. */
export class Worker<C extends Commands> {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, Set<(data: unknown) => void>>();

  constructor(name: string, file: string, options: SpawnOptions = {}) {
    this.name = name;
    this.child = fork(file, [...(options.args ?? [])], {
      execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        this.#failAll(new Error(`${name} exited (${signal ?? code ?? '?'})`));
        resolve(signal ?? code ?? -1);
      });
    });
    this.child.on('message', (message: Reply | EventMessage) => {
      if ('event' in message) {
        for (const listener of this.#listeners.get(message.event) ?? []) listener(message.data);
        return;
      }
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new Error(`${name}: ${message.error}`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Run `cmd` in the child; rejects after `timeoutMs` or when the child exits. */
  call<K extends keyof C & string>(
    cmd: K,
    args: C[K]['args'],
    timeoutMs = 30_000,
  ): Promise<C[K]['result']> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error(`${this.name} is not running`));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const request: Request = { id, cmd, args };
      this.child.send(request);
    });
  }

  /** Listen to events the child emits; returns the unsubscribe function. */
  on(event: string, listener: (data: unknown) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Ask the child to shut down; SIGKILL it when it has not exited within `graceMs`. */
  async stop(graceMs = 3_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.kill(), graceMs);
    try {
      if (this.child.connected) this.child.send({ id: 0, cmd: 'shutdown', args: {} });
    } catch {
      this.kill();
    }
    await this.exited;
    clearTimeout(timer);
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }
}

export type Handlers<C extends Commands> = {
  [K in keyof C]: (args: C[K]['args']) => C[K]['result'] | Promise<C[K]['result']>;
};

/** Child side: answer the orchestrator's commands. Exits when the IPC channel closes. */
export function serve<C extends Commands>(
  handlers: Handlers<C>,
): { emit(event: string, data: unknown): void } {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('this file runs as a child of bench/run.ts');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: Request) => {
    const handler = (handlers as Record<string, ((args: unknown) => unknown) | undefined>)[
      request.cmd
    ];
    if (handler === undefined) {
      send({ id: request.id, ok: false, error: `unknown command ${request.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(request.args))
      .then(
        (result) => {
          if (request.cmd === 'shutdown') process.exit(0);
          if (process.connected) send({ id: request.id, ok: true, result });
        },
        (error: unknown) => {
          const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
          if (request.cmd === 'shutdown') process.exit(1);
          if (process.connected) send({ id: request.id, ok: false, error: text });
        },
      );
  });
  return {
    emit(event, data) {
      if (process.connected) send({ event, data } satisfies EventMessage);
    },
  };
}
