/**
 * Retention of the SQLite message log: which offsets a stream still keeps, and deleting
 * the ones it does not. Retained messages are always the contiguous run
 * `first_offset..last`, so dropping is one range delete on the (stream, offset) index.
 * The stream's head is written with the new first offset, before messages go: the log
 * finds a stream's newest offset among its messages, and deleting all of them must not
 * lose it.
 */
import { InvalidOptionError } from '../protocol/index.js';
import {
  DEFAULT_RETENTION_MAX_AGE_MS,
  DEFAULT_RETENTION_MAX_MESSAGES,
  type RetentionOptions,
} from '../storage/types.js';
import type { SqliteDatabase } from './sqlite-driver.js';

/** A row of `lifeline_streams`. */
export interface StreamRow {
  readonly id: number;
  readonly epoch: string;
  /**
   * Offset of the newest message ever appended (0 before the first). The table's
   * `last_offset` may lag behind it; see sqlite-log.ts.
   */
  last: number;
  /** Offset of the oldest message still stored; `last + 1` when none is. */
  first: number;
}

export interface Retention {
  /** The oldest offset `row` may keep at time `now` (ms); `row.last + 1` when none. */
  keepFrom(row: StreamRow, now: number): number;
  /** Delete what `row` may no longer keep at `now`; returns how many messages were dropped. */
  apply(row: StreamRow, now: number): number;
}

function limit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const ok = value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value > 0);
  if (!ok) {
    throw new InvalidOptionError(
      `retention.${name} must be a positive integer or Infinity, got ${String(value)}.`,
    );
  }
  return value;
}

export function createRetention(
  db: SqliteDatabase,
  options: RetentionOptions | undefined,
): Retention {
  const maxMessages = limit(options?.maxMessages, DEFAULT_RETENTION_MAX_MESSAGES, 'maxMessages');
  const maxAgeMs = limit(options?.maxAgeMs, DEFAULT_RETENTION_MAX_AGE_MS, 'maxAgeMs');
  // ORDER BY … LIMIT 1 walks the (stream, offset) index from `from` and stops at the first fresh
  // message: usually the first row it looks at. (MIN() would scan the whole range.)
  const firstFresh = db.prepare<{ o: number }>(
    `SELECT msg_offset AS o FROM lifeline_messages
      WHERE stream_id = ? AND msg_offset >= ? AND published_at > ?
      ORDER BY msg_offset LIMIT 1`,
  );
  const deleteBefore = db.prepare(
    'DELETE FROM lifeline_messages WHERE stream_id = ? AND msg_offset < ?',
  );
  const setBounds = db.prepare(
    'UPDATE lifeline_streams SET first_offset = ?, last_offset = ? WHERE id = ?',
  );

  function keepFrom(row: StreamRow, now: number): number {
    let from = row.first;
    if (maxMessages !== Number.POSITIVE_INFINITY) {
      from = Math.max(from, row.last - maxMessages + 1);
    }
    if (maxAgeMs !== Number.POSITIVE_INFINITY && from <= row.last) {
      // The age limit drops a prefix, like the memory log: everything before the first
      // message still young enough.
      from = firstFresh.get(row.id, from, now - maxAgeMs)?.o ?? row.last + 1;
    }
    return from;
  }

  return {
    keepFrom,
    apply(row, now) {
      const from = keepFrom(row, now);
      if (from <= row.first) return 0;
      setBounds.run(from, row.last, row.id);
      const { changes } = deleteBefore.run(row.id, from);
      row.first = from;
      return changes;
    },
  };
}
