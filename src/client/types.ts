/**
 * The public face of a Lifeline client: what `createClient()` returns and the payloads of
 * its events.
 */
import type {
  LifelineError,
  PublishTarget,
  ResyncReason,
  StreamPosition,
} from '../protocol/index.js';
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

/**
 * A stream could not be recovered: messages between the last one delivered and
 * `position` will never be delivered (PROTOCOL.md §10). Re-fetch the state that depends on
 * `stream` from its source of truth; delivery continues with the message after `position`.
 */
export interface ResyncEvent {
  readonly stream: string;
  /** Always `false`: a stream that could be recovered is replayed, with no event. */
  readonly recovered: false;
  /**
   * `epoch_changed`: the gateway lost the stream's history (or it is another gateway's);
   * `trimmed`: retention dropped messages this client had not received;
   * `ahead`: the client's position is beyond the gateway's newest message.
   */
  readonly reason: ResyncReason;
  /**
   * Where delivery continues: the next message is `offset + 1` of `epoch`. Undefined when
   * the stream has no history at all; its next message starts it.
   */
  readonly position: StreamPosition | undefined;
}

export interface ClientEvents {
  /** Every state change, in order. */
  readonly state: StateChange;
  /**
   * A pushed message, each one once and in order per stream, as soon as it arrives
   * (batching or not). Without `batch`, it is acknowledged (and saved to `storage`) once
   * listeners have it.
   */
  readonly message: PushMessage;
  /**
   * Only with the `batch` option: the same messages in arrays, in order, each message in
   * exactly one batch. A batch survives reconnects and is delivered on `close()`. With
   * batching, messages are acknowledged (and saved to `storage`) when their batch is
   * handed over here, not on `message`.
   */
  readonly messages: readonly PushMessage[];
  /**
   * A stream could not be resumed completely; see {@link ResyncEvent}. Messages received
   * before it (also those waiting in a batch) are delivered before it.
   */
  readonly resync: ResyncEvent;
  /**
   * Acknowledgements the client sent: the newest delivered position of each stream in one
   * cumulative `ack` (PROTOCOL.md §4), once written to an open session.
   */
  readonly ack: readonly StreamPosition[];
  /**
   * Problems nobody awaits: a listener that threw (`CallbackError`), a refused
   * subscription (`RequestFailedError`), a failing or corrupt `storage` (`StorageError`).
   * Connection errors are in the `state` stream.
   */
  readonly error: LifelineError;
}

export type ClientEventName = keyof ClientEvents;

/** What `publish()` resolves with: where the gateway stored the message. */
export interface PublishReceipt {
  readonly id: string;
  readonly positions: readonly StreamPosition[];
}

export interface SendOptions {
  /**
   * The frame's id instead of a generated one (1–64 characters, unique among the user's
   * calls): a call made again with the same id — by another tab's client after the tab
   * holding the connection closed, say — runs once on the gateway within its
   * de-duplication window. Throws `InvalidOptionError` when malformed or still in use.
   * @default generated
   */
  readonly id?: string;
}

export interface RequestOptions extends SendOptions {
  /** How long to wait for the reply, counted from the call, in ms. @default the client's `requestTimeoutMs` */
  readonly timeoutMs?: number;
}

/**
 * What `send()` did with a message. `delivered` resolves when the gateway's `reply`
 * confirms it received the message (its message hook ran); it rejects with
 * `RequestFailedError` (the gateway refused it), `FrameTooLargeError` (a gateway connected
 * later accepts smaller frames) or the error that ended the client (`ClientClosedError`
 * after `close()`). Ignoring `delivered` is safe: its rejection is never reported as
 * unhandled.
 */
export interface SendResult {
  /**
   * `sent`: written to the socket of an open session. `queued`: held in the outbox until
   * a session opens. Either way it stays in the outbox until its reply.
   */
  readonly status: 'sent' | 'queued';
  /** The `request` frame's id; the same id is used when it is re-sent after a reconnect. */
  readonly id: string;
  readonly delivered: Promise<void>;
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
   * Close on purpose: WebSocket close 1000, no reconnect, a pending batch delivered,
   * everything in the outbox rejected with `ClientClosedError`, nothing left running.
   * Idempotent; one terminal `state` event.
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
   * Send `data` to the gateway's message hook and resolve with its reply's `data`. Goes
   * through the outbox like {@link send}: waits while not open, re-sent with the same id
   * when the connection drops before the reply. Rejects with `OutboxFullError`,
   * `RequestFailedError` (refused), `TimeoutError`, `FrameTooLargeError`, `ProtocolError`
   * (data that is not JSON), or the error that ended the client.
   */
  request(data: unknown, options?: RequestOptions): Promise<unknown>;

  /**
   * Send `data` to the gateway's message hook without waiting for an answer. Returns at
   * once, telling what happened: `sent` or `queued` (see {@link SendResult}). The message
   * stays in the outbox until the gateway's reply, is re-sent with the same id after a
   * reconnect (the gateway runs its hook once per id), and has no deadline.
   *
   * Throws, queueing nothing: `OutboxFullError` (`outbox.maxMessages` or `outbox.maxBytes`
   * reached), `FrameTooLargeError` (larger than the gateway's `maxFrameBytes`),
   * `ProtocolError` (data that is not JSON), or the error that ended a `closed` or
   * `failed` client.
   */
  send(data: unknown, options?: SendOptions): SendResult;

  /**
   * Publish `data` through the gateway to another user of the same tenant
   * (`{ user }`, a chat message) or to a channel (`{ channel }`). The gateway's
   * `authorizePublish` hook decides; without one every client publish is refused. Resolves
   * with the message's id and positions once it is stored; travels through the outbox like
   * `request()` (waits while not open, re-sent with the same id after a reconnect, published
   * once). Rejects like `request()`; a refusal is a `RequestFailedError` with `replyCode`
   * `forbidden`.
   */
  publish(to: PublishTarget, data: unknown, options?: RequestOptions): Promise<PublishReceipt>;

  /**
   * Receive `channel` from now on, in this and every later session (resuming from the last
   * delivered position). Throws `InvalidOptionError` for a malformed channel name.
   */
  subscribe(channel: string): Subscription;
}
