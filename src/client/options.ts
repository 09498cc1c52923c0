/**
 * Client options: the public contract (with units and defaults) and the one place they are
 * validated and resolved. Everything downstream works on {@link ResolvedOptions} and never
 * re-checks a value or re-applies a default.
 */
import {
  InvalidOptionError,
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_TOKEN_LENGTH,
  UnsupportedError,
} from '../protocol/index.js';
import {
  DEV,
  browserPage,
  isEventTarget,
  systemClock,
  type Clock,
  type PageLifecycle,
} from '../env/index.js';
import type { FallbackMode } from './fallback.js';
import { fetchRequester, type FetchLike, type HttpRequester } from './transports/http.js';
import type { TransportKind } from './transports/transport.js';
import type { WebSocketConstructorLike } from './transports/websocket.js';

/** Default of {@link ClientOptions.pingIntervalMs}, in ms. */
export const DEFAULT_PING_INTERVAL_MS = 25_000;
/** Default of {@link ClientOptions.pongTimeoutMs}, in ms. */
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;
/** Default of {@link ClientOptions.connectTimeoutMs}, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
/** Default of {@link ClientOptions.minReconnectDelayMs}, in ms. */
export const DEFAULT_MIN_RECONNECT_DELAY_MS = 1_000;
/** Default of {@link ClientOptions.maxReconnectDelayMs}, in ms. */
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 30_000;
/** Default of {@link ClientOptions.maxReconnectAttempts}: never give up. */
export const DEFAULT_MAX_RECONNECT_ATTEMPTS = Infinity;
/** Default of {@link ClientOptions.requestTimeoutMs}, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Default of {@link OutboxOptions.maxMessages}. */
export const DEFAULT_OUTBOX_MAX_MESSAGES = 1_000;
/** Default of {@link OutboxOptions.maxBytes}, in UTF-8 bytes (1 MiB). */
export const DEFAULT_OUTBOX_MAX_BYTES = 1_048_576;
/** Default of {@link ClientOptions.ackDelayMs}, in ms. */
export const DEFAULT_ACK_DELAY_MS = 1_000;
/** Default of {@link ClientOptions.channelAckDelayMs}, in ms. */
export const DEFAULT_CHANNEL_ACK_DELAY_MS = 5_000;
/** Default of {@link ClientOptions.storageSaveDelayMs}, in ms. */
export const DEFAULT_STORAGE_SAVE_DELAY_MS = 1_000;
/** Prefix of the default {@link ClientOptions.storageKey}; the gateway URL follows it. */
export const DEFAULT_STORAGE_KEY_PREFIX = 'lifeline:positions:';

/** Default of {@link ClientOptions.transports}: WebSocket, and HTTP long-polling as the fallback. */
export const DEFAULT_TRANSPORTS: readonly TransportKind[] = ['websocket', 'polling'];

/** Default of {@link ClientOptions.fallback}. */
export const DEFAULT_FALLBACK: FallbackMode = 'auto';
/** Default of {@link ClientOptions.fallbackAfterFailures}. */
export const DEFAULT_FALLBACK_AFTER_FAILURES = 3;
/** Default of {@link ClientOptions.fallbackAfterMs}, in ms. */
export const DEFAULT_FALLBACK_AFTER_MS = 10_000;
/** Default of {@link ClientOptions.probeIntervalMs}, in ms. */
export const DEFAULT_PROBE_INTERVAL_MS = 30_000;
/** Default of {@link ClientOptions.maxProbeIntervalMs}, in ms (5 minutes). */
export const DEFAULT_MAX_PROBE_INTERVAL_MS = 300_000;
/** Default of {@link ClientOptions.transportMemoryMs}, in ms (24 hours). */
export const DEFAULT_TRANSPORT_MEMORY_MS = 24 * 60 * 60 * 1000;
/** Prefix of the key the transport outcome is stored under; the gateway URL follows it. */
export const TRANSPORT_MEMORY_KEY_PREFIX = 'lifeline:transport:';

/** Credentials sent in `hello.token`: a fixed string, or a function asked before every attempt. */
export type TokenSource = string | (() => string | Promise<string>);

/** Where the client hears about the host's connectivity (a browser `window`, for example). */
export interface NetworkSource {
  addEventListener(type: 'online' | 'offline', listener: (event: unknown) => void): void;
  removeEventListener(type: 'online' | 'offline', listener: (event: unknown) => void): void;
}

