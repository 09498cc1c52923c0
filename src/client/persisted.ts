/**
 * Delivered positions kept in the application's storage (`localStorage`, a mini-program's
 * storage adapter), so that a page reload resumes instead of starting over.
 *
 * Loading happens once, before the first `hello`. Saving is throttled: the first change
 * after a save arms one timer, and the positions as they are when it fires are written.
 * Writes of an asynchronous storage are chained, so they land in the order they were made.
 * Nothing the storage does — throwing, rejecting, holding garbage — gets past this file
 * as anything but a `StorageError` on the client's `error` event.
 */
import {
  ProtocolError,
  StorageError,
  type LifelineError,
  type StreamPosition,
} from '../protocol/index.js';
import { DEV, type Disposer, type Scope } from '../env/index.js';
import type { PositionStorage } from './options.js';
import { storageWrites } from './storage-writes.js';
import { positionsOf } from './wire.js';

/** Version of the stored record; a record of another version is ignored. */
const FORMAT = 1;

export interface PersistedOptions {
  readonly storage: PositionStorage;
  readonly key: string;
  /** Longest time a change waits before it is written, in ms. */
  readonly saveDelayMs: number;
  /** The positions to write, read when a save happens. */
  readonly snapshot: () => readonly StreamPosition[];
  readonly report: (error: LifelineError) => void;
}

export class PersistedPositions {
  private readonly scope_: Scope;
  private readonly options_: PersistedOptions;
  private timer_: Disposer | null = null;
  private dirty_ = false;
  /** The last write of an asynchronous storage, while one is in flight. */
  private readonly write_ = storageWrites();

  constructor(scope: Scope, options: PersistedOptions) {
    this.scope_ = scope;
    this.options_ = options;
  }

  /** The stored positions; an empty list when there are none or they are unusable. */
  async load(): Promise<StreamPosition[]> {
    const { storage, key, report } = this.options_;
    let text: unknown;
    try {
      text = await storage.getItem(key);
    } catch (cause) {
      report(
        new StorageError(DEV ? `Could not read the stored positions ("${key}").` : 'read', {
          cause,
        }),
      );
      return [];
    }
    // Some mini-program storages answer a missing key with an empty string.
    if (text === null || text === undefined || text === '') return [];
    try {
      return decode(text);
    } catch (cause) {
      report(
        new StorageError(
          DEV ? `The stored positions ("${key}") are not valid; they were ignored.` : 'invalid',
          { cause },
        ),
      );
      return [];
    }
  }

  /** Positions changed: write them within `saveDelayMs`. */
  changed(): void {
    this.dirty_ = true;
    this.timer_ ??= this.scope_.setTimeout(() => {
      this.timer_ = null;
      this.flush();
    }, this.options_.saveDelayMs);
  }

  /** Write now if anything changed since the last write. */
  flush(): void {
    this.timer_?.();
    this.timer_ = null;
    if (!this.dirty_) return;
    this.dirty_ = false;
    const { storage, key, snapshot, report } = this.options_;
    const text = JSON.stringify({ v: FORMAT, positions: snapshot() });
    const failed = (cause: unknown): void =>
      report(
        new StorageError(DEV ? `Could not save the positions ("${key}").` : 'save', { cause }),
      );
    this.write_(storage, key, text, failed);
  }
}

/** The positions of a stored record; throws when it is not one of this {@link FORMAT}. */
function decode(text: unknown): StreamPosition[] {
  const record = JSON.parse(String(text)) as { v?: unknown; positions?: unknown } | null;
  const positions = record?.v === FORMAT ? positionsOf(record.positions) : undefined;
  if (positions === undefined)
    throw new ProtocolError(DEV ? 'not a positions record of this format' : 'positions');
  return positions;
}
