/**
 * Options of the transport-agnostic gateway core, their defaults, and their validation.
 * Everything is checked once, in {@link resolveOptions}, so the engine can trust its
 * configuration.
 */
import { systemClock, type Clock } from '../env/index.js';
import { InvalidOptionError } from '../protocol/index.js';
import { createMemoryAckStore } from '../storage/memory-acks.js';
import { createMemoryLog } from '../storage/memory.js';
import {
  DEFAULT_RECORD_MAX_AGE_MS,
  type AckStore,
  type MessageLog,
  type RetentionOptions,
} from '../storage/types.js';
import { createJwtAuthenticate, type JwtOptions } from './auth/jwt.js';
import { silentLogger, type Logger } from './logger.js';
import type { Authenticate, AuthorizePublish, AuthorizeSubscribe, OnMessage } from './types.js';

/** Default of {@link GatewayCoreOptions.maxFrameBytes}: 64 KiB. */
export const DEFAULT_MAX_FRAME_BYTES = 65_536;
/** Default of {@link GatewayCoreOptions.handshakeTimeoutMs}. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Default of {@link GatewayCoreOptions.pingIntervalMs}. */
export const DEFAULT_PING_INTERVAL_MS = 25_000;
/** Default of {@link GatewayCoreOptions.idleTimeoutMs}. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Default of {@link RateLimitOptions.framesPerSecond}. */
export const DEFAULT_RATE_LIMIT_FRAMES_PER_SECOND = 50;
/** Default of {@link RateLimitOptions.burst}. */
export const DEFAULT_RATE_LIMIT_BURST = 100;
/** Default of {@link GatewayCoreOptions.maxBufferedBytes}: 1 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Default of {@link GatewayCoreOptions.shutdownTimeoutMs}. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
/** Most users one `publish({ to: { users } })` may name. */
export const MAX_PUBLISH_USERS = 1000;
/** Default of {@link SessionPolicyOptions.maxSessionsPerUser}: no limit. */
export const DEFAULT_MAX_SESSIONS_PER_USER = Number.POSITIVE_INFINITY;
/** Default of {@link SessionPolicyOptions.perDevice}. */
export const DEFAULT_PER_DEVICE_POLICY: PerDevicePolicy = 'newest-wins';
/** Default of {@link SessionPolicyOptions.overflow}. */
export const DEFAULT_SESSION_OVERFLOW: SessionOverflowPolicy = 'close-oldest';
/** Default of {@link RequestDedupeOptions.windowMs}: two minutes. */
export const DEFAULT_REQUEST_DEDUPE_WINDOW_MS = 120_000;
/** Default of {@link RequestDedupeOptions.maxEntriesPerUser}. */
export const DEFAULT_REQUEST_DEDUPE_MAX_ENTRIES_PER_USER = 1_000;
/** Default of {@link GatewayCoreOptions.idempotencyWindowMs}: 24 hours. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Default of {@link DeliveryReceiptOptions.flushIntervalMs}. */
export const DEFAULT_RECEIPT_FLUSH_INTERVAL_MS = 5_000;

/**
 * Recording of delivery and ack times for the status API. Deliveries to user inboxes and
 * acks of them are tracked in memory, per session (or device) as runs of consecutive
 * offsets, and written to the ack store in one batch per interval: nothing is stored per
 * message, and a broadcast costs nothing (channel deliveries are not recorded).
 */
export interface DeliveryReceiptOptions {
  /**
   * How often receipts are written, in ms; also the longest time one receipt spans, and
   * so the precision of `deliveredAt`/`ackedAt` for anything but a live push. Receipts
   * still in memory are reported too; a crash loses at most this much of them.
   * @default 5_000
   */
  readonly flushIntervalMs?: number;
}

/**
 * What happens when a session opens for a user and device (`hello.device`) that already
 * has an open session: `newest-wins` closes the older one with 4102 (replaced),
 * `reject-new` closes the new one with 4103 (session limit), `allow` keeps both.
 */
export type PerDevicePolicy = 'newest-wins' | 'reject-new' | 'allow';

