/**
 * The owner's side of one HTTP long-polling session: a {@link Connection} whose outbound
 * frames are written to the {@link PollingStore}, where the client's next `GET` takes them
 * on whichever node it reaches (PROTOCOL.md §11.6). Nothing here knows about `node:http`;
 * the adapter in `src/adapters/polling-http.ts` moves requests in and out.
 *
 *   open ──(core closes, idle, overlap, DELETE)──▶ ending ──(last write stored)──▶ done
 *
 * Frames sent in one turn of the event loop are written together, in order, one write at
 * a time. `bufferedAmount` is what waits in the store plus what waits for the next write,
 * so the core's slow-consumer limit (`maxBufferedBytes`, close 4006) applies to a client
 * that stops polling exactly as it does to a WebSocket client that stops reading.
 */
import type { Clock, Disposer, Scope } from '../env/index.js';
import {
  CLOSE_REASON,
  CloseCode,
  encodeServerFrame,
  utf8Length,
  type CloseCode as CloseCodeType,
} from '../protocol/index.js';
import type { PollingStore } from '../storage/polling.js';
import type { Logger } from './logger.js';
import type { Connection, ConnectionHandler, ConnectionInfo } from './types.js';

const NO_HANDLER: ConnectionHandler = { message() {}, binary() {}, closed() {} };

export interface PollingSessionOptions {
  readonly id: string;
  readonly info: ConnectionInfo;
  readonly store: PollingStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Owns the idle timer; disposed when the session is gone. */
  readonly scope: Scope;
  /** With no `GET` outstanding (on any node) for this long, the session closes with 4004, in ms. */
  readonly idleTimeoutMs: number;
  /** Frames of this session were stored: wake a `GET` held for it on this node. */
  readonly wrote: (id: string) => void;
  /** The session's last write was stored (or failed): forget it on this node. */
  readonly gone: (session: PollingSession) => void;
}

export class PollingSession implements Connection {
  readonly id: string;
  readonly info: ConnectionInfo;
  /** The core's side of the session; set right after `core.accept()`. */
  handler: ConnectionHandler = NO_HANDLER;
  readonly #options: PollingSessionOptions;
  #pending: string[] = [];
  #pendingBytes = 0;
  /** Queued in the store as of the last write (a `GET` elsewhere may have taken them since). */
  #storedBytes = 0;
  #scheduled = false;
  /** The running write loop, if any. */
  #writing: Promise<void> | undefined;
  /**
   * `open`; `ending` once closed here, until the ending write is stored; `done` after it
   * (or after the store refused the session). `forget`: the client left, so the store
   * drops the session at once instead of keeping its last frames for a `GET`.
   */
  #phase: 'open' | 'ending' | 'done' = 'open';
  #forget = false;
  #idle: Disposer | undefined;

  constructor(options: PollingSessionOptions) {
    this.id = options.id;
    this.info = options.info;
    this.#options = options;
    this.#armIdle(options.idleTimeoutMs);
  }

  /** The session ended on this node (it may still be writing its last frames). */
  get ended(): boolean {
    return this.#phase !== 'open';
  }

  // ------------------------------------------------------------ Connection (the core's side)

  send(text: string): void {
    if (this.#phase !== 'open') return;
    this.#pending.push(text);
    this.#pendingBytes += utf8Length(text);
    this.#schedule();
  }

  get bufferedAmount(): number {
    return this.#storedBytes + this.#pendingBytes;
  }

  close(code: number, reason: string): void {
    this.#end(code, reason);
  }

  terminate(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#end(CloseCode.ABNORMAL, CLOSE_REASON[CloseCode.ABNORMAL]);
  }

  // ------------------------------------------------------------ the adapter's side

  /**
   * End the session from the transport (idle, overlapping requests, a bad body): queue a
   * `close` frame for the next `GET`, then tell the core, as a WebSocket close would.
   */
  fail(code: CloseCodeType): void {
    if (this.#phase !== 'open') return;
    this.send(encodeServerFrame({ type: 'close', code, reason: CLOSE_REASON[code] }));
    this.#end(code, CLOSE_REASON[code]);
  }

  /** The client closed the session on purpose (as WebSocket close 1000): forget it. */
  leave(): void {
    this.#forget = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#end(CloseCode.NORMAL, CLOSE_REASON[CloseCode.NORMAL]);
  }

  /** A `GET` on this node took every stored frame. */
  taken(): void {
    this.#storedBytes = 0;
  }

  /** Resolves once everything sent so far is stored (or refused). */
  async flushed(): Promise<void> {
    while (this.#writing !== undefined || this.#scheduled) {
      await (this.#writing ?? Promise.resolve());
    }
  }

  // ------------------------------------------------------------ internals

  #schedule(): void {
    if (this.#scheduled || this.#writing !== undefined) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#writing = this.#writeLoop().finally(() => {
        this.#writing = undefined;
        if (this.#phase === 'done') this.#gone();
        // Sent between the loop's last check and now.
        else if (this.#pending.length > 0 || this.#phase === 'ending') this.#schedule();
      });
    });
  }

  async #writeLoop(): Promise<void> {
    const { store, clock, logger } = this.#options;
    while (this.#pending.length > 0 || this.#phase === 'ending') {
      const frames = this.#pending;
      const bytes = this.#pendingBytes;
      this.#pending = [];
      this.#pendingBytes = 0;
      const end = this.#phase === 'ending';
      let stored: number | undefined;
      try {
        stored = await store.write(this.id, frames, bytes, end, clock.now());
      } catch (error) {
        logger.error({ err: error, session: this.id }, 'polling store write failed');
        stored = undefined;
      }
      if (stored === undefined) {
        // Gone or ended by another node (it found this node silent): frames written from
        // here would reach nobody. The client resumes on a new session.
        this.#end(CloseCode.ABNORMAL, CLOSE_REASON[CloseCode.ABNORMAL]);
        this.#phase = 'done';
        return;
      }
      this.#storedBytes = stored;
      if (end) this.#phase = 'done';
      this.#options.wrote(this.id);
    }
  }

  #end(code: number, reason: string): void {
    if (this.#phase !== 'open') return;
    this.#phase = 'ending';
    this.#idle?.();
    this.#idle = undefined;
    this.#schedule();
    const handler = this.handler;
    this.handler = NO_HANDLER;
    handler.closed(code, reason);
  }

  #gone(): void {
    this.#options.scope.dispose();
    if (this.#forget) {
      this.#options.store.delete(this.id).catch((error: unknown) => {
        this.#options.logger.error({ err: error, session: this.id }, 'polling store delete failed');
      });
    }
    this.#options.gone(this);
  }

  /** Check for idleness in `ms`: the store knows when any node last held a `GET`. */
  #armIdle(ms: number): void {
    this.#idle = this.#options.scope.setTimeout(() => void this.#checkIdle(), ms);
  }

  async #checkIdle(): Promise<void> {
    this.#idle = undefined;
    const { store, clock, idleTimeoutMs, logger } = this.#options;
    let due: number;
    try {
      const record = await store.get(this.id);
      if (record === undefined) return this.#end(CloseCode.ABNORMAL, 'Session gone');
      due = Math.max(record.getUntil, record.polledAt) + idleTimeoutMs;
    } catch (error) {
      logger.error({ err: error, session: this.id }, 'polling store read failed');
      due = clock.now() + idleTimeoutMs;
    }
    if (this.#phase !== 'open') return;
    const left = due - clock.now();
    if (left <= 0) this.fail(CloseCode.HEARTBEAT_TIMEOUT);
    else this.#armIdle(left);
  }
}
