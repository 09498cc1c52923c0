/**
 * One HTTP long-polling session as the gateway core sees it: a {@link Connection} whose
 * outbound frames wait in a queue until the client's next `GET` takes them
 * (PROTOCOL.md §11). Nothing here knows about `node:http`; the adapter in
 * `src/adapters/polling-http.ts` moves requests in and out.
 *
 *   open ──(core closes, idle, overlap)──▶ ended ──(close frame taken, or linger)──▶ gone
 *
 * `bufferedAmount` is the size of the queue, so the core's slow-consumer limit
 * (`maxBufferedBytes`, close 4006) applies to a client that stops polling exactly as it
 * does to a WebSocket client that stops reading.
 */
import type { Disposer, Scope } from '../env/index.js';
import {
  CLOSE_REASON,
  CloseCode,
  encodeServerFrame,
  utf8Length,
  type CloseCode as CloseCodeType,
} from '../protocol/index.js';
import type { Connection, ConnectionHandler, ConnectionInfo } from './types.js';

const NO_HANDLER: ConnectionHandler = { message() {}, binary() {}, closed() {} };

export interface PollingSessionOptions {
  readonly id: string;
  readonly info: ConnectionInfo;
  /** Owns the idle and linger timers; disposed when the session is gone. */
  readonly scope: Scope;
  /** With no `GET` outstanding for this long, the session is closed with 4004, in ms. */
  readonly idleTimeoutMs: number;
  /** The session ended and its last frames were taken (or never will be): forget it. */
  readonly gone: (session: PollingSession) => void;
}

/** What one `GET` (or the open request) answers. */
export interface PolledFrames {
  /** Encoded server frames, oldest first. */
  readonly frames: readonly string[];
  /** The session ended: these were its last frames (the `close` frame last, if any). */
  readonly last: boolean;
}

export class PollingSession implements Connection {
  readonly id: string;
  readonly info: ConnectionInfo;
  /** The core's side of the session; set right after `core.accept()`. */
  handler: ConnectionHandler = NO_HANDLER;
  /** A `GET` is being held or answered. */
  getting = false;
  /** A `POST` is being read or dispatched. */
  posting = false;
  readonly #options: PollingSessionOptions;
  #queue: string[] = [];
  #bytes = 0;
  #ended: { readonly code: number; readonly reason: string } | null = null;
  #wake: (() => void) | null = null;
  #idle: Disposer | null = null;

  constructor(options: PollingSessionOptions) {
    this.id = options.id;
    this.info = options.info;
    this.#options = options;
  }

  /** The session ended; requests other than the one taking its last frames get 410. */
  get ended(): boolean {
    return this.#ended !== null;
  }

  /** Frames are waiting, or the session ended: a `GET` is answered at once. */
  get ready(): boolean {
    return this.#queue.length > 0 || this.#ended !== null;
  }

  // ------------------------------------------------------------ Connection (the core's side)

  send(text: string): void {
    if (this.#ended !== null) return;
    this.#queue.push(text);
    this.#bytes += utf8Length(text);
    this.#notify();
  }

  get bufferedAmount(): number {
    return this.#bytes;
  }

  close(code: number, reason: string): void {
    this.#end(code, reason);
  }

  terminate(): void {
    this.#queue = [];
    this.#bytes = 0;
    this.#end(CloseCode.ABNORMAL, CLOSE_REASON[CloseCode.ABNORMAL]);
  }

  // ------------------------------------------------------------ the adapter's side

  /**
   * End the session from the transport (idle, overlapping requests, a bad body): queue a
   * `close` frame for the next `GET`, then tell the core, as a WebSocket close would.
   */
  fail(code: CloseCodeType): void {
    if (this.#ended !== null) return;
    this.send(encodeServerFrame({ type: 'close', code, reason: CLOSE_REASON[code] }));
    this.#end(code, CLOSE_REASON[code]);
  }

  /** The client closed the session on purpose (as WebSocket close 1000): forget it now. */
  leave(): void {
    this.#end(CloseCode.NORMAL, CLOSE_REASON[CloseCode.NORMAL]);
    this.#gone();
  }

  /**
   * Resolve once {@link ready}, or after `ms`, or when `cancel` is called. One waiter at a
   * time: the adapter refuses a second `GET` before it waits.
   */
  wait(ms: number): { readonly promise: Promise<void>; cancel(): void } {
    let done: () => void = () => {};
    const promise = new Promise<void>((resolve) => (done = resolve));
    if (this.ready) {
      done();
      return { promise, cancel() {} };
    }
    const { scope } = this.#options;
    const finish = (): void => {
      cancelTimer();
      if (this.#wake === finish) this.#wake = null;
      done();
    };
    const cancelTimer = scope.setTimeout(finish, ms);
    this.#wake = finish;
    return { promise, cancel: finish };
  }

  /** Take every queued frame. After the last ones of an ended session, it is gone. */
  take(): PolledFrames {
    const frames = this.#queue;
    this.#queue = [];
    this.#bytes = 0;
    const last = this.#ended !== null;
    if (last) this.#gone();
    return { frames, last };
  }

  /** A `GET` began: the session is polled, so it is not idle. */
  polling(): void {
    this.getting = true;
    this.#idle?.();
    this.#idle = null;
  }

  /** A `GET` (or the open request) ended: start counting idle time. */
  polled(): void {
    this.getting = false;
    if (this.#ended !== null) return;
    this.#idle?.();
    this.#idle = this.#options.scope.setTimeout(
      () => this.fail(CloseCode.HEARTBEAT_TIMEOUT),
      this.#options.idleTimeoutMs,
    );
  }

  // ------------------------------------------------------------ internals

  #notify(): void {
    this.#wake?.();
  }

  #end(code: number, reason: string): void {
    if (this.#ended !== null) return;
    this.#ended = { code, reason };
    this.#idle?.();
    this.#idle = null;
    // A client that never comes back for its close frame must not keep the entry forever.
    this.#options.scope.setTimeout(() => this.#gone(), this.#options.idleTimeoutMs);
    this.#notify();
    const handler = this.handler;
    this.handler = NO_HANDLER;
    handler.closed(code, reason);
  }

  #gone(): void {
    this.#queue = [];
    this.#bytes = 0;
    this.#options.scope.dispose();
    this.#options.gone(this);
  }
}
