/**
 * Public contract of the gateway core. Transport-agnostic: nothing here knows about
 * `ws` or `node:http`; the adapters in `src/adapters/` translate to and from them.
 */
import type { PublishTarget, StreamPosition } from '../protocol/index.js';

/** Who a session belongs to, as returned by the `authenticate` hook. */
export interface Identity {
  /** The user id; with the built-in JWT verification, the `sub` claim. */
  readonly userId: string;
  /** Optional tenant; user inboxes are scoped to it. */
  readonly tenantId?: string;
  /** When the credentials stop being valid (ms since the epoch); the session is closed with 4101 then. */
  readonly expiresAt?: number;
  /** Anything else the application wants to keep with the session (JWT claims, roles). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** What the `authenticate` hook is given. */
export interface AuthRequest {
  /** `hello.token`, if the client sent one. */
  readonly token: string | undefined;
  /** `hello.device`, if the client sent one. */
  readonly device: string | undefined;
  /** Facts about the underlying connection (remote address, headers). */
  readonly connection: ConnectionInfo;
}

/**
 * Decide who a connection is. Resolve with an {@link Identity}, or throw/reject with an
 * {@link AuthError} to refuse the credentials: close 4100, or 4101 with `expired: true`
 * for credentials that were valid but expired. Any other error means the gateway could
 * not decide (a database or key server is down): the session closes with 4008, which
 * clients retry, instead of a fatal 4100. Error text is logged, never sent to the client.
 */
export type Authenticate = (request: AuthRequest) => Identity | Promise<Identity>;

/** Facts about a transport connection, for hooks and logs. */
export interface ConnectionInfo {
  readonly remoteAddress: string | undefined;
  /**
   * The HTTP request headers of the connection, for `authenticate`. Once the session is
   * open the WebSocket transport drops them (an idle connection keeps no request data):
   * copy what a later hook needs into `Identity.claims`.
   */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** `websocket` today; `polling` with the HTTP transport. */
  readonly transport: 'websocket' | 'polling';
}

/** A live session, as seen by hooks and the presence API. */
export interface SessionInfo {
  readonly id: string;
  readonly userId: string;
  readonly tenantId: string | undefined;
  readonly device: string | undefined;
  readonly client: string | undefined;
  readonly connectedAt: number;
  readonly transport: 'websocket' | 'polling';
  readonly remoteAddress: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
  /** Channels the session is subscribed to. */
  readonly channels: ReadonlySet<string>;
}

/** Where a published message goes. */
export type Target =
  | { readonly user: string; readonly tenant?: string }
  | { readonly users: readonly string[]; readonly tenant?: string }
  | { readonly channel: string };

export interface PublishInput {
  readonly to: Target;
  /** Any JSON value. */
  readonly data: unknown;
  /**
   * Publish at most once per key: a repeat within the gateway's `idempotencyWindowMs`
   * answers the original `id` and `positions` (`duplicate: true`) and publishes nothing,
   * also when both calls run at once. The same key with a different target, data, TTL or
   * `requireAck` is refused with {@link PublishConflictError}. 1 to 200 characters.
   */
  readonly idempotencyKey?: string;
  /**
   * Seconds the message stays deliverable. Once expired it is neither pushed live nor
   * replayed nor redelivered (it stays in the log until retention drops it). An integer
   * from 1 to {@link MAX_TTL_SECONDS}. @default no expiry
   */
  readonly ttlSeconds?: number;
  /**
   * User targets only: redeliver the message to each of the user's devices that has not
   * acknowledged it, whenever one connects, for as long as the log retains it.
   * @default false
   */
  readonly requireAck?: boolean;
}

/** Longest `ttlSeconds`: 30 days. */
export const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;

export interface PublishResult {
  /** Message id, the same in every stream it was appended to. */
  readonly id: string;
  /** The position of the message in each stream it was appended to. */
  readonly positions: readonly StreamPosition[];
  /** Live sessions the message was written to right away (0 for a duplicate). */
  readonly delivered: number;
  /** True when `idempotencyKey` matched an earlier publish: nothing was published now. */
  readonly duplicate: boolean;
  /** When the message expires (ms since the Unix epoch), if it has a TTL. */
  readonly expiresAt?: number;
}

/** One recipient of a message in {@link MessageStatus}. */
export interface RecipientStatus {
  /** The stream through which the recipient receives the message. */
  readonly stream: string;
  readonly user: string;
  readonly tenant?: string;
  /** `hello.device` of the recipient's sessions; absent for sessions without one. */
  readonly device?: string;
  /** The session the message was written to; absent when only the ack is known. */
  readonly session?: string;
  /**
   * When the gateway wrote the message to `session` (ms since the Unix epoch): within the
   * receipt window (`deliveryReceipts.flushIntervalMs`) of the true time, and for a live
   * push the publish time, which precedes the write by the commit's latency.
   */
  readonly deliveredAt?: number;
  /** The recipient (user and device) acknowledged the message or a later one of the stream. */
  readonly acked: boolean;
  /**
   * When the acknowledgement covering the message arrived: exact when that ack was the
   * first of its receipt window, else the end of the window (at most
   * `deliveryReceipts.flushIntervalMs` late). Absent when no receipt covers it.
   */
  readonly ackedAt?: number;
}

/** What `GET /api/messages/:id` and `gateway.messageStatus(id)` answer. */
export interface MessageStatus {
  readonly id: string;
  readonly publishedAt: number;
  readonly expiresAt?: number;
  readonly requireAck: boolean;
  readonly positions: readonly StreamPosition[];
  /**
   * User streams: one entry per session written to, plus one per device that acknowledged
   * the stream without a recorded delivery. Channels: one entry per consumer that
   * acknowledged the message (deliveries to channel subscribers are not recorded).
   */
  readonly recipients: readonly RecipientStatus[];
  /** More recipients exist than `limit` allowed. */
  readonly truncated: boolean;
}

/** Options of `gateway.messageStatus`. */
export interface MessageStatusOptions {
  /** Most recipients listed, 1 to 1,000. @default 100 */
  readonly limit?: number;
}

/**
 * The seam a transport adapter implements for one accepted connection. The core calls
 * these; the adapter calls the `ConnectionHandler` the core returns.
 */
export interface Connection {
  readonly info: ConnectionInfo;
  /** Queue one text frame. Must not throw on a closing connection. */
  send(text: string): void;
  /** Bytes accepted by `send` but not yet written to the network. */
  readonly bufferedAmount: number;
  /** Close with a code and reason; idempotent. */
  close(code: number, reason: string): void;
  /** Drop the connection without a closing handshake. */
  terminate(): void;
  /**
   * The handshake completed: what only `authenticate` needed (`info.headers`) may be
   * released. Optional; called at most once.
   */
  opened?(): void;
}

export interface ConnectionHandler {
  /** One inbound text frame and its size in UTF-8 bytes. */
  message(text: string, bytes: number): void;
  /** One inbound binary message: a protocol error (4000); the core closes the session. */
  binary(bytes: number): void;
  /** The transport closed (for any reason); the core releases the session. */
  closed(code: number, reason: string): void;
}

/** Raised (thrown or rejected) by `authenticate` to refuse a connection. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  /** The credentials were valid once but expired (close 4101 instead of 4100). */
  readonly expired: boolean;
  constructor(message: string, options: { expired?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.expired = options.expired ?? false;
  }
}

/** Raised by `gateway.publish` for input it cannot accept. */
export class PublishError extends Error {
  override readonly name: string = 'PublishError';
  readonly code: string = 'LIFELINE_ERR_BAD_PUBLISH';
  /** The input field the message is about (`to.user`, `ttlSeconds`), when there is one. */
  readonly field: string | undefined;