/**
 * Bounds of the outbox shared by `send()` and `request()`: messages waiting for a session
 * and messages sent but not yet answered count alike.
 */
export interface OutboxOptions {
  /** Most messages held at once. @default 1_000 */
  readonly maxMessages?: number;
  /** Most UTF-8 bytes of encoded `request` frames held at once. @default 1_048_576 (1 MiB) */
  readonly maxBytes?: number;
}

/**
 * Where delivered positions are kept between page loads: `localStorage` fits as is; a
 * mini-program passes a small adapter over its own storage. Either method may be
 * synchronous or return a promise. A missing key reads as `null` (`undefined` and `''`
 * are accepted too).
 */
export interface PositionStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
}

/** Batched delivery on the `messages` event. */
export interface BatchOptions {
  /** Longest time the first message of a batch waits for company, in ms. */
  readonly maxWaitMs: number;
  /** A batch is delivered as soon as it holds this many messages. */
  readonly maxSize: number;
}

export interface ClientOptions {
  /** `ws://` or `wss://` URL of the gateway endpoint. */
  readonly url: string;
  /**
   * Credentials for `hello.token`. A function is called again before every connection
   * attempt, so it can return a fresh token; with a function, close code 4101
   * (authentication expired) reconnects, with a fixed string it is fatal.
   */
  readonly token?: TokenSource;
  /** A stable id of this device or browser profile, sent in `hello.device`. */
  readonly device?: string;
  /**
   * The WebSocket constructor to use.
   * @default globalThis.WebSocket — Node 20 has none: pass `WebSocket` from the `ws`
   * package, or use `createNodeClient` from `lifeline/node`.
   */
  readonly WebSocket?: WebSocketConstructorLike;
  /**
   * Transports the client may use, in order of preference. With both, the client starts
   * on WebSocket and falls back to HTTP long-polling (PROTOCOL.md §11) where WebSocket
   * does not get through; with one, it uses only that one.
   * @default ['websocket', 'polling'] — polling only where `fetch` or `request` is available,
   * and not when `WebSocket` is passed without `fetch` or `request` (then ['websocket'])
   */
  readonly transports?: readonly TransportKind[];
  /**
   * The `fetch` function the polling transport uses.
   * @default globalThis.fetch
   */
  readonly fetch?: FetchLike;
  /**
   * Instead of `fetch`: a function that starts one HTTP request and can abort it, for hosts
   * that have their own (`wx.request`, `uni.request`). Takes precedence over `fetch`.
   * @default none
   */
  readonly request?: HttpRequester;
  /**
   * When to use polling while WebSocket is also allowed: `auto` falls back after
   * `fallbackAfterFailures` failed WebSocket attempts or one not open within
   * `fallbackAfterMs`; `immediate` starts on polling at once (a time-critical page) and
   * tries WebSocket in the background; `never` stays on WebSocket. On polling, the client
   * keeps probing WebSocket and switches back, mid-session, when a probe is open.
   * @default 'auto'
   */
  readonly fallback?: FallbackMode;
  /** Consecutive WebSocket attempts that fail before `auto` falls back to polling. @default 3 */
  readonly fallbackAfterFailures?: number;
  /**
   * A WebSocket attempt (or probe) that is not open within this time counts as failed, and
   * `auto` falls back to polling at once, in ms. @default 10_000
   */
  readonly fallbackAfterMs?: number;
  /** Delay before the first WebSocket probe while on polling (doubling after each failed one), in ms. @default 30_000 */
  readonly probeIntervalMs?: number;
  /** Cap of the delay between WebSocket probes, in ms. @default 300_000 */
  readonly maxProbeIntervalMs?: number;
  /**
   * With `storage`: how long "WebSocket fails from here" is remembered per URL, so the next
   * page load starts on polling at once, in ms. `0` disables it. @default 86_400_000 (24 h)
   */
  readonly transportMemoryMs?: number;
  /** Source of time and timers. @default systemClock */
  readonly clock?: Clock;
  /** Uniform random numbers in [0, 1), for reconnect jitter and request ids. @default Math.random */
  readonly random?: () => number;
  /**
   * Emits `online` / `offline`. `offline` drops the connection at once, `online` ends a
   * reconnect wait at once.
   * @default globalThis when it has `addEventListener` (browsers), otherwise none
   */
  readonly network?: NetworkSource;
  /**
   * Longest time without inbound traffic before the client pings, in ms. The gateway's
   * `welcome.pingIntervalMs` lowers it further.
   * @default 25_000
   */
  readonly pingIntervalMs?: number;
  /** How long to wait for any frame after a ping before the connection is declared dead, in ms. @default 10_000 */
  readonly pongTimeoutMs?: number;
  /** From the start of a connection attempt until `welcome`, in ms. @default 15_000 */
  readonly connectTimeoutMs?: number;
  /** Ceiling of the first reconnect delay (delays are drawn with full jitter), in ms. @default 1_000 */
  readonly minReconnectDelayMs?: number;
  /** Cap of the reconnect delay window, in ms. @default 30_000 */
  readonly maxReconnectDelayMs?: number;
  /**
   * Consecutive failed reconnect attempts after which the client stops in state `failed`.
   * `0` means: never reconnect (one-shot pages). @default Infinity
   */
  readonly maxReconnectAttempts?: number;
  /** Default timeout of {@link LifelineClient.request}, in ms. @default 10_000 */
  readonly requestTimeoutMs?: number;
  /**
   * Bounds of the outbox; beyond them `send()` throws and `request()` rejects with
   * `OutboxFullError`. @default { maxMessages: 1_000, maxBytes: 1_048_576 }
   */
  readonly outbox?: OutboxOptions;
  /**
   * When set, pushed messages are also delivered in arrays on the `messages` event: a
   * batch goes out when it holds `maxSize` messages or `maxWaitMs` after its first one,
   * whichever comes first, and on `close()`. `message` still fires for each message at
   * once. @default none (no `messages` events)
   */
  readonly batch?: BatchOptions;
  /**
   * Acks of the user's own streams are coalesced into one cumulative `ack` frame per this
   * window, in ms. A message is acknowledged once handed to the application: on `message`,
   * or with `batch` on `messages`. Acks feed the delivery status and `requireAck`
   * redelivery only (resume uses the client's own positions), so a longer window costs
   * nothing but the freshness of `ackedAt` — and, if the connection drops inside it,
   * `requireAck` messages delivered again, which the client drops as duplicates.
   * `close()` sends pending acks at once. @default 1000
   */
  readonly ackDelayMs?: number;
  /**
   * The same window for channel streams, in ms. Channel acks only feed the delivery
   * status (which devices acked), so they are sent less often; they also leave with any
   * earlier `ack` frame. @default 5000
   */
  readonly channelAckDelayMs?: number;
  /**
   * Keeps the positions of delivered messages across page loads, so that a reload resumes
   * where the last page stopped (missed messages are replayed, or a `resync` event says
   * they cannot be). Positions are read once, before the first `hello`, and saved at most
   * once per `storageSaveDelayMs` and on `close()`. Unreadable or invalid stored data is
   * ignored and reported as `StorageError` on `error`.
   *
   * Off by default: a page that loads its state fresh on every load would otherwise
   * receive everything published since the previous visit a second time.
   * @default none (positions live as long as the client)
   */
  readonly storage?: PositionStorage;
  /**
   * The key positions are stored under. Stream names include the user, so users taking
   * turns on one device may share a key. Pass a fixed key when `url` changes between page
   * loads (a cache-busting query, say).
   * @default `lifeline:positions:` followed by `url`
   */
  readonly storageKey?: string;
  /** Longest time a change of positions waits before it is saved, in ms. @default 1_000 */
  readonly storageSaveDelayMs?: number;
  /**
   * The page lifecycle: on `visibilitychange` to visible the client checks its connection
   * at once (timers are throttled in hidden pages); on `pagehide` it closes cleanly (1000)
   * and waits in state `suspended`; on `pageshow` from the back/forward cache it reconnects
   * and resumes. `false` turns this off.
   * @default the browser's `window` and `document` when there are both (`browserPage()`),
   * otherwise none
   */
  readonly page?: PageLifecycle | false;
}

