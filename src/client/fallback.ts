/**
 * The transport policy (PROTOCOL.md §11.5): which transport the next connection attempt
 * uses, when WebSocket counts as failing, when to probe WebSocket again while on polling,
 * and the outcome remembered per URL. One state union; the engine reports what happened
 * (`failed`, `opened`, `probeFailed`, `promoted`) and acts on the answers. Decisions only:
 * sockets and timers stay with the engine.
 */
import {
  TRANSPORT_MEMORY_KEY_PREFIX,
  type PositionStorage,
  type ResolvedOptions,
} from './options.js';
import type { TransportKind } from './transports/transport.js';

/**
 * - `auto`: start on WebSocket; fall back to polling after `fallbackAfterFailures` failed
 *   attempts or an attempt that is not open within `fallbackAfterMs`;
 * - `immediate`: start on polling at once and try WebSocket in the background;
 * - `never`: WebSocket only (with `transports` listing it first).
 */
export type FallbackMode = 'auto' | 'immediate' | 'never';

export type FallbackState =
  /** No switching: `fallback: 'never'`, or `transports` allows one transport only. */
  | { readonly kind: 'fixed'; readonly transport: TransportKind }
  /** Attempts use WebSocket; `failures` in a row did not reach `welcome`. */
  | { readonly kind: 'websocket'; readonly failures: number }
  /** Attempts use polling; an open session probes WebSocket; `probeFailures` failed in a row. */
  | { readonly kind: 'polling'; readonly probeFailures: number };

/** The client's options the policy reads. */
export type FallbackOptions = Pick<
  ResolvedOptions,
  | 'transports'
  | 'fallback'
  | 'fallbackAfterFailures'
  | 'fallbackAfterMs'
  | 'probeIntervalMs'
  | 'maxProbeIntervalMs'
  | 'transportMemoryMs'
  | 'storage'
  | 'url'
  | 'clock'
>;

/** Whether the client can switch between WebSocket and polling at all. */
export function canFallBack(options: Pick<FallbackOptions, 'transports' | 'fallback'>): boolean {
  const { transports, fallback } = options;
  return fallback !== 'never' && transports.includes('websocket') && transports.includes('polling');
}

export class TransportPolicy {
  private state_: FallbackState;
  private readonly options_: FallbackOptions;
  /** Where the outcome is remembered: with `storage`, unless `transportMemoryMs` is 0. */
  private readonly memory_: TransportMemory | null;
  private recalled_ = false;

  constructor(options: FallbackOptions) {
    this.options_ = options;
    const { storage, transportMemoryMs, clock } = options;
    const switching = canFallBack(options);
    this.memory_ =
      storage === undefined || transportMemoryMs === 0 || !switching
        ? null
        : new TransportMemory(
            storage,
            TRANSPORT_MEMORY_KEY_PREFIX + options.url,
            transportMemoryMs,
            () => clock.now(),
          );
    this.state_ = !switching
      ? { kind: 'fixed', transport: options.transports[0] ?? 'websocket' }
      : options.fallback === 'immediate'
        ? { kind: 'polling', probeFailures: 0 }
        : { kind: 'websocket', failures: 0 };
  }

  /** The transport the next connection attempt uses. */
  get transport(): TransportKind {
    return this.state_.kind === 'fixed' ? this.state_.transport : this.state_.kind;
  }

  /**
   * A WebSocket attempt not open within this many ms counts as failed and falls back at
   * once; undefined when the next attempt cannot fall back.
   */
  get attemptTimeoutMs(): number | undefined {
    return this.state_.kind === 'websocket' ? this.options_.fallbackAfterMs : undefined;
  }

  /**
   * Read the remembered outcome, once, before the first attempt. Undefined when done (or
   * nothing to read); a promise when the storage is asynchronous.
   */
  recall(): Promise<void> | undefined {
    const memory = this.memory_;
    if (memory === null || this.recalled_) return undefined;
    this.recalled_ = true;
    // Not `remember()`: refreshing the record would keep it from ever expiring.
    const apply = (failing: boolean): void => {
      if (failing && this.state_.kind === 'websocket')
        this.state_ = { kind: 'polling', probeFailures: 0 };
    };
    const recalled = memory.recall();
    if (typeof recalled !== 'boolean') return recalled.then(apply);
    apply(recalled);
    return undefined;
  }

