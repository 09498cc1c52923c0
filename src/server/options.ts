/**
 * Options of the transport-agnostic gateway core, their defaults, and their validation.
 * Everything is checked once, in {@link resolveOptions}, so the engine can trust its
 * configuration.
 */
import { systemClock, type Clock } from '../env/index.js';
import { InvalidOptionError } from '../protocol/index.js';
import { createMemoryAckStore } from '../storage/memory-acks.js';
import { createMemoryLog } from '../storage/memory.js';
import type { AckStore, MessageLog, RetentionOptions } from '../storage/types.js';
import { createJwtAuthenticate, type JwtOptions } from './auth/jwt.js';
import { silentLogger, type Logger } from './logger.js';
import type { Authenticate, AuthorizeSubscribe, OnMessage } from './types.js';

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
  /** Where published messages are stored and positioned. @default an in-memory log */
  readonly messageLog?: MessageLog;
  /**
   * Retention of the default in-memory log (10,000 messages / 24 h per stream by default).
   * With `messageLog`, configure retention on that log instead.
   */
  readonly retention?: RetentionOptions;
  /** Where `ack` frames are recorded. @default an in-memory store */
  readonly ackStore?: AckStore;
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
  /** A pino-compatible logger. @default a silent logger */
  readonly logger?: Logger;
  /** Time source and timers; inject a fake one in tests. @default the system clock */
  readonly clock?: Clock;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly authenticate: Authenticate;
  readonly authorizeSubscribe: AuthorizeSubscribe | undefined;
  readonly onMessage: OnMessage | undefined;
  readonly messageLog: MessageLog;
  readonly ackStore: AckStore;
  readonly maxFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly rateLimit: { readonly framesPerSecond: number; readonly burst: number } | undefined;
  readonly maxBufferedBytes: number;
  readonly shutdownTimeoutMs: number;
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
  const messageLog =
    options.messageLog ??
    createMemoryLog({ clock, ...(options.retention ? { retention: options.retention } : {}) });
  const ackStore = options.ackStore ?? createMemoryAckStore();
  return {
    authenticate: pickAuthenticate(options, clock),
    authorizeSubscribe: options.authorizeSubscribe,
    onMessage: options.onMessage,
    messageLog,
    ackStore,
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
    logger: options.logger ?? silentLogger,
    clock,
    ownedStores: [
      ...(options.messageLog === undefined ? [messageLog] : []),
      ...(options.ackStore === undefined ? [ackStore] : []),
    ],
  };
}