export interface ResolvedOptions {
  readonly url: string;
  readonly token: TokenSource | undefined;
  readonly device: string | undefined;
  readonly transports: readonly TransportKind[];
  /** Present when `transports` includes `websocket`. */
  readonly WebSocket: WebSocketConstructorLike | undefined;
  /** Present when `transports` includes `polling`. */
  readonly request: HttpRequester | undefined;
  readonly fallback: FallbackMode;
  readonly fallbackAfterFailures: number;
  readonly fallbackAfterMs: number;
  readonly probeIntervalMs: number;
  readonly maxProbeIntervalMs: number;
  readonly transportMemoryMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly network: NetworkSource | undefined;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly minReconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  readonly maxReconnectAttempts: number;
  readonly requestTimeoutMs: number;
  readonly outbox: Required<OutboxOptions>;
  readonly batch: BatchOptions | undefined;
  readonly ackDelayMs: number;
  readonly channelAckDelayMs: number;
  readonly storage: PositionStorage | undefined;
  readonly storageKey: string;
  readonly storageSaveDelayMs: number;
  readonly page: PageLifecycle | undefined;
}

const WS_URL = /^wss?:\/\/[^/?#\s]+/i;

/** `expected` is `false` in production builds, where messages name the option only. */
function invalid(name: string, expected: string | false, value: unknown): never {
  const what = name === '' ? 'options' : `options.${name}`;
  throw new InvalidOptionError(
    DEV
      ? `${what} must be ${expected} (got ${(typeof value === 'string' ? JSON.stringify(value) : String(value)).slice(0, 80)})`
      : what,
  );
}

/** Kinds of numeric options: durations ≥ 0 or > 0, counts (integers or Infinity) ≥ 0 or ≥ 1. */
const enum Num {
  Duration,
  PositiveDuration,
  Count,
  PositiveCount,
}

/** A number of `kind`, or `fallback` when absent. */
function num(name: string, value: unknown, fallback: number, kind: Num): number {
  if (value === undefined) return fallback;
  const positive = kind === Num.PositiveDuration || kind === Num.PositiveCount;
  const ok =
    typeof value === 'number' &&
    (positive ? value > 0 : value >= 0) &&
    (kind < Num.Count ? Number.isFinite(value) : Number.isSafeInteger(value) || value === Infinity);
  if (!ok)
    invalid(
      name,
      DEV &&
        (kind < Num.Count ? 'a finite number ' : 'an integer ') +
          (positive ? (kind < Num.Count ? '> 0' : '≥ 1') : '≥ 0') +
          (kind < Num.Count ? '' : ' or Infinity'),
      value,
    );
  return value;
}

type NumberName = {
  [K in keyof ClientOptions]-?: NonNullable<ClientOptions[K]> extends number ? K : never;
}[keyof ClientOptions];

/** Every numeric option with a fixed default. */
const NUMBERS: readonly (readonly [NumberName, number, Num])[] = [
  ['fallbackAfterFailures', DEFAULT_FALLBACK_AFTER_FAILURES, Num.PositiveCount],
  ['fallbackAfterMs', DEFAULT_FALLBACK_AFTER_MS, Num.PositiveDuration],
  ['probeIntervalMs', DEFAULT_PROBE_INTERVAL_MS, Num.PositiveDuration],
  ['transportMemoryMs', DEFAULT_TRANSPORT_MEMORY_MS, Num.Duration],
  ['pingIntervalMs', DEFAULT_PING_INTERVAL_MS, Num.PositiveDuration],
  ['pongTimeoutMs', DEFAULT_PONG_TIMEOUT_MS, Num.PositiveDuration],
  ['connectTimeoutMs', DEFAULT_CONNECT_TIMEOUT_MS, Num.PositiveDuration],
  ['minReconnectDelayMs', DEFAULT_MIN_RECONNECT_DELAY_MS, Num.Duration],
  ['maxReconnectAttempts', DEFAULT_MAX_RECONNECT_ATTEMPTS, Num.Count],
  ['requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS, Num.PositiveDuration],
  ['ackDelayMs', DEFAULT_ACK_DELAY_MS, Num.Duration],
  ['channelAckDelayMs', DEFAULT_CHANNEL_ACK_DELAY_MS, Num.Duration],
  ['storageSaveDelayMs', DEFAULT_STORAGE_SAVE_DELAY_MS, Num.Duration],
];

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}

/** `value` when it is absent or has every method in `methods`; otherwise an error. */
function withMethods<T>(name: string, value: T, methods: readonly string[]): T {
  const o = value as Record<string, unknown> | null | undefined;
  if (
    value !== undefined &&
    (typeof o !== 'object' || o === null || !methods.every((m) => isFunction(o[m])))
  )
    invalid(name, DEV && `an object with ${methods.join(' and ')}`, value);
  return value;
}

function defaultWebSocket(): WebSocketConstructorLike {
  const ctor = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (!isFunction(ctor)) {
    throw new UnsupportedError(
      DEV
        ? 'No global WebSocket: pass `WebSocket` (from "ws" in Node, or a mini-program adapter) ' +
            'or use "lifeline/node".'
        : 'WebSocket',
    );
  }
  return ctor as unknown as WebSocketConstructorLike;
}

function transportsOption(value: unknown): readonly TransportKind[] | undefined {
  if (value === undefined) return undefined;
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((t) => t === 'websocket' || t === 'polling') &&
    new Set(value).size === value.length;
  if (!ok) invalid('transports', DEV && "a non-empty list of 'websocket' and 'polling'", value);
  return value as readonly TransportKind[];
}

/** A function option, or undefined when absent. */
function fn<T>(name: string, value: T): T {
  if (value !== undefined && !isFunction(value)) invalid(name, DEV && 'a function', value);
  return value;
}

/** The polling requester: `request`, else `fetch`, else the host's `fetch`; undefined when none. */
function requesterOption(options: ClientOptions): HttpRequester | undefined {
  const request = fn('request', options.request);
  if (request !== undefined) return request;
  const fetch = fn('fetch', options.fetch) ?? (globalThis as { fetch?: FetchLike }).fetch;
  return isFunction(fetch) ? fetchRequester(fetch.bind(globalThis)) : undefined;
}

/**
 * Which transports are usable. An explicit list must be served in full; by default
 * polling is left out, silently, where neither `fetch` nor `request` exists.
 */
function resolveTransports(options: ClientOptions): {
  transports: readonly TransportKind[];
  WebSocket: WebSocketConstructorLike | undefined;
  request: HttpRequester | undefined;
} {
  const explicit = transportsOption(options.transports);
  // An injected WebSocket without `fetch` or `request` is a choice of transport (a test
  // double, a mini-program adapter, `ws` in Node): polling joins only when asked for.
  const chosenSocket =
    options.WebSocket !== undefined && options.fetch === undefined && options.request === undefined;
  const wanted = explicit ?? (chosenSocket ? (['websocket'] as const) : DEFAULT_TRANSPORTS);
  const WebSocket = wanted.includes('websocket')
    ? (options.WebSocket ?? defaultWebSocket())
    : undefined;
  const request = wanted.includes('polling') ? requesterOption(options) : undefined;
  if (request === undefined && wanted.includes('polling') && explicit !== undefined) {
    throw new UnsupportedError(
      DEV
        ? "Polling needs `fetch` or `request`; pass one, or leave 'polling' out of `transports`."
        : 'fetch',
    );
  }
  const transports = wanted.filter((t) => t !== 'polling' || request !== undefined);
  return { transports, WebSocket, request };
}

function fallbackOption(value: unknown): FallbackMode {
  if (value === undefined) return DEFAULT_FALLBACK;
  if (value !== 'auto' && value !== 'immediate' && value !== 'never')
    invalid('fallback', DEV && "'auto', 'immediate' or 'never'", value);
  return value;
}

function defaultNetwork(): NetworkSource | undefined {
  return isEventTarget(globalThis) ? (globalThis as unknown as NetworkSource) : undefined;
}

function pageOption(value: unknown): PageLifecycle | undefined {
  if (value === false) return undefined;
  return withMethods('page', value as PageLifecycle | undefined, ['subscribe']) ?? browserPage();
}

function outboxOption(value: unknown): Required<OutboxOptions> {
  if (value === undefined)
    return { maxMessages: DEFAULT_OUTBOX_MAX_MESSAGES, maxBytes: DEFAULT_OUTBOX_MAX_BYTES };
  if (typeof value !== 'object' || value === null) invalid('outbox', DEV && 'an object', value);
  const { maxMessages, maxBytes } = value as OutboxOptions;
  return {
    maxMessages: num(
      'outbox.maxMessages',
      maxMessages,
      DEFAULT_OUTBOX_MAX_MESSAGES,
      Num.PositiveCount,
    ),
    maxBytes: num('outbox.maxBytes', maxBytes, DEFAULT_OUTBOX_MAX_BYTES, Num.PositiveCount),
  };
}

function batchOption(value: unknown): BatchOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) invalid('batch', DEV && 'an object', value);
  const { maxWaitMs, maxSize } = value as Partial<BatchOptions>;
  if (maxWaitMs === undefined) invalid('batch.maxWaitMs', DEV && 'a finite number ≥ 0', maxWaitMs);
  if (maxSize === undefined) invalid('batch.maxSize', DEV && 'an integer ≥ 1', maxSize);
  return {
    maxWaitMs: num('batch.maxWaitMs', maxWaitMs, 0, Num.Duration),
    maxSize: num('batch.maxSize', maxSize, 1, Num.PositiveCount),
  };
}

