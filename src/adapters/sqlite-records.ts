/**
 * Idempotency records of the SQLite log (`lifeline_publishes`): one row per publish made
 * with an idempotency key, written in the same transaction as its messages, so a repeated
 * key can never find the messages without the record or the record without the messages.
 * Publishes without a key write no row here (they are found by id through the messages).
 * Rows are kept in insertion order (rowid), and retention deletes a bounded prefix now and
 * then.
 */
import type { StreamPosition } from '../protocol/index.js';
import { recordLimit } from '../storage/memory-records.js';
import {
  DEFAULT_RECORD_MAX_AGE_MS,
  DEFAULT_SQLITE_RECORD_MAX_COUNT,
  type PublishRecord,
  type RecordRetentionOptions,
} from '../storage/types.js';
import type { SqliteDatabase } from './sqlite-driver.js';

/** Rows deleted at most per retention pass, so one pass never stalls a commit for long. */
const TRIM_BATCH = 10_000;

interface RecordRow {
  readonly seq: number;
  readonly id: string;
  readonly publishedAt: number;
  readonly expiresAt: number | null;
  readonly requireAck: number;
  readonly positions: string;
  readonly idempotencyKey: string | null;
  readonly fingerprint: string | null;
}

/**
 * Retention deletes rows in batches now and then; `byKey` applies the age limit exactly,
 * so a record past it is never found, whether or not its row is still there.
 */
export interface SqliteRecords {
  /**
   * Inside a transaction: the record holding `key`, if published at or after `since` and
   * still within the age limit at `now`. A key found older than that is released.
   */
  byKey(key: string, since: number, now: number): PublishRecord | undefined;
  /** Inside a transaction: insert a record (its key must be free: see {@link byKey}). */
  insert(record: PublishRecord): void;
  /** Inside a transaction: drop records past the age or count limit. */
  trim(now: number): void;
}

function toRecord(row: RecordRow): PublishRecord {
  const positions = (JSON.parse(row.positions) as [string, string, number][]).map(
    ([stream, epoch, offset]): StreamPosition => ({ stream, epoch, offset }),
  );
  return {
    id: row.id,
    publishedAt: row.publishedAt,
    ...(row.expiresAt === null ? {} : { expiresAt: row.expiresAt }),
    ...(row.requireAck === 1 ? { requireAck: true } : {}),
    positions,
    ...(row.idempotencyKey === null ? {} : { idempotencyKey: row.idempotencyKey }),
    ...(row.fingerprint === null ? {} : { fingerprint: row.fingerprint }),
  };
}

const COLUMNS = `seq, id, published_at AS publishedAt, expires_at AS expiresAt,
  require_ack AS requireAck, positions, idempotency_key AS idempotencyKey, fingerprint`;

export function createSqliteRecords(
  db: SqliteDatabase,
  options: RecordRetentionOptions | undefined,
): SqliteRecords {
  const maxAgeMs = recordLimit(options?.maxAgeMs, DEFAULT_RECORD_MAX_AGE_MS, 'records.maxAgeMs');
  const maxCount = recordLimit(
    options?.maxCount,
    DEFAULT_SQLITE_RECORD_MAX_COUNT,
    'records.maxCount',
  );
  const selectKey = db.prepare<RecordRow>(
    `SELECT ${COLUMNS} FROM lifeline_publishes WHERE idempotency_key = ?`,
  );
  const releaseKey = db.prepare(
    'UPDATE lifeline_publishes SET idempotency_key = NULL WHERE idempotency_key = ?',
  );
  const insert = db.prepare(
    `INSERT INTO lifeline_publishes
       (id, published_at, expires_at, require_ack, positions, idempotency_key, fingerprint)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const newest = db.prepare<{ seq: number | null }>(
    'SELECT max(seq) AS seq FROM lifeline_publishes',
  );
  const deleteUpTo = db.prepare('DELETE FROM lifeline_publishes WHERE seq <= ?');
  // The oldest rows first, at most TRIM_BATCH of them, and only those old enough.
  const deleteOld = db.prepare(
    `DELETE FROM lifeline_publishes WHERE seq IN (
       SELECT seq FROM lifeline_publishes ORDER BY seq LIMIT ${TRIM_BATCH}
     ) AND published_at <= ?`,
  );

  return {
    byKey(key, since, now) {
      const row = selectKey.get(key);
      if (row === undefined) return undefined;
      if (row.publishedAt >= since && row.publishedAt > now - maxAgeMs) return toRecord(row);
      // Older than the window: the key is free again.
      releaseKey.run(key);
      return undefined;
    },

    insert(record) {
      const positions = JSON.stringify(record.positions.map((p) => [p.stream, p.epoch, p.offset]));
      insert.run(
        record.id,
        record.publishedAt,
        record.expiresAt ?? null,
        record.requireAck === true ? 1 : 0,
        positions,
        record.idempotencyKey ?? null,
        record.fingerprint ?? null,
      );
    },

    trim(now) {
      if (maxCount !== Number.POSITIVE_INFINITY) {
        const last = newest.get()?.seq ?? null;
        if (last !== null && last > maxCount) deleteUpTo.run(last - maxCount);
      }
      if (maxAgeMs !== Number.POSITIVE_INFINITY) deleteOld.run(now - maxAgeMs);
    },
  };
}
