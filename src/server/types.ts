/**
 * Public contract of the gateway core. Transport-agnostic: nothing here knows about
 * `ws` or `node:http`; the adapters in `src/adapters/` translate to and from them.
 */
import type { StreamPosition } from '../protocol/index.js';

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
 * {@link AuthError} (`expired: true` for credentials that were valid but expired). Any other
 * error is treated as a rejection too; its text is logged, never sent to the client.
 */
export type Authenticate = (request: AuthRequest) => Identity | Promise<Identity>;

/** Facts about a transport connection, for hooks and logs. */
export interface ConnectionInfo {
  readonly remoteAddress: string | undefined;
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
}

export interface PublishResult {
  /** Message id, the same in every stream it was appended to. */
  readonly id: string;
  /** The position of the message in each stream it was appended to. */
  readonly positions: readonly StreamPosition[];
  /** Live sessions the message was written to right away. */
  readonly delivered: number;
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
}

export interface ConnectionHandler {
  /** One inbound text frame and its size in bytes. */
  message(text: string, bytes: number): void;
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
  override readonly name = 'PublishError';
  readonly code = 'LIFELINE_ERR_BAD_PUBLISH';
}

/** Thrown (or rejected) by `onMessage` / `authorizeSubscribe` to answer with `forbidden`. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}