function storageKeyOption(value: unknown, url: string): string {
  if (value === undefined) return `${DEFAULT_STORAGE_KEY_PREFIX}${url}`;
  if (typeof value !== 'string' || value === '')
    invalid('storageKey', DEV && 'a non-empty string', value);
  return value;
}

/** A call's `timeoutMs` (`request`, `publish`), or `fallback`. Throws `InvalidOptionError`. */
export function callTimeoutMs(value: unknown, fallback: number): number {
  return num('timeoutMs', value, fallback, Num.PositiveDuration);
}

/**
 * A call's own `id`, when it chose one: 1 to {@link MAX_ID_LENGTH} characters and not
 * `inUse` by another call. Throws `InvalidOptionError`.
 */
export function callId(value: unknown, inUse: (id: string) => boolean): string | undefined {
  if (
    value !== undefined &&
    (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH || inUse(value))
  )
    invalid('id', DEV && `1-${MAX_ID_LENGTH} characters, not in use by another call`, value);
  return value;
}

/** Validate `options` and fill in every default. Throws {@link InvalidOptionError}. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) invalid('', DEV && 'an object', options);
  const { url, token, device } = options;
  if (typeof url !== 'string' || !WS_URL.test(url))
    invalid('url', DEV && 'a ws:// or wss:// URL', url);
  if (token !== undefined && !isFunction(token)) {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH)
      invalid(
        'token',
        DEV && `a string of at most ${MAX_TOKEN_LENGTH} characters, or a function`,
        token,
      );
  }
  if (
    device !== undefined &&
    (typeof device !== 'string' || device === '' || device.length > MAX_NAME_LENGTH)
  )
    invalid('device', DEV && `a string of 1 to ${MAX_NAME_LENGTH} characters`, device);
  fn('WebSocket', options.WebSocket);
  if ('maxPendingRequests' in options)
    invalid(
      'maxPendingRequests',
      DEV && 'absent: it was replaced by outbox.maxMessages',
      (options as { maxPendingRequests?: unknown }).maxPendingRequests,
    );

  const numbers = {} as Record<NumberName, number>;
  for (const [name, fallback, kind] of NUMBERS)
    numbers[name] = num(name, options[name], fallback, kind);
  const { minReconnectDelayMs, probeIntervalMs } = numbers;
  const maxReconnectDelayMs = num(
    'maxReconnectDelayMs',
    options.maxReconnectDelayMs,
    Math.max(DEFAULT_MAX_RECONNECT_DELAY_MS, minReconnectDelayMs),
    Num.Duration,
  );
  if (maxReconnectDelayMs < minReconnectDelayMs)
    invalid(
      'maxReconnectDelayMs',
      DEV && `at least minReconnectDelayMs (${minReconnectDelayMs})`,
      maxReconnectDelayMs,
    );

  return {
    ...numbers,
    url,
    token,
    device,
    ...resolveTransports(options),
    fallback: fallbackOption(options.fallback),
    maxProbeIntervalMs: num(
      'maxProbeIntervalMs',
      options.maxProbeIntervalMs,
      Math.max(DEFAULT_MAX_PROBE_INTERVAL_MS, probeIntervalMs),
      Num.PositiveDuration,
    ),
    maxReconnectDelayMs,
    clock: options.clock ?? systemClock,
    random: fn('random', options.random) ?? Math.random,
    network:
      withMethods('network', options.network, ['addEventListener', 'removeEventListener']) ??
      defaultNetwork(),
    outbox: outboxOption(options.outbox),
    batch: batchOption(options.batch),
    storage: withMethods('storage', options.storage, ['getItem', 'setItem']),
    storageKey: storageKeyOption(options.storageKey, url),
    page: pageOption(options.page),
  };
}
