/**
 * Faithful fakes of the mini-program APIs Lifeline's adapters use (`wx`, `uni`), with the
 * semantics the platforms document, so the adapters are tested against what they will
 * meet and not against what is convenient:
 *
 * - `connectSocket(options)` returns a SocketTask at once (uni-app: only when a `success`,
 *   `fail` or `complete` callback is given; otherwise a Promise). Nothing is reported
 *   inside the call: every callback and event runs later, as a macrotask.
 * - `send({ data, success, fail, complete })` before `onOpen` or after the end fails with
 *   `errMsg` `sendSocketMessage:fail …`; `complete` runs after `success` / `fail`.
 * - `close({ code, reason, success, fail, complete })`: `code` is 1000 or 3000–4999 and
 *   `reason` at most 123 bytes, else `fail`; `success`, then `onClose({ code, reason })`
 *   once the peer answered. Closing a task that is already closed fails.
 * - `onError({ errMsg })` may or may not be followed by `onClose` (runtimes differ): both
 *   are available to a test.
 * - `on*` listeners of a task add up; the app events (`onAppShow`, `onNetworkStatusChange`)
 *   too, and `off*` without a listener removes all of them.
 * - While the network is down, `connectSocket` fails (and so does `request`).
 * - `request` (only with the `http` option) is `fake-request.ts`, over real HTTP.
 * - Quirks some runtimes have, switchable per test: refusing to close a task that has not
 *   opened yet, and closing a backgrounded app's socket with 1000 "interrupted" or
 *   silently.
 *
 * Two kinds of task: a scripted one, where the test plays the gateway, and one backed by
 * a real `ws` connection, so the adapter is proven end to end against a real gateway.
 */