/**
 * What happens when a new session would exceed `maxSessionsPerUser`: `close-oldest`
 * closes the user's oldest sessions with 4102 (replaced), `reject-new` closes the new one
 * with 4103 (session limit).
 */
export type SessionOverflowPolicy = 'close-oldest' | 'reject-new';

/**
 * How many sessions one user (of one tenant) may hold. Applied after authentication and
 * before `welcome`, so an unauthenticated connection never displaces a session.
 */
export interface SessionPolicyOptions {
  /** Most open sessions per user and tenant; a positive integer or `Infinity`. @default Infinity */
  readonly maxSessionsPerUser?: number;
  /** Sessions of one user with the same `hello.device`; sessions without a device are exempt. @default 'newest-wins' */
  readonly perDevice?: PerDevicePolicy;
  /** What exceeding `maxSessionsPerUser` does. @default 'close-oldest' */
  readonly overflow?: SessionOverflowPolicy;
}

/**
 * De-duplication of `request` frames a client re-sends after reconnecting: within the
 * window, a request id already seen for the same user (and device) is answered with the
 * original reply instead of running `onMessage` again.
 */
export interface RequestDedupeOptions {
  /** How long a request id is remembered after its reply, in ms. @default 120_000 */
  readonly windowMs?: number;
  /** Most request ids remembered per user; the least recently used are forgotten first. @default 1_000 */
  readonly maxEntriesPerUser?: number;
}

/** Token bucket applied to the frames each session sends. */
export interface RateLimitOptions {
  /** Sustained rate, in frames per second. @default 50 */
  readonly framesPerSecond?: number;
  /** Frames a session may send at once before the rate applies. @default 100 */
  readonly burst?: number;
}

export interface GatewayCoreOptions {
  /**
   * Decide who a connection is from `hello.token`. Give this or `jwt`.
   * @default none — required unless `jwt` is given
   */
  readonly authenticate?: Authenticate;
  /** Verify `hello.token` as a JWT (user id from `sub`). Give this or `authenticate`. */
  readonly jwt?: JwtOptions;
  /** May a session subscribe to a channel? @default every subscription is allowed */
  readonly authorizeSubscribe?: AuthorizeSubscribe;
  /** Answers `request` frames. @default none — requests are answered `not_supported` */
  readonly onMessage?: OnMessage;
  /**
   * May a session publish to another user of its tenant or to a channel (`publish` frames,
   * seed 002's chat)? @default none — every client publish is answered `forbidden`
   */
  readonly authorizePublish?: AuthorizePublish;
  /** Where published messages are stored and positioned. @default an in-memory log */
  readonly messageLog?: MessageLog;
  /**
   * Retention of the default in-memory log (10,000 messages / 24 h per stream by default).
   * With `messageLog`, configure retention on that log instead.
   */
  readonly retention?: RetentionOptions;
  /** Where `ack` frames and delivery receipts are recorded. @default an in-memory store */
  readonly ackStore?: AckStore;
  /**
   * How long an `idempotencyKey` of `publish` is remembered, in ms. The log must keep the
   * publish record that long too (its `records.maxAgeMs`, 24 h by default; the default
   * in-memory log is given at least this window).
   * @default 86_400_000 (24 h)
   */
  readonly idempotencyWindowMs?: number;
  /**
   * Delivery and ack times for `messageStatus` / `GET /api/messages/:id`; `false` turns
   * the recording off (the status then says only whether each device acked).
   * @default { flushIntervalMs: 5_000 }
   */
  readonly deliveryReceipts?: DeliveryReceiptOptions | false;
  /** Largest inbound frame, in UTF-8 bytes; larger ones close with 4002. @default 65_536 */
  readonly maxFrameBytes?: number;
  /** Time a connection has to complete the handshake (`hello` → `welcome`), in ms; then 4003. @default 10_000 */
  readonly handshakeTimeoutMs?: number;
  /** Longest interval between client pings, in ms, announced in `welcome`. @default 25_000 */
  readonly pingIntervalMs?: number;
  /** An open session that sends nothing for this long, in ms, is closed with 4004. Must exceed `pingIntervalMs`. @default 60_000 */
  readonly idleTimeoutMs?: number;
  /** Inbound frame rate limit per session; exceeding it closes with 4005. `false` disables it. @default { framesPerSecond: 50, burst: 100 } */
  readonly rateLimit?: RateLimitOptions | false;
  /** A session whose unsent outbound data exceeds this many bytes is closed with 4006. @default 1_048_576 */
  readonly maxBufferedBytes?: number;
  /** How long `close()` waits for sessions to finish their closing handshake, in ms, before dropping them. @default 5_000 */
  readonly shutdownTimeoutMs?: number;
  /** Duplicate-session policy per user and device. @default { maxSessionsPerUser: Infinity, perDevice: 'newest-wins', overflow: 'close-oldest' } */
  readonly sessionPolicy?: SessionPolicyOptions;
  /** De-duplication of re-sent `request` ids. @default { windowMs: 120_000, maxEntriesPerUser: 1_000 } */
  readonly requestDedupe?: RequestDedupeOptions;
  /** A pino-compatible logger. @default a silent logger */
  readonly logger?: Logger;
  /** Time source and timers; inject a fake one in tests. @default the system clock */
  readonly clock?: Clock;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly authenticate: Authenticate;
  readonly authorizeSubscribe: AuthorizeSubscribe | undefined;
  readonly authorizePublish: AuthorizePublish | undefined;
  readonly onMessage: OnMessage | undefined;
  readonly messageLog: MessageLog;
  readonly ackStore: AckStore;
  readonly idempotencyWindowMs: number;
  readonly deliveryReceipts: Required<DeliveryReceiptOptions> | undefined;
  readonly maxFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly rateLimit: { readonly framesPerSecond: number; readonly burst: number } | undefined;
  readonly maxBufferedBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly sessionPolicy: Required<SessionPolicyOptions>;
  readonly requestDedupe: Required<RequestDedupeOptions>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Stores the gateway created itself, and therefore closes when it closes. */
  readonly ownedStores: readonly { close(): Promise<void> }[];
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(`${name} must be a positive integer, got ${String(value)}.`);
  }
  return value;
}

