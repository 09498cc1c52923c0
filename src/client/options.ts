/**
 * Client options: the public contract (with units and defaults) and the one place they are
 * validated and resolved. Everything downstream works on {@link ResolvedOptions} and never
 * re-checks a value or re-applies a default.
 */
import {
  InvalidOptionError,
  MAX_NAME_LENGTH,
  MAX_TOKEN_LENGTH,
  UnsupportedError,
} from '../protocol/index.js';
import { systemClock, type Clock } from '../env/index.js';
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
}

const WS_URL = /^wss?:\/\/[^/?#\s]+/i;

function invalid(name: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  const what = name === '' ? 'options' : `options.${name}`;
  throw new InvalidOptionError(`${what} must be ${expected} (got ${shown.slice(0, 80)})`);
}

/** A finite number ≥ 0 (or > 0 when `positive`), or the default when absent. */
function durationOption(name: string, value: unknown, fallback: number, positive = false): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (positive && value === 0)
  )
    invalid(name, positive ? 'a finite number > 0' : 'a finite number ≥ 0', value);
  return value;
}

function countOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    value >= min &&
    (Number.isSafeInteger(value) || value === Number.POSITIVE_INFINITY);
  if (!ok) invalid(name, `an integer ≥ ${min} or Infinity`, value);
  return value;
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}

function defaultWebSocket(): WebSocketConstructorLike {
  const ctor = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (!isFunction(ctor)) {
    throw new UnsupportedError(
      'No global WebSocket: pass `WebSocket` (from "ws" in Node, or a mini-program adapter) ' +
        'or use "lifeline/node".',
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
  if (!ok) invalid('transports', "a non-empty list of 'websocket' and 'polling'", value);
  return value as readonly TransportKind[];
}

/** The polling requester: `request`, else `fetch`, else the host's `fetch`; undefined when none. */
function requesterOption(options: ClientOptions): HttpRequester | undefined {
  if (options.request !== undefined) {
    if (!isFunction(options.request)) invalid('request', 'a function', options.request);
    return options.request;
  }
  if (options.fetch !== undefined) {
    if (!isFunction(options.fetch)) invalid('fetch', 'a function', options.fetch);
    return fetchRequester(options.fetch);
  }
  const host = (globalThis as { fetch?: unknown }).fetch;
  return isFunction(host) ? fetchRequester(host.bind(globalThis) as FetchLike) : undefined;
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
      "Polling needs `fetch` or `request`; pass one, or leave 'polling' out of `transports`.",
    );
  }
  const transports = wanted.filter((t) => t !== 'polling' || request !== undefined);
  return { transports, WebSocket, request };
}

function fallbackOption(value: unknown): FallbackMode {
  if (value === undefined) return DEFAULT_FALLBACK;
  if (value !== 'auto' && value !== 'immediate' && value !== 'never')
    invalid('fallback', "'auto', 'immediate' or 'never'", value);
  return value;
}

function defaultNetwork(): NetworkSource | undefined {
  const host = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
  return isFunction(host.addEventListener) && isFunction(host.removeEventListener)
    ? (host as unknown as NetworkSource)
    : undefined;
}

function outboxOption(value: unknown): Required<OutboxOptions> {
  if (value === undefined)
    return { maxMessages: DEFAULT_OUTBOX_MAX_MESSAGES, maxBytes: DEFAULT_OUTBOX_MAX_BYTES };
  if (typeof value !== 'object' || value === null) invalid('outbox', 'an object', value);
  const { maxMessages, maxBytes } = value as OutboxOptions;
  return {
    maxMessages: countOption('outbox.maxMessages', maxMessages, DEFAULT_OUTBOX_MAX_MESSAGES, 1),
    maxBytes: countOption('outbox.maxBytes', maxBytes, DEFAULT_OUTBOX_MAX_BYTES, 1),
  };
}

function storageOption(value: unknown): PositionStorage | undefined {
  if (value === undefined) return undefined;
  const storage = value as Partial<PositionStorage> | null;
  if (
    typeof storage !== 'object' ||
    storage === null ||
    !isFunction(storage.getItem) ||
    !isFunction(storage.setItem)
  )
    invalid('storage', 'an object with getItem and setItem', value);
  return storage as PositionStorage;
}

function batchOption(value: unknown): BatchOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) invalid('batch', 'an object', value);
  const { maxWaitMs, maxSize } = value as Partial<BatchOptions>;
  if (maxWaitMs === undefined) invalid('batch.maxWaitMs', 'a finite number ≥ 0', maxWaitMs);
  if (maxSize === undefined) invalid('batch.maxSize', 'an integer ≥ 1', maxSize);
  return {
    maxWaitMs: durationOption('batch.maxWaitMs', maxWaitMs, 0),
    maxSize: countOption('batch.maxSize', maxSize, 1, 1),
  };
}