import WebSocket from 'ws';
import {
  decodeClientFrame,
  type ClientFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '../../src/protocol/index.js';
import type {
  ConnectSocketOptions,
  PlatformError,
  SocketTaskCloseOptions,
  SocketTaskLike,
  SocketTaskSendOptions,
} from '../../src/platforms/socket-task.js';
import type { MiniProgramHost, NetworkStatus } from '../../src/platforms/mini-program.js';
import { FakeRequestApi, type RequestQuirks } from './fake-request.js';

/** The platforms' callbacks are asynchronous; this queues them as macrotasks. */
export class EventLoop {
  #pending = 0;

  post(fn: () => void): void {
    this.#pending++;
    setImmediate(() => {
      this.#pending--;
      fn();
    });
  }

  /** Resolve once every queued callback (and those they queued) has run. */
  async settle(): Promise<void> {
    do {
      await new Promise((resolve) => setImmediate(resolve));
    } while (this.#pending > 0);
  }
}

type Listener<T> = (value: T) => void;
type TaskState = 'connecting' | 'open' | 'closing' | 'closed';

/** Platform quirks a test can switch on. */
export interface Quirks {
  /** `close()` before `onOpen` fails (`closeSocket:fail`), and the task opens anyway. */
  refuseCloseWhileConnecting?: boolean;
  /** `onError` is not followed by `onClose` (older runtimes). */
  errorWithoutClose?: boolean;
}

export const WELCOME: WelcomeFrame = {
  type: 'welcome',
  protocol: 1,
  session: 's-1',
  user: 'alice',
  serverTime: 1_700_000_000_000,
  pingIntervalMs: 25_000,
  idleTimeoutMs: 60_000,
  maxFrameBytes: 65_536,
};

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export abstract class FakeSocketTask implements SocketTaskLike {
  /** What the app sees: changes when an event is delivered, not when it is queued. */
  state: TaskState = 'connecting';
  readonly closeCalls: { code?: number; reason?: string }[] = [];
  /** Text of every send that succeeded, in order. */
  readonly sent: string[] = [];
  readonly #listeners = {
    open: [] as Listener<unknown>[],
    message: [] as Listener<{ data: unknown }>[],
    close: [] as Listener<{ code: number; reason: string }>[],
    error: [] as Listener<PlatformError>[],
  };
  /** Set once the socket died without telling the app (no event will ever come). */
  protected frozen = false;

  constructor(
    protected readonly loop: EventLoop,
    readonly options: ConnectSocketOptions,
    protected readonly quirks: Quirks,
  ) {}

  onOpen(listener: Listener<unknown>): void {
    this.#listeners.open.push(listener);
  }
  onMessage(listener: Listener<{ data: unknown }>): void {
    this.#listeners.message.push(listener);
  }
  onClose(listener: Listener<{ code: number; reason: string }>): void {
    this.#listeners.close.push(listener);
  }
  onError(listener: Listener<PlatformError>): void {
    this.#listeners.error.push(listener);
  }

  get listenerCount(): number {
    const l = this.#listeners;
    return l.open.length + l.message.length + l.close.length + l.error.length;
  }

  send(options: SocketTaskSendOptions): void {
    const { data } = options;
    const complete = (options as { complete?: () => void }).complete;
    const answer = (error?: string): void =>
      this.loop.post(() => {
        if (error === undefined) options.success?.({ errMsg: 'sendSocketMessage:ok' });
        else options.fail?.({ errMsg: `sendSocketMessage:fail ${error}` });
        complete?.();
      });
    if (this.state !== 'open') {
      answer('WebSocket is not connected');
      return;
    }
    if (this.frozen) {
      answer(); // the runtime does not know yet: the bytes go nowhere
      return;
    }
    this.transmit(data, (error) => {
      if (error === undefined) this.sent.push(data);
      answer(error);
    });
  }

  close(options: SocketTaskCloseOptions = {}): void {
    const { code, reason } = options;
    const complete = (options as { complete?: () => void }).complete;
    this.closeCalls.push({
      ...(code === undefined ? {} : { code }),
      ...(reason === undefined ? {} : { reason }),
    });
    const fail = (errMsg: string): void =>
      this.loop.post(() => {
        options.fail?.({ errMsg: `closeSocket:fail ${errMsg}` });
        complete?.();
      });
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999))
      return fail(`invalid code ${code}`);
    if (reason !== undefined && utf8Length(reason) > 123) return fail('reason too long');
    if (this.state === 'closing' || this.state === 'closed')
      return fail('WebSocket is not connected');
    if (this.state === 'connecting' && this.quirks.refuseCloseWhileConnecting)
      return fail('WebSocket is not connected');
    this.state = 'closing';
    this.loop.post(() => {
      options.success?.({ errMsg: 'closeSocket:ok' });
      complete?.();
    });
    if (this.frozen) return; // dead already; nothing more will be heard
    this.shutdown(code ?? 1000, reason ?? '');
  }

  /** Frames the app sent, decoded as client frames. */
  get frames(): ClientFrame[] {
    return this.sent.map((text) => decodeClientFrame(text));
  }

  framesOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }

  /**
   * The runtime killed the socket without telling the app (a backgrounded mini-program):
   * no event arrives any more, sends still "succeed".
   */
  freeze(): void {
    this.frozen = true;
  }

  /** The runtime ended a backgrounded app's socket the way WeChat reports it. */
  interrupt(): void {
    this.emitClose(1000, 'interrupted');
  }

  // ------------------------------------------------------------- platform → app

  protected emitOpen(): void {
    this.loop.post(() => {
      if (this.frozen || this.state === 'closed') return;
      if (this.state === 'connecting') this.state = 'open';
      for (const l of [...this.#listeners.open]) l({ header: {} });
    });
  }

  protected emitMessage(data: unknown): void {
    this.loop.post(() => {
      if (this.frozen || this.state === 'closed') return;
      for (const l of [...this.#listeners.message]) l({ data });
    });
  }

  protected emitClose(code: number, reason: string): void {
    this.loop.post(() => {
      if (this.frozen || this.state === 'closed') return;
      this.state = 'closed';
      for (const l of [...this.#listeners.close]) l({ code, reason });
    });
  }

  protected emitError(errMsg: string): void {
    this.loop.post(() => {
      if (this.frozen || this.state === 'closed') return;
      for (const l of [...this.#listeners.error]) l({ errMsg });
    });
  }

  /** Send `data` to the peer; `done(error)` when written or refused. */
  protected abstract transmit(data: string, done: (error?: string) => void): void;
  /** The app closed the task: tell the peer, then report `onClose`. */
  protected abstract shutdown(code: number, reason: string): void;
}

/** A task whose gateway is the test. */
export class ScriptedSocketTask extends FakeSocketTask {
  #sendError: string | undefined;

  protected transmit(_data: string, done: (error?: string) => void): void {
    done(this.#sendError);
  }

  protected shutdown(code: number, reason: string): void {
    this.emitClose(code, reason); // the peer echoes the close
  }

  /** The upgrade succeeded. */
  open(): void {
    this.emitOpen();
  }

  /** One frame from the gateway (an object is serialized). */
  receive(frame: ServerFrame | string | ArrayBuffer): void {
    this.emitMessage(
      typeof frame === 'string' || frame instanceof ArrayBuffer ? frame : JSON.stringify(frame),
    );
  }

  /** Open, wait for `hello`, answer `welcome`. */
  async handshake(overrides: Partial<WelcomeFrame> = {}): Promise<void> {
    this.open();
    await this.loop.settle();
    if (this.framesOf('hello').length === 0) throw new Error('the client sent no hello');
    this.receive({ ...WELCOME, ...overrides });
    await this.loop.settle();
  }

  /** The gateway (or the network, with 1006) ended the connection. */
  serverClose(code: number, reason = ''): void {
    this.emitClose(code, reason);
  }

  /** The socket failed; `onClose` follows unless the runtime has `errorWithoutClose`. */
  fail(errMsg = 'WebSocket connection failed'): void {
    this.emitError(errMsg);
    if (!this.quirks.errorWithoutClose) this.emitClose(1006, 'abnormal closure');
  }

  /** From now on, sends fail with this `errMsg` detail. */
  failSends(detail: string): void {
    this.#sendError = detail;
  }
}

/** A task carried by a real `ws` connection. */
export class WsSocketTask extends FakeSocketTask {
  readonly #ws: WebSocket;

  constructor(loop: EventLoop, options: ConnectSocketOptions, quirks: Quirks) {
    super(loop, options, quirks);
    this.#ws = new WebSocket(options.url, options.protocols ?? [], {
      ...(options.header === undefined ? {} : { headers: options.header }),
    });
    this.#ws.on('open', () => this.emitOpen());
    this.#ws.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      this.emitMessage(
        isBinary
          ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
          : bytes.toString('utf8'),
      );
    });
    this.#ws.on('close', (code, reason) => this.emitClose(code, reason.toString('utf8')));
    this.#ws.on('error', (error) => this.emitError(error.message));
  }

  protected transmit(data: string, done: (error?: string) => void): void {
    this.#ws.send(data, (error) => done(error?.message));
  }

  protected shutdown(code: number, reason: string): void {
    if (this.#ws.readyState === WebSocket.CONNECTING) this.#ws.terminate();
    else this.#ws.close(code, reason);
  }

  /** The platform kills the socket silently: the gateway sees it go, the app hears nothing. */
  override freeze(): void {
    super.freeze();
    this.#ws.terminate();
  }
}

export interface FakeHostOptions {
  /** `uni` returns a Promise from `connectSocket` when no callback is given. */
  readonly kind: 'wx' | 'uni';
  /** Scripted tasks (the test plays the gateway) or tasks over real `ws` connections. */
  readonly backend?: 'scripted' | 'ws';
  readonly quirks?: Quirks;
  /**
   * Give the API object a `request` over real HTTP (with these quirks), so the client can
   * fall back to polling. Without it the fake has no `request`, and the client WebSocket
   * only, as the scripted tests expect.
   */
  readonly http?: RequestQuirks | true;
}

export interface ApiOptions {
  /** Functions the API object lacks, as on an older runtime. */
  readonly without?: readonly (keyof MiniProgramHost | 'onAppHide' | 'offAppHide')[];
}

/** A fake `wx` / `uni`: sockets, app foreground events, network status. */
export class FakeMiniProgram {
  readonly loop = new EventLoop();
  readonly tasks: FakeSocketTask[] = [];
  readonly kind: 'wx' | 'uni';
  readonly backend: 'scripted' | 'ws';
  readonly quirks: Quirks;
  /** `request`, when the fake was made with `http`. */
  readonly http: FakeRequestApi | undefined;
  /** When set, the next `connectSocket` reports this `fail` and its task never opens. */
  refuseNextConnect: string | undefined;
  readonly #appShow: Listener<unknown>[] = [];
  readonly #appHide: Listener<unknown>[] = [];
  readonly #network: Listener<NetworkStatus>[] = [];
  #online = true;

  constructor(options: FakeHostOptions) {
    this.kind = options.kind;
    this.backend = options.backend ?? 'scripted';
    this.quirks = options.quirks ?? {};
    this.http =
      options.http === undefined
        ? undefined
        : new FakeRequestApi(this.loop, this.kind, options.http === true ? {} : options.http);
  }

  connectSocket(options: ConnectSocketOptions): unknown {
    const callbacks = options as ConnectSocketOptions & { complete?: () => void };
    if (
      this.kind === 'uni' &&
      callbacks.success === undefined &&
      callbacks.fail === undefined &&
      callbacks.complete === undefined
    ) {
      // uni-app's promise style: no SocketTask for the caller.
      return Promise.resolve({ errMsg: 'connectSocket:ok' });
    }
    const task =
      this.backend === 'ws'
        ? new WsSocketTask(this.loop, options, this.quirks)
        : new ScriptedSocketTask(this.loop, options, this.quirks);
    this.tasks.push(task);
    const refused = this.refuseNextConnect ?? (this.#online ? undefined : 'network is down');
    this.refuseNextConnect = undefined;
    this.loop.post(() => {
      if (refused === undefined) callbacks.success?.({ errMsg: 'connectSocket:ok' });
      else callbacks.fail?.({ errMsg: `connectSocket:fail ${refused}` });
      callbacks.complete?.();
    });
    if (refused !== undefined) task.freeze();
    return task;
  }

  onAppShow(listener: Listener<unknown>): void {
    this.#appShow.push(listener);
  }
  offAppShow(listener?: Listener<unknown>): void {
    remove(this.#appShow, listener);
  }
  onAppHide(listener: Listener<unknown>): void {
    this.#appHide.push(listener);
  }
  offAppHide(listener?: Listener<unknown>): void {
    remove(this.#appHide, listener);
  }
  onNetworkStatusChange(listener: Listener<NetworkStatus>): void {
    this.#network.push(listener);
  }
  offNetworkStatusChange(listener?: Listener<NetworkStatus>): void {
    remove(this.#network, listener);
  }

  /**
   * The API object to hand to the adapter: the host's functions as own properties, minus
   * those a test wants missing (an older runtime).
   */
  api(options: ApiOptions = {}): MiniProgramHost {
    const names = [
      'connectSocket',
      'onAppShow',
      'offAppShow',
      'onAppHide',
      'offAppHide',
      'onNetworkStatusChange',
      'offNetworkStatusChange',
    ] as const;
    const api: Record<string, unknown> = {};
    for (const name of names) {
      if (options.without?.includes(name)) continue;
      const fn = this[name] as (...args: never[]) => unknown;
      api[name] = fn.bind(this);
    }
    if (this.http !== undefined && !options.without?.includes('request'))
      api['request'] = this.http.request.bind(this.http);
    return api as unknown as MiniProgramHost;
  }

  // ------------------------------------------------------------- test controls

  /** The app came back to the foreground. */
  show(): void {
    for (const l of [...this.#appShow])
      this.loop.post(() => l({ path: 'pages/index', scene: 1001 }));
  }

  /** The app went to the background. */
  hide(): void {
    for (const l of [...this.#appHide]) this.loop.post(() => l({}));
  }

  /** The network changed; while it is down, `connectSocket` fails. */
  setNetwork(isConnected: boolean, networkType = isConnected ? 'wifi' : 'none'): void {
    this.#online = isConnected;
    this.http?.setOnline(isConnected);
    for (const l of [...this.#network]) this.loop.post(() => l({ isConnected, networkType }));
  }

  /** Listeners registered for app and network events. */
  get listenerCount(): number {
    return this.#appShow.length + this.#appHide.length + this.#network.length;
  }

  /** The newest task, scripted. */
  last(): ScriptedSocketTask {
    const task = this.tasks.at(-1);
    if (!(task instanceof ScriptedSocketTask)) throw new Error('no scripted task was created');
    return task;
  }

  /** Tasks that neither ended nor were closed by the app. */
  get live(): number {
    return this.tasks.filter((t) => t.state !== 'closed' && t.closeCalls.length === 0).length;
  }

  settle(): Promise<void> {
    return this.loop.settle();
  }
}

function remove<T>(list: T[], listener: T | undefined): void {
  if (listener === undefined) {
    list.length = 0;
    return;
  }
  const at = list.indexOf(listener);
  if (at >= 0) list.splice(at, 1);
}
