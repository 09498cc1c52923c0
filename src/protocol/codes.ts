/**
 * Protocol constants: version, subprotocol name, and the one close-code table.
 *
 * Close codes are API. Every code a Lifeline gateway or client uses is listed here with
 * its class; the client decides whether to reconnect by reading the class, never the
 * number. `docs/PROTOCOL.md` §7 is the prose version of this table.
 */

/** The protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;

/** WebSocket subprotocol that carries {@link PROTOCOL_VERSION}. */
export const SUBPROTOCOL = `lifeline.v${PROTOCOL_VERSION}`;

/** Prefix every Lifeline subprotocol shares; used to recognise a version we do not speak. */
export const SUBPROTOCOL_PREFIX = 'lifeline.v';

/**
 * What a client does after a close:
 * - `retry`: reconnect with backoff, resuming where it left off;
 * - `resync`: the gateway dropped frames meant for this session: reconnect and resume
 *   from the client's positions, which stay true; the gateway replays what
 *   was missed or says `resync` per stream (PROTOCOL.md §10.2);
 * - `fatal`: do not reconnect until the application asks for it.
 */
export type CloseClass = 'retry' | 'resync' | 'fatal';

export const CloseCode = {
  /** Normal closure (RFC 6455). Sent by a client that closes on purpose. */
  NORMAL: 1000,
  /** Endpoint going away (RFC 6455): page unload, process exit. */
  GOING_AWAY: 1001,
  /** No close frame was received: the connection dropped (RFC 6455, never sent). */
  ABNORMAL: 1006,
  /** Message too big (RFC 6455): a frame exceeded the WebSocket layer's hard cap. */
  MESSAGE_TOO_BIG: 1009,
  /** Internal server error (RFC 6455). */
  INTERNAL: 1011,

  /** A frame was not valid JSON, not a known frame, or not allowed in this state. */
  PROTOCOL_ERROR: 4000,
  /** The client asked for a protocol version the gateway does not speak. */
  UNSUPPORTED_VERSION: 4001,
  /** A frame exceeded `maxFrameBytes`. */
  FRAME_TOO_LARGE: 4002,
  /** No `hello` arrived within `handshakeTimeoutMs`. */
  HANDSHAKE_TIMEOUT: 4003,
  /** Heartbeat lost: the gateway heard nothing within `idleTimeoutMs`, or the client got no pong. */
  HEARTBEAT_TIMEOUT: 4004,
  /** The client sent frames faster than the gateway's rate limit. */
  RATE_LIMITED: 4005,
  /** The client did not read fast enough; frames were dropped and it must resume. */
  SLOW_CONSUMER: 4006,
  /** The gateway is shutting down; another instance (or this one, restarted) will serve. */
  SHUTTING_DOWN: 4007,
  /** The gateway hit an unexpected error while serving this session. */
  SERVER_ERROR: 4008,

  /** The credentials in `hello` were rejected. */
  AUTH_FAILED: 4100,
  /** The credentials expired; reconnect with fresh ones. */
  AUTH_EXPIRED: 4101,
  /** A newer session of the same user (or device) replaced this one. */
  REPLACED: 4102,
  /** The user already has as many sessions as the gateway allows. */
  SESSION_LIMIT: 4103,
  /** The backend ended the session on purpose (for example through the admin API). */
  KICKED: 4104,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * The class of every code in {@link CloseCode}. {@link closeClassOf} computes the same from
 * the code ranges (a test holds the two together), so a client bundle needs no table.
 */
// Pure: a bundle that does not read the table leaves it out.
export const CLOSE_CLASS: Readonly<Record<CloseCode, CloseClass>> = /* @__PURE__ */ (() => ({
  [CloseCode.NORMAL]: 'retry',
  [CloseCode.GOING_AWAY]: 'retry',
  [CloseCode.ABNORMAL]: 'retry',
  [CloseCode.MESSAGE_TOO_BIG]: 'fatal',
  [CloseCode.INTERNAL]: 'retry',
  [CloseCode.PROTOCOL_ERROR]: 'fatal',
  [CloseCode.UNSUPPORTED_VERSION]: 'fatal',
  [CloseCode.FRAME_TOO_LARGE]: 'fatal',
  [CloseCode.HANDSHAKE_TIMEOUT]: 'retry',
  [CloseCode.HEARTBEAT_TIMEOUT]: 'retry',
  [CloseCode.RATE_LIMITED]: 'retry',
  [CloseCode.SLOW_CONSUMER]: 'resync',
  [CloseCode.SHUTTING_DOWN]: 'retry',
  [CloseCode.SERVER_ERROR]: 'retry',
  [CloseCode.AUTH_FAILED]: 'fatal',
  [CloseCode.AUTH_EXPIRED]: 'retry',
  [CloseCode.REPLACED]: 'fatal',
  [CloseCode.SESSION_LIMIT]: 'fatal',
  [CloseCode.KICKED]: 'fatal',
}))();

/**
 * The class of any close code, including ones this build does not know: `resync` for
 * 4006; `retry` for 4003–4008 (the gateway's transient conditions) and 4101 (fresh
 * credentials help); `fatal` for 1009 and every other code in 4000–4999 (a newer
 * gateway's refusal we cannot interpret should not become a reconnect loop); `retry` for
 * every other code (RFC 6455 codes: the connection dropped or the server restarted).
 */
export function closeClassOf(code: number): CloseClass {
  if (code === CloseCode.SLOW_CONSUMER) return 'resync';
  if (
    code === CloseCode.AUTH_EXPIRED ||
    (code >= CloseCode.HANDSHAKE_TIMEOUT && code <= CloseCode.SERVER_ERROR)
  )
    return 'retry';
  return code === CloseCode.MESSAGE_TOO_BIG || (code >= 4000 && code <= 4999) ? 'fatal' : 'retry';
}

/** Short, stable reason strings sent with each close code. Never internal error text. */
// Pure: a bundle that does not read the table leaves it out.
export const CLOSE_REASON: Readonly<Record<CloseCode, string>> = /* @__PURE__ */ (() => ({
  [CloseCode.NORMAL]: 'normal closure',
  [CloseCode.GOING_AWAY]: 'going away',
  [CloseCode.ABNORMAL]: 'connection lost',
  [CloseCode.MESSAGE_TOO_BIG]: 'message too big',
  [CloseCode.INTERNAL]: 'internal error',
  [CloseCode.PROTOCOL_ERROR]: 'protocol error',
  [CloseCode.UNSUPPORTED_VERSION]: 'unsupported protocol version',
  [CloseCode.FRAME_TOO_LARGE]: 'frame too large',
  [CloseCode.HANDSHAKE_TIMEOUT]: 'handshake timeout',
  [CloseCode.HEARTBEAT_TIMEOUT]: 'heartbeat timeout',
  [CloseCode.RATE_LIMITED]: 'rate limited',
  [CloseCode.SLOW_CONSUMER]: 'slow consumer',
  [CloseCode.SHUTTING_DOWN]: 'server shutting down',
  [CloseCode.SERVER_ERROR]: 'server error',
  [CloseCode.AUTH_FAILED]: 'authentication failed',
  [CloseCode.AUTH_EXPIRED]: 'authentication expired',
  [CloseCode.REPLACED]: 'replaced by a newer session',
  [CloseCode.SESSION_LIMIT]: 'too many sessions',
  [CloseCode.KICKED]: 'disconnected by the server',
}))();

/** Error codes carried by a failed `reply` frame. */
export const ReplyErrorCode = {
  BAD_REQUEST: 'bad_request',
  FORBIDDEN: 'forbidden',
  NOT_SUPPORTED: 'not_supported',
  HANDLER_ERROR: 'handler_error',
} as const;

export type ReplyErrorCode = (typeof ReplyErrorCode)[keyof typeof ReplyErrorCode];