function storageKeyOption(value: unknown, url: string): string {
  if (value === undefined) return `${DEFAULT_STORAGE_KEY_PREFIX}${url}`;
  if (typeof value !== 'string' || value === '') invalid('storageKey', 'a non-empty string', value);
  return value;
}

/** Validate `options` and fill in every default. Throws {@link InvalidOptionError}. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) invalid('', 'an object', options);
  const { url, token, device, network } = options;
  if (typeof url !== 'string' || !WS_URL.test(url)) invalid('url', 'a ws:// or wss:// URL', url);
  if (token !== undefined && !isFunction(token)) {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH)
      invalid('token', `a string of at most ${MAX_TOKEN_LENGTH} characters, or a function`, token);
  }
  if (
    device !== undefined &&
    (typeof device !== 'string' || device === '' || device.length > MAX_NAME_LENGTH)
  )
    invalid('device', `a string of 1 to ${MAX_NAME_LENGTH} characters`, device);
  if (options.WebSocket !== undefined && !isFunction(options.WebSocket))
    invalid('WebSocket', 'a WebSocket constructor', options.WebSocket);
  if (options.random !== undefined && !isFunction(options.random))
    invalid('random', 'a function', options.random);
  if ('maxPendingRequests' in options)
    invalid(
      'maxPendingRequests',
      'absent: it was replaced by outbox.maxMessages',
      (options as { maxPendingRequests?: unknown }).maxPendingRequests,
    );
  if (
    network !== undefined &&
    (!isFunction(network.addEventListener) || !isFunction(network.removeEventListener))
  )
    invalid('network', 'an object with addEventListener and removeEventListener', network);

  const minReconnectDelayMs = durationOption(
    'minReconnectDelayMs',
    options.minReconnectDelayMs,
    DEFAULT_MIN_RECONNECT_DELAY_MS,
  );
  const maxReconnectDelayMs = durationOption(
    'maxReconnectDelayMs',
    options.maxReconnectDelayMs,
    Math.max(DEFAULT_MAX_RECONNECT_DELAY_MS, minReconnectDelayMs),
  );
  if (maxReconnectDelayMs < minReconnectDelayMs)
    invalid(
      'maxReconnectDelayMs',
      `at least minReconnectDelayMs (${minReconnectDelayMs})`,
      maxReconnectDelayMs,
    );

  return {
    url,
    token,
    device,
    ...resolveTransports(options),
    fallback: fallbackOption(options.fallback),
    fallbackAfterFailures: countOption(
      'fallbackAfterFailures',
      options.fallbackAfterFailures,
      DEFAULT_FALLBACK_AFTER_FAILURES,
      1,
    ),
    fallbackAfterMs: durationOption(
      'fallbackAfterMs',
      options.fallbackAfterMs,
      DEFAULT_FALLBACK_AFTER_MS,
      true,
    ),
    probeIntervalMs: durationOption(
      'probeIntervalMs',
      options.probeIntervalMs,
      DEFAULT_PROBE_INTERVAL_MS,
      true,
    ),
    maxProbeIntervalMs: durationOption(
      'maxProbeIntervalMs',
      options.maxProbeIntervalMs,
      Math.max(DEFAULT_MAX_PROBE_INTERVAL_MS, options.probeIntervalMs ?? 0),
      true,
    ),
    transportMemoryMs: durationOption(
      'transportMemoryMs',
      options.transportMemoryMs,
      DEFAULT_TRANSPORT_MEMORY_MS,
    ),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    network: network ?? defaultNetwork(),
    pingIntervalMs: durationOption(
      'pingIntervalMs',
      options.pingIntervalMs,
      DEFAULT_PING_INTERVAL_MS,
      true,
    ),
    pongTimeoutMs: durationOption(
      'pongTimeoutMs',
      options.pongTimeoutMs,
      DEFAULT_PONG_TIMEOUT_MS,
      true,
    ),
    connectTimeoutMs: durationOption(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
      true,
    ),
    minReconnectDelayMs,
    maxReconnectDelayMs,
    maxReconnectAttempts: countOption(
      'maxReconnectAttempts',
      options.maxReconnectAttempts,
      DEFAULT_MAX_RECONNECT_ATTEMPTS,
      0,
    ),
    requestTimeoutMs: durationOption(
      'requestTimeoutMs',
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
      true,
    ),
    outbox: outboxOption(options.outbox),
    batch: batchOption(options.batch),
    ackDelayMs: durationOption('ackDelayMs', options.ackDelayMs, DEFAULT_ACK_DELAY_MS),
    channelAckDelayMs: durationOption(
      'channelAckDelayMs',
      options.channelAckDelayMs,
      DEFAULT_CHANNEL_ACK_DELAY_MS,
    ),
    storage: storageOption(options.storage),
    storageKey: storageKeyOption(options.storageKey, url),
    storageSaveDelayMs: durationOption(
      'storageSaveDelayMs',
      options.storageSaveDelayMs,
      DEFAULT_STORAGE_SAVE_DELAY_MS,
    ),
  };
}
