/**
 * Every frame of protocol version 1, one discriminated union per direction.
 * `docs/PROTOCOL.md` §4–§6 is the normative prose for these types.
 */

/** A position in an ordered stream. `epoch` changes when the stream's history is lost. */
export interface StreamPosition {
  /** Stream name: `user:<id>` for a user's inbox, `channel:<name>` for a channel. */
  readonly stream: string;
  /** Opaque history generation. Positions of different epochs are not comparable. */
  readonly epoch: string;
  /** Strictly increasing per stream, starting at 1. */
  readonly offset: number;
}

// ---------------------------------------------------------------- client → server

/** First frame on every connection: who the client is. */
export interface HelloFrame {
  readonly type: 'hello';
  /** Credentials checked by the gateway's `authenticate` hook (a JWT by default). */
  readonly token?: string;
  /** A stable id of the device or browser profile, for the duplicate-session policy. */
  readonly device?: string;
  /** Free-form client name and version, for logs (`lifeline-js/0.1.0`). */
  readonly client?: string;
  /** Positions the client has delivered, so the gateway can replay what it missed. */
  readonly resume?: readonly StreamPosition[];
}

/** Liveness probe; the gateway answers with `pong` echoing `t`. */
export interface PingFrame {
  readonly type: 'ping';
  readonly t?: number;
}

/** Cumulative delivery acknowledgement: everything up to each position was handed to the app. */
export interface AckFrame {
  readonly type: 'ack';
  readonly positions: readonly StreamPosition[];
}

/** An application message to the gateway's `onMessage` hook; always answered by `reply`. */
export interface RequestFrame {
  readonly type: 'request';
  readonly id: string;
  readonly data: unknown;
}

/** Where a client publishes: another user of its own tenant, or a channel. */
export type PublishTarget = { readonly user: string } | { readonly channel: string };

/**
 * Publish a message through the gateway (a chat message to another user, a post to a
 * channel). Allowed only when the gateway's `authorizePublish` hook says so. Answered by
 * `reply` whose `data` is `{ id, positions }` of the published message.
 */
export interface PublishFrame {
  readonly type: 'publish';
  readonly id: string;
  readonly to: PublishTarget;
  readonly data: unknown;
}

/** Start receiving a channel, optionally from a known position. Answered by `reply`. */
export interface SubscribeFrame {
  readonly type: 'subscribe';
  readonly id: string;
  readonly channel: string;
  readonly from?: { readonly epoch: string; readonly offset: number };
}

/** Stop receiving a channel. Answered by `reply`. */
export interface UnsubscribeFrame {
  readonly type: 'unsubscribe';
  readonly id: string;
  readonly channel: string;
}

/**
 * Replay a stream from a position the client has: sent when a push skipped offsets (a live
 * gap). The gateway replays what follows `positions` (or answers with `resync`), then
 * answers with `reply`.
 */
export interface ResumeFrame {
  readonly type: 'resume';
  readonly id: string;
  readonly positions: readonly StreamPosition[];
}

export type ClientFrame =
  | HelloFrame
  | PingFrame
  | AckFrame
  | RequestFrame
  | PublishFrame
  | SubscribeFrame
  | UnsubscribeFrame
  | ResumeFrame;

// ---------------------------------------------------------------- server → client

/** The handshake succeeded: the session is ready. */
export interface WelcomeFrame {
  readonly type: 'welcome';
  readonly protocol: number;
  /** Session id, unique per connection. */
  readonly session: string;
  /** The authenticated user id. */
  readonly user: string;
  /** Gateway clock (ms since the Unix epoch) when the frame was written. */
  readonly serverTime: number;
  /** The longest ping interval the gateway accepts; clients ping at least this often. */
  readonly pingIntervalMs: number;
  /** The gateway closes a session it hears nothing from for this long. */
  readonly idleTimeoutMs: number;
  /** The largest frame, in UTF-8 bytes, the gateway accepts. */
  readonly maxFrameBytes: number;
  /**
   * Where the session starts on streams the client did not resume: the head of the user's
   * inbox when the session joined it. A client without a position for such a stream
   * adopts it, so a later reconnect resumes from here instead of missing what was
   * published while it was away.
   */
  readonly positions?: readonly StreamPosition[];
}

export interface PongFrame {
  readonly type: 'pong';
  readonly t?: number;
}

/** A message published to a stream this session receives. */
export interface PushFrame {
  readonly type: 'push';
  /** Message id, unique per gateway deployment. */
  readonly id: string;
  readonly stream: string;
  readonly epoch: string;
  readonly offset: number;
  readonly data: unknown;
  /** When the gateway accepted the publish (ms since the Unix epoch). */
  readonly publishedAt: number;
  /**
   * The offset this push follows for the session: the gateway sent nothing in between on
   * purpose (those messages expired, say). Absent means `offset − 1`. Below `offset`.
   */
  readonly after?: number;
}

export interface ReplyError {
  readonly code: string;
  readonly message: string;
}

/** The answer to a `request`, `subscribe` or `unsubscribe` with the same id. */
export type ReplyFrame =
  | { readonly type: 'reply'; readonly id: string; readonly ok: true; readonly data?: unknown }
  | { readonly type: 'reply'; readonly id: string; readonly ok: false; readonly error: ReplyError };

/** Sent right before the gateway closes the connection; the only close signal on HTTP transports. */
export interface CloseFrame {
  readonly type: 'close';
  readonly code: number;
  readonly reason: string;
  /** The earliest the client should reconnect, when the gateway knows it. */
  readonly retryAfterMs?: number;
}

/**
 * Why a position could not be served completely:
 * - `epoch_changed`: the stream's history was lost since (or the position is of another
 *   gateway's history);
 * - `trimmed`: retention dropped messages after the position;
 * - `ahead`: the position is beyond the newest message of the stream.
 */
export type ResyncReason = 'epoch_changed' | 'trimmed' | 'ahead';

/**
 * The gateway cannot serve everything after the position a client resumed from. Delivery
 * of `stream` continues after `epoch`/`offset` (the next push is `offset + 1` of `epoch`);
 * both are absent when the stream has no history at all. The messages in between are not
 * sent: the application has to re-fetch its state.
 */
export interface ResyncFrame {
  readonly type: 'resync';
  readonly stream: string;
  readonly reason: ResyncReason;
  readonly epoch?: string;
  readonly offset?: number;
}

export type ServerFrame =
  WelcomeFrame | PongFrame | PushFrame | ReplyFrame | CloseFrame | ResyncFrame;

export type ClientFrameType = ClientFrame['type'];
export type ServerFrameType = ServerFrame['type'];