  constructor(message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.field = options.field;
  }
}

/**
 * Raised by `gateway.publish` when `idempotencyKey` was used within the window for a
 * publish with a different target, data, TTL or `requireAck`: a reused key, not a retry.
 */
export class PublishConflictError extends PublishError {
  override readonly name = 'PublishConflictError';
  override readonly code = 'LIFELINE_ERR_PUBLISH_CONFLICT';
  /** The id of the publish that holds the key. */
  readonly original: string;

  constructor(message: string, original: string) {
    super(message, { field: 'idempotencyKey' });
    this.original = original;
  }
}

/** Thrown (or rejected) by `onMessage` / `authorizeSubscribe` to answer with `forbidden`. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

/**
 * Decide whether a session may subscribe to a channel. Return (or resolve) `false`, or
 * throw a {@link ForbiddenError}, to answer the `subscribe` with `forbidden`. Any other
 * error answers `handler_error` and is logged.
 */
export type AuthorizeSubscribe = (
  session: SessionInfo,
  channel: string,
) => boolean | Promise<boolean>;

/**
 * Decide whether a session may publish to another user of its tenant (`{ user }`, a chat
 * message) or to a channel (`{ channel }`). Return (or resolve) `true` to publish; `false`
 * or a {@link ForbiddenError} answers `forbidden`; any other error answers
 * `handler_error` and is logged.
 */
export type AuthorizePublish = (
  session: SessionInfo,
  to: PublishTarget,
  data: unknown,
) => boolean | Promise<boolean>;

/**
 * Answer a `request` frame. The return value (or resolved value) becomes `reply.data`
 * and must be JSON; `undefined` sends a reply without data. Throw a
 * {@link ForbiddenError} to answer `forbidden`; any other error answers `handler_error`
 * with a generic message and is logged.
 */
export type OnMessage = (session: SessionInfo, data: unknown) => unknown;

/** The sessions of one user (of one tenant, or of no tenant when `tenant` is absent). */
export interface UserFilter {
  readonly user: string;
  readonly tenant?: string;
}

/** Which sessions `disconnect` ends: every session of a user, or one session by id. */
export type DisconnectTarget = UserFilter | { readonly session: string };

/** Counters for monitoring; a snapshot, not a live view. */
export interface GatewayStats {
  /** Transport connections accepted and not yet closed, including those still handshaking. */
  readonly connections: number;
  /** Open sessions (the client was sent `welcome`). */
  readonly sessions: number;
  /** Distinct users (tenant + user id) with at least one open session. */
  readonly users: number;
  /** Channels with at least one subscriber. */
  readonly channels: number;
  /** Messages accepted by `publish` since the gateway started. */
  readonly published: number;
  /** `push` frames serialized: once per stream and message, however many sessions receive it. */
  readonly pushesEncoded: number;
  /** `push` frames written to sessions (live and replayed). */
  readonly pushesSent: number;
}

/** Why a session ended, as reported by the `closed` event. */
export interface SessionClosedEvent {
  readonly session: SessionInfo;
  readonly code: number;
  readonly reason: string;
}

/** Typed events of a gateway; listeners that throw are logged and never break the gateway. */
export interface GatewayEvents {
  /** A session completed the handshake (its client was sent `welcome`). */
  opened: (session: SessionInfo) => void;
  /** An open session ended, for any reason. */
  closed: (event: SessionClosedEvent) => void;
  /** A hook failed or a session hit an unexpected error; the gateway carried on. */
  error: (error: Error, session: SessionInfo | undefined) => void;
}
