/**
 * The transport policy: which transport a connection attempt uses, when WebSocket counts
 * as failing, and the remembered outcome per URL. Pure decisions plus a small record in
 * the application's storage; the client's engine acts on them.
 */
import type { PositionStorage } from './options.js';
import type { TransportKind } from './transports/transport.js';

/**
 * - `auto`: start on WebSocket; fall back to polling after `fallbackAfterFailures` failed
 *   attempts or an attempt that is not open within `fallbackAfterMs`;
 * - `immediate`: start on polling at once and try WebSocket in the background;
 * - `never`: WebSocket only (with `transports` listing it first).
 */
export type FallbackMode = 'auto' | 'immediate' | 'never';

export interface FallbackPolicy {
  readonly transports: readonly TransportKind[];
  readonly mode: FallbackMode;
  readonly afterFailures: number;
}

/** Whether the client can switch between WebSocket and polling at all. */
export function canFallBack(policy: FallbackPolicy): boolean {
  return (
    policy.mode !== 'never' &&
    policy.transports.includes('websocket') &&
    policy.transports.includes('polling')
  );
}

/** The transport to start with: before any attempt, from the mode and what was remembered. */
export function initialTransport(
  policy: FallbackPolicy,
  rememberedFailing: boolean,
): TransportKind {
  if (!canFallBack(policy)) return policy.transports[0] ?? 'websocket';
  return policy.mode === 'immediate' || rememberedFailing ? 'polling' : 'websocket';
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