function positiveRate(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`${name} must be a positive number, got ${String(value)}.`);
  }
  return value;
}

function oneOf<T extends string>(
  value: T | undefined,
  fallback: T,
  allowed: readonly T[],
  name: string,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    const list = allowed.map((a) => `'${a}'`).join(', ');
    throw new InvalidOptionError(`${name} must be one of ${list}, got ${String(value)}.`);
  }
  return value;
}

function resolveSessionPolicy(
  policy: SessionPolicyOptions | undefined,
): Required<SessionPolicyOptions> {
  const max = policy?.maxSessionsPerUser;
  return {
    maxSessionsPerUser:
      max === Number.POSITIVE_INFINITY
        ? max
        : positive(max, DEFAULT_MAX_SESSIONS_PER_USER, 'sessionPolicy.maxSessionsPerUser'),
    perDevice: oneOf(
      policy?.perDevice,
      DEFAULT_PER_DEVICE_POLICY,
      ['newest-wins', 'reject-new', 'allow'],
      'sessionPolicy.perDevice',
    ),
    overflow: oneOf(
      policy?.overflow,
      DEFAULT_SESSION_OVERFLOW,
      ['close-oldest', 'reject-new'],
      'sessionPolicy.overflow',
    ),
  };
}

function pickAuthenticate(options: GatewayCoreOptions, clock: Clock): Authenticate {
  if (options.authenticate !== undefined && options.jwt !== undefined) {
    throw new InvalidOptionError('Give either `authenticate` or `jwt`, not both.');
  }
  if (options.authenticate !== undefined) return options.authenticate;
  if (options.jwt !== undefined) return createJwtAuthenticate(options.jwt, clock);
  throw new InvalidOptionError(
    'The gateway needs a way to authenticate clients: pass `jwt: { secret }` (or `jwksUrl`), ' +
      'or an `authenticate(request)` function that returns { userId }.',
  );
}

