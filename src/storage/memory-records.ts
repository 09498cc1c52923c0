/**
 * Publish records of the in-memory log: by message id for the status API and by
 * idempotency key for repeated publishes, bounded by age and count. Records are kept in
 * publish order, so the oldest is always the first to go.
 *
 * The order lives in an array with a moving start, not in a Map: a Map used as a queue
 * keeps deleted entries until it rehashes, and finding its first live entry walks them.
 */
import type { Clock } from '../env/index.js';
import { InvalidOptionError } from '../protocol/index.js';
import {
  DEFAULT_MEMORY_RECORD_MAX_COUNT,
  DEFAULT_RECORD_MAX_AGE_MS,
  type PublishRecord,
  type RecordRetentionOptions,
} from './types.js';

export interface MemoryRecords {
  add(record: PublishRecord): void;
  byId(id: string): PublishRecord | undefined;
  /** The record holding `key`, if it was published at or after `since`. */
  byKey(key: string, since: number): PublishRecord | undefined;
  clear(): void;
}

/** Check a record or receipt limit: a positive integer or `Infinity`. */
export function recordLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const ok = value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value > 0);
  if (!ok) {
    throw new InvalidOptionError(
      `${name} must be a positive integer or Infinity, got ${String(value)}.`,
    );
  }
  return value;
}

export function createMemoryRecords(
  clock: Clock,
  options: RecordRetentionOptions | undefined,
): MemoryRecords {
  const maxAgeMs = recordLimit(options?.maxAgeMs, DEFAULT_RECORD_MAX_AGE_MS, 'records.maxAgeMs');
  const maxCount = recordLimit(
    options?.maxCount,
    DEFAULT_MEMORY_RECORD_MAX_COUNT,
    'records.maxCount',
  );
  // Publish order: live records are `queue[start..]`.
  let queue: PublishRecord[] = [];
  let start = 0;
  const ids = new Map<string, PublishRecord>();
  const keys = new Map<string, PublishRecord>();

  function drop(record: PublishRecord): void {
    // A newer record may have reused the id or the key; it stays.
    if (ids.get(record.id) === record) ids.delete(record.id);
    const key = record.idempotencyKey;
    if (key !== undefined && keys.get(key) === record) keys.delete(key);
  }

  function trim(): void {
    const oldest = clock.now() - maxAgeMs;
    while (start < queue.length) {
      const record = queue[start] as PublishRecord;
      if (queue.length - start <= maxCount && record.publishedAt > oldest) break;
      drop(record);
      start++;
    }
    // Reclaim the dropped slots in one copy once they are half the array.
    if (start >= 1024 && start * 2 >= queue.length) {
      queue = queue.slice(start);
      start = 0;
    }
  }

  return {
    add(record) {
      queue.push(record);
      ids.set(record.id, record);
      if (record.idempotencyKey !== undefined) keys.set(record.idempotencyKey, record);
      trim();
    },
    byId(id) {
      trim();
      return ids.get(id);
    },
    byKey(key, since) {
      trim();
      const record = keys.get(key);
      return record !== undefined && record.publishedAt >= since ? record : undefined;
    },
    clear() {
      queue = [];
      start = 0;
      ids.clear();
      keys.clear();
    },
  };
}