  /** The WebSocket attempt under way was not open within `attemptTimeoutMs`. */
  timedOut(): void {
    if (this.state_.kind === 'websocket') this.fallBack_();
  }

  /**
   * An attempt over `kind` ended before `welcome`. True when the next attempt uses
   * another transport: a change of route, not a retry, so it need not wait.
   */
  failed(kind: TransportKind): boolean {
    const state = this.state_;
    if (kind === 'polling' || state.kind === 'fixed') return false;
    // `timedOut()` already switched.
    if (state.kind === 'polling') return true;
    const failures = state.failures + 1;
    if (failures < this.options_.fallbackAfterFailures) {
      this.state_ = { kind: 'websocket', failures };
      return false;
    }
    this.fallBack_();
    return true;
  }

  /** A session opened over `kind`. A WebSocket that works again is remembered as working. */
  opened(kind: TransportKind): void {
    const state = this.state_;
    if (kind === 'websocket' && state.kind === 'websocket' && state.failures > 0) {
      this.state_ = { kind: 'websocket', failures: 0 };
      this.memory_?.remember(false);
    }
  }

  /**
   * While open on polling: how long to wait before the next WebSocket probe, in ms
   * (`probeIntervalMs`, doubling per failed probe up to `maxProbeIntervalMs`; at once for
   * the first probe of `immediate`). Undefined when there is nothing to probe.
   */
  get probeDelayMs(): number | undefined {
    const state = this.state_;
    if (state.kind !== 'polling') return undefined;
    const { fallback, probeIntervalMs, maxProbeIntervalMs } = this.options_;
    const n = state.probeFailures;
    if (fallback === 'immediate' && n === 0) return 0;
    return Math.min(maxProbeIntervalMs, probeIntervalMs * 2 ** Math.min(n, 30));
  }

  probeFailed(): void {
    const state = this.state_;
    if (state.kind === 'polling')
      this.state_ = { kind: 'polling', probeFailures: state.probeFailures + 1 };
  }

  /** A probe's WebSocket session replaced the polling session. */
  promoted(): void {
    this.state_ = { kind: 'websocket', failures: 0 };
    this.memory_?.remember(false);
  }

  private fallBack_(): void {
    this.state_ = { kind: 'polling', probeFailures: 0 };
    this.memory_?.remember(true);
  }
}

/** Version of the stored record; a record of another version is ignored. */
const FORMAT = 1;

interface Remembered {
  readonly v: number;
  /** When WebSocket was seen failing, in ms since the epoch. */
  readonly failedAt: number;
}

/**
 * "WebSocket does not get through from here", kept per URL in the application's storage
 * for `memoryMs`, so the next page load starts on polling at once. Storage errors are
 * swallowed: this is a hint, not state the client depends on.
 */
export class TransportMemory {
  private readonly storage_: PositionStorage;
  private readonly key_: string;
  private readonly memoryMs_: number;
  private readonly now_: () => number;

  constructor(storage: PositionStorage, key: string, memoryMs: number, now: () => number) {
    this.storage_ = storage;
    this.key_ = key;
    this.memoryMs_ = memoryMs;
    this.now_ = now;
  }

  /** Whether WebSocket was remembered failing; synchronous when the storage is. */
  recall(): boolean | Promise<boolean> {
    let value: ReturnType<PositionStorage['getItem']>;
    try {
      value = this.storage_.getItem(this.key_);
    } catch {
      return false;
    }
    if (value instanceof Promise) {
      return value.then(
        (text) => this.fresh_(text),
        () => false,
      );
    }
    return this.fresh_(value);
  }

  /** WebSocket failed (`true`) or worked (`false`). */
  remember(failing: boolean): void {
    const text = failing ? JSON.stringify({ v: FORMAT, failedAt: this.now_() }) : '';
    try {
      const done = this.storage_.setItem(this.key_, text);
      if (done instanceof Promise) done.catch(() => {});
    } catch {
      // A full or read-only storage only costs the next page load a WebSocket attempt.
    }
  }

  private fresh_(text: string | null | undefined): boolean {
    if (typeof text !== 'string' || text === '') return false;
    try {
      const record = JSON.parse(text) as Partial<Remembered> | null;
      if (record?.v !== FORMAT || typeof record.failedAt !== 'number') return false;
      return this.now_() - record.failedAt < this.memoryMs_;
    } catch {
      return false;
    }
  }
}