/** Apply defaults and validate. Throws {@link InvalidOptionError}. */
export function resolveOptions(options: GatewayCoreOptions): ResolvedOptions {
  const clock = options.clock ?? systemClock;
  const pingIntervalMs = positive(
    options.pingIntervalMs,
    DEFAULT_PING_INTERVAL_MS,
    'pingIntervalMs',
  );
  const idleTimeoutMs = positive(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 'idleTimeoutMs');
  if (idleTimeoutMs <= pingIntervalMs) {
    // PROTOCOL.md §6: a client pinging on time must never be mistaken for an idle one.
    throw new InvalidOptionError(
      `idleTimeoutMs (${idleTimeoutMs}) must be greater than pingIntervalMs (${pingIntervalMs}) plus network slack.`,
    );
  }
  if (options.messageLog !== undefined && options.retention !== undefined) {
    throw new InvalidOptionError(
      '`retention` configures the default in-memory log; set retention on your `messageLog` instead.',
    );
  }
  const rate = options.rateLimit;
  const idempotencyWindowMs = positive(
    options.idempotencyWindowMs,
    DEFAULT_IDEMPOTENCY_WINDOW_MS,
    'idempotencyWindowMs',
  );
  const receipts = options.deliveryReceipts;
  const deliveryReceipts =
    receipts === false
      ? undefined
      : {
          flushIntervalMs: positive(
            receipts?.flushIntervalMs,
            DEFAULT_RECEIPT_FLUSH_INTERVAL_MS,
            'deliveryReceipts.flushIntervalMs',
          ),
        };
  const messageLog =
    options.messageLog ??
    createMemoryLog({
      clock,
      ...(options.retention ? { retention: options.retention } : {}),
      records: { maxAgeMs: Math.max(DEFAULT_RECORD_MAX_AGE_MS, idempotencyWindowMs) },
    });
  const ackStore = options.ackStore ?? createMemoryAckStore({ clock });
  return {
    authenticate: pickAuthenticate(options, clock),
    authorizeSubscribe: options.authorizeSubscribe,
    authorizePublish: options.authorizePublish,
    onMessage: options.onMessage,
    messageLog,
    ackStore,
    idempotencyWindowMs,
    deliveryReceipts,
    maxFrameBytes: positive(options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes'),
    handshakeTimeoutMs: positive(
      options.handshakeTimeoutMs,
      DEFAULT_HANDSHAKE_TIMEOUT_MS,
      'handshakeTimeoutMs',
    ),
    pingIntervalMs,
    idleTimeoutMs,
    rateLimit:
      rate === false
        ? undefined
        : {
            framesPerSecond: positiveRate(
              rate?.framesPerSecond,
              DEFAULT_RATE_LIMIT_FRAMES_PER_SECOND,
              'rateLimit.framesPerSecond',
            ),
            burst: positive(rate?.burst, DEFAULT_RATE_LIMIT_BURST, 'rateLimit.burst'),
          },
    maxBufferedBytes: positive(
      options.maxBufferedBytes,
      DEFAULT_MAX_BUFFERED_BYTES,
      'maxBufferedBytes',
    ),
    shutdownTimeoutMs: positive(
      options.shutdownTimeoutMs,
      DEFAULT_SHUTDOWN_TIMEOUT_MS,
      'shutdownTimeoutMs',
    ),
    sessionPolicy: resolveSessionPolicy(options.sessionPolicy),
    requestDedupe: {
      windowMs: positive(
        options.requestDedupe?.windowMs,
        DEFAULT_REQUEST_DEDUPE_WINDOW_MS,
        'requestDedupe.windowMs',
      ),
      maxEntriesPerUser: positive(
        options.requestDedupe?.maxEntriesPerUser,
        DEFAULT_REQUEST_DEDUPE_MAX_ENTRIES_PER_USER,
        'requestDedupe.maxEntriesPerUser',
      ),
    },
    logger: options.logger ?? silentLogger,
    clock,
    ownedStores: [
      ...(options.messageLog === undefined ? [messageLog] : []),
      ...(options.ackStore === undefined ? [ackStore] : []),
    ],
  };
}
