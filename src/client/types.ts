/**
 * The public face of a Lifeline client: what `createClient()` returns and the payloads of
 * its events.
 */
import type { LifelineError } from '../protocol/index.js';
import type { ConnectionState, StateChange } from './state.js';
import type { Subscription } from './subscriptions.js';

/** One message delivered to the application (a `push` frame that was not a duplicate). */
export interface PushMessage {
  /** Message id, unique per gateway deployment. */
  readonly id: string;
  /** `user:<id>` for the user's inbox, `channel:<name>` for a channel. */
  readonly stream: string;
  readonly epoch: string;
  /** Position in `stream`; strictly increasing within one epoch. */
  readonly offset: number;
  readonly data: unknown;
  /** When the gateway accepted the publish, in ms since the Unix epoch. */
  readonly publishedAt: number;
}

export interface ClientEvents {
  /** Every state change, in order. */
  readonly state: StateChange;
  /** A pushed message, each one once. */
  readonly message: PushMessage;
  /**
   * Problems nobody awaits: a listener that threw (`CallbackError`), a refused
   * subscription (`RequestFailedError`). Connection errors are in the `state` stream.
   */
  readonly error: LifelineError;
}

export type ClientEventName = keyof ClientEvents;

export interface RequestOptions {
  /** How long to wait for the reply, counted from the call, in ms. @default the client's `requestTimeoutMs` */
  readonly timeoutMs?: number;
}

export interface LifelineClient extends AsyncDisposable {
  /** The current connection state. */
  readonly state: ConnectionState;

  /**
   * Start connecting (from `idle`, `closed` or `failed`). Resolves when the session is
   * `open`; rejects with the terminal error if the client ends `closed` or `failed` first.
   * While connecting, reconnecting or open it starts nothing and returns the pending (or a
   * resolved) promise.
   */
  connect(): Promise<void>;

  /**
   * Close on purpose: WebSocket close 1000, no reconnect, pending requests rejected with
   * `ClientClosedError`, nothing left running. Idempotent; one terminal `state` event.
   */
  close(): Promise<void>;

  /**
   * Drop the current connection (if any) and connect again now, with the attempt counter
   * reset. Works from every state, `failed` and `closed` included.
   */
  reconnect(): void;

  /**
   * Probe the connection now: send a ping and treat it as dead unless a frame arrives
   * within `pongTimeoutMs`. Useful when a page becomes visible again. No-op unless `open`.
   */
  checkLiveness(): void;

  /** Listen to an event. Returns a function that removes the listener. */
  on<K extends ClientEventName>(event: K, listener: (payload: ClientEvents[K]) => void): () => void;

  /**
   * Send `data` to the gateway's message hook and resolve with its reply's `data`. Waits
   * (bounded by `maxPendingRequests`) while not open; re-sent with the same id when the
   * connection drops before the reply. Rejects with `RequestFailedError` (refused or queue
   * full), `TimeoutError`, `FrameTooLargeError`, or the error that closed the client.
   */
  request(data: unknown, options?: RequestOptions): Promise<unknown>;

  /**
   * Receive `channel` from now on, in this and every later session (resuming from the last
   * delivered position). Throws `InvalidOptionError` for a malformed channel name.
   */
  subscribe(channel: string): Subscription;
}
