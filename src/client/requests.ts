/**
 * Requests and their replies. A request waits while the client is not open, is sent once
 * a session opens, and is sent again with the SAME id when the connection drops before
 * the reply (the gateway de-duplicates by id). The table is bounded; every request ends
 * in exactly one of: reply, failed reply, timeout, too large, queue full, client closed.
 */
import {
  FrameTooLargeError,
  InvalidOptionError,
  RequestFailedError,
  TimeoutError,
  encodeClientFrame,
  utf8Length,
  type LifelineError,
  type ReplyFrame,
} from '../protocol/index.js';
import type { Disposer, Scope } from '../env/index.js';

/**
 * `replyCode` of the {@link RequestFailedError} a request is rejected with when
 * `maxPendingRequests` are already waiting. It never came from the gateway.
 */
export const QUEUE_FULL_REPLY_CODE = 'queue_full';

/** Ids unique for the client's lifetime: a random prefix (unique across clients) and a counter. */
export function idSource(random: () => number): () => string {
  let prefix = '';
  while (prefix.length < 10) prefix += Math.floor(random() * 36).toString(36);
  let counter = 0;
  return () => `${prefix}.${(++counter).toString(36)}`;
}

/** Where requests go while a session is open. */
export interface RequestLink {
  /** Hand one frame to the transport; false when it could not be sent. */
  send(text: string): boolean;
  readonly maxFrameBytes: number;
}

interface Pending {
  readonly text: string;
  sent: boolean;
  readonly resolve: (data: unknown) => void;
  readonly reject: (error: LifelineError) => void;
  readonly cancelTimer: Disposer;
}

export interface RequestTableOptions {
  readonly maxPending: number;
  readonly timeoutMs: number;
  readonly nextId: () => string;
}

export class RequestTable {
  readonly #scope: Scope;
  readonly #options: RequestTableOptions;
  // Insertion order is send order, after a reconnect too.
  #pending = new Map<string, Pending>();
  #link: RequestLink | null = null;

  /** Timers belong to `scope`, the client's lifetime. */
  constructor(scope: Scope, options: RequestTableOptions) {
    this.#scope = scope;
    this.#options = options;
  }

  /** Requests waiting to be sent or waiting for their reply. */
  get size(): number {
    return this.#pending.size;
  }

  request(data: unknown, timeoutMs = this.#options.timeoutMs): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
        reject(new InvalidOptionError('request timeoutMs must be a positive finite number'));
        return;
      }
      if (this.#pending.size >= this.#options.maxPending) {
        reject(
          new RequestFailedError(
            QUEUE_FULL_REPLY_CODE,
            `${this.#pending.size} requests are already pending (maxPendingRequests).`,
          ),
        );
        return;
      }
      const id = this.#options.nextId();
      let text: string;
      try {
        text = encodeClientFrame({ type: 'request', id, data });
      } catch (error) {
        reject(error);
        return;
      }
      const cancelTimer = this.#scope.setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError(`No reply to request ${id} within ${timeoutMs} ms.`));
      }, timeoutMs);
      const pending: Pending = { text, sent: false, resolve, reject, cancelTimer };
      this.#pending.set(id, pending);
      if (this.#link !== null) this.#transmit(id, pending, this.#link);
    });
  }

  /** A session opened: send everything not sent on it yet. */
  attach(link: RequestLink): void {
    this.#link = link;
    for (const [id, pending] of this.#pending) {
      if (this.#link !== link) return; // a failed send ended the session
      if (!pending.sent) this.#transmit(id, pending, link);
    }
  }

  /** The session ended: nothing in flight will be answered on it; send again on the next. */
  detach(): void {
    this.#link = null;
    for (const pending of this.#pending.values()) pending.sent = false;
  }

  /** Settle the request `reply` answers. Returns false when no request has that id. */
  settle(reply: ReplyFrame): boolean {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return false;
    this.#finish(reply.id, pending);
    if (reply.ok) pending.resolve(reply.data);
    else
      pending.reject(
        new RequestFailedError(
          reply.error.code,
          `The gateway refused the request: ${reply.error.message}`,
        ),
      );
    return true;
  }

  rejectAll(error: LifelineError): void {
    const all = [...this.#pending.entries()];
    for (const [id, pending] of all) this.#finish(id, pending);
    for (const [, pending] of all) pending.reject(error);
  }

  #transmit(id: string, pending: Pending, link: RequestLink): void {
    const bytes = utf8Length(pending.text);
    if (bytes > link.maxFrameBytes) {
      this.#finish(id, pending);
      pending.reject(
        new FrameTooLargeError(
          `Request ${id} is ${bytes} bytes; the gateway accepts at most ${link.maxFrameBytes}.`,
        ),
      );
      return;
    }
    pending.sent = link.send(pending.text);
  }

  #finish(id: string, pending: Pending): void {
    pending.cancelTimer();
    this.#pending.delete(id);
  }
}
