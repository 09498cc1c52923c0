/**
 * The SQLite {@link AckStore}: the highest acknowledged position per consumer and stream,
 * and delivery receipts, in the same database file as the log. `ack()` and `record()`
 * calls are group-committed like appends; the keep-the-highest rule runs inside SQLite as
 * a conditional upsert. Acks of one consumer and stream queued for the same commit are
 * merged in memory first, so a client acking every few pushes costs one row write per
 * commit, not one per `ack` frame.
 *
 * Receipts count as one write each towards `maxWritesPerCommit`, queued in chunks of
 * {@link RECEIPTS_PER_WRITE}: the gateway records the receipts of every session at once
 * (10,000 rows for 5,000 users), and as one write that was one transaction of some 50 ms
 * on the event loop at every flush.
 */
import { systemClock, type Clock } from '../env/index.js';
import type { StreamPosition } from '../protocol/index.js';
import { consumerKey } from '../storage/memory-acks.js';
import { recordLimit } from '../storage/memory-records.js';
import {
  DEFAULT_RECEIPT_MAX_AGE_MS,
  type AckConsumer,
  type AckerPosition,
  type AckStore,
  type Receipt,
  type ReceiptRetentionOptions,
} from '../storage/types.js';
import {
  onConnection,
  type CommitOptions,
  type Committer,
  type CommitParticipant,
} from './sqlite-commit.js';
import type { SqliteDatabase, SqliteOpenOptions } from './sqlite-driver.js';
import { query, StoreClosedError } from './sqlite-errors.js';

/** Options of the ack store itself, whatever connection it uses. */
export interface SqliteAckTuning extends CommitOptions {
  /**
   * How long receipts are kept (`maxPerStream` applies to the memory store only).
   * @default { maxAgeMs: 86_400_000 }
   */
  readonly receipts?: ReceiptRetentionOptions;
  /** Time source of receipt retention. @default the system clock */
  readonly clock?: Clock;
}

/** An ack store on a database file it opens, and closes on `close()`. */
export interface SqliteAckFileOptions extends SqliteAckTuning, SqliteOpenOptions {
  readonly db?: undefined;
}

/** An ack store on a connection the caller opened and closes. */
export interface SqliteAckConnectionOptions extends SqliteAckTuning {
  /** An open better-sqlite3 `Database`; the store adds its tables and pragmas. */
  readonly db: SqliteDatabase;
  readonly path?: undefined;
}

export type SqliteAckStoreOptions = SqliteAckFileOptions | SqliteAckConnectionOptions;

/** A queued write: positions to ack for a consumer, or a batch of receipts. */
type PendingWrite = (
  | { readonly consumer: string; readonly positions: readonly StreamPosition[] }
  | { readonly receipts: readonly Receipt[] }
) & {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
};

/** Receipts trimmed at most per retention pass. */
const TRIM_BATCH = 10_000;

/** Receipts per queued write; a larger `record()` is queued as several. */
export const RECEIPTS_PER_WRITE = 100;

/** How many writes a queued item counts as towards `maxWritesPerCommit`. */
function weightOf(item: PendingWrite): number {
  return 'receipts' in item ? item.receipts.length : 1;
}

interface ReceiptRow {
  readonly kind: string;
  readonly consumer: string;
  readonly session: string | null;
  readonly fromOffset: number;
  readonly toOffset: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

/** The consumer a {@link consumerKey} was made from. */
function fromKey(key: string): AckConsumer {
  const [tenantId, userId, device] = JSON.parse(key) as [string | null, string, string | null];
  return { userId, tenantId: tenantId ?? undefined, device: device ?? undefined };
}

/**
 * Create a SQLite ack store, on a file (`path`) or on an open connection (`db`).
 * Throws {@link StoreOpenError} when the database cannot be used.
 */
export function createSqliteAckStore(options: SqliteAckStoreOptions): AckStore {
  return onConnection(options, (db, committer, release) =>
    attachSqliteAckStore(db, committer, options, release),
  );
}

/** The ack store over a prepared connection and a commit scheduler it may share. */
export function attachSqliteAckStore(
  db: SqliteDatabase,
  committer: Committer,
  options: SqliteAckTuning,
  release: () => void,
): AckStore {
  const clock = options.clock ?? systemClock;
  const maxAgeMs = recordLimit(
    options.receipts?.maxAgeMs,
    DEFAULT_RECEIPT_MAX_AGE_MS,
    'receipts.maxAgeMs',
  );
  // A different epoch replaces the stored position: offsets of two epochs do not compare.
  const upsert = db.prepare(
    `INSERT INTO lifeline_acks (consumer, stream, epoch, acked_offset) VALUES (?, ?, ?, ?)
     ON CONFLICT (consumer, stream) DO UPDATE
       SET epoch = excluded.epoch, acked_offset = excluded.acked_offset
       WHERE epoch <> excluded.epoch OR acked_offset < excluded.acked_offset`,
  );
  const select = db.prepare<StreamPosition>(
    `SELECT stream, epoch, acked_offset AS "offset" FROM lifeline_acks
      WHERE consumer = ? ORDER BY stream`,
  );
  const selectAckers = db.prepare<{ consumer: string; offset: number }>(
    `SELECT consumer, acked_offset AS "offset" FROM lifeline_acks
      WHERE stream = ? AND epoch = ? AND acked_offset >= ? ORDER BY consumer LIMIT ?`,
  );
  const insertReceipt = db.prepare(
    `INSERT INTO lifeline_receipts
       (stream, kind, consumer, session, epoch, from_offset, to_offset, first_at, last_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const selectReceipts = db.prepare<ReceiptRow>(
    `SELECT kind, consumer, session, from_offset AS fromOffset, to_offset AS toOffset,
            first_at AS firstAt, last_at AS lastAt
       FROM lifeline_receipts
      WHERE stream = ? AND to_offset >= ? AND epoch = ? AND last_at > ?
      ORDER BY to_offset, seq LIMIT ?`,
  );
  // Receipts arrive in time order, so the oldest rows are a prefix of the table.
  const deleteOld = db.prepare(
    `DELETE FROM lifeline_receipts WHERE seq IN (
       SELECT seq FROM lifeline_receipts ORDER BY seq LIMIT ${TRIM_BATCH}
     ) AND last_at <= ?`,
  );

  let pending: PendingWrite[] = [];
  let inFlight: PendingWrite[] = [];
  /** The newest acked position per consumer and stream of the writes taken. */
  const merged = new Map<string, { consumer: string; position: StreamPosition }>();
  let closed: Promise<void> | undefined;

  const participant: CommitParticipant = {
    take(limit) {
      let writes = 0;
      let n = 0;
      // Whole items, oldest first; the first one even when it alone exceeds the limit.
      for (; n < pending.length && writes < limit; n++) {
        const weight = weightOf(pending[n] as PendingWrite);
        if (n > 0 && writes + weight > limit) break;
        writes += weight;
      }
      if (n === pending.length) {
        inFlight = pending;
        pending = [];
      } else {
        inFlight = pending.splice(0, n);
      }
      return writes;
    },
    get queued() {
      return pending.length > 0;
    },
    write() {
      let recorded = false;
      merged.clear();
      for (const item of inFlight) {
        if ('positions' in item) {
          for (const p of item.positions) mergeAck(item.consumer, p);
          continue;
        }
        recorded = true;
        for (const r of item.receipts) {
          insertReceipt.run(
            r.stream,
            r.kind,
            consumerKey(r.consumer),
            r.session ?? null,
            r.epoch,
            r.fromOffset,
            r.toOffset,
            r.firstAt,
            r.lastAt,
          );
        }
      }
      for (const { consumer, position: p } of merged.values()) {
        upsert.run(consumer, p.stream, p.epoch, p.offset);
      }
      merged.clear();
      // Once per batch of receipts: the gateway writes them every few seconds.
      if (recorded && maxAgeMs !== Number.POSITIVE_INFINITY) deleteOld.run(clock.now() - maxAgeMs);
    },
    settle(error) {
      const done = inFlight;
      inFlight = [];
      for (const item of done) {
        if (error === undefined) item.resolve();
        else item.reject(error);
      }
    },
  };
  const leave = committer.join(participant);

  /**
   * Queue one ack for this commit's upserts, as applying them one after another would
   * leave it: in one epoch the highest offset wins; another epoch replaces the position.
   */
  function mergeAck(consumer: string, position: StreamPosition): void {
    const key = `${consumer}\n${position.stream}`;
    const earlier = merged.get(key);
    if (
      earlier === undefined ||
      earlier.position.epoch !== position.epoch ||
      earlier.position.offset < position.offset
    ) {
      merged.set(key, { consumer, position });
    }
  }

  function enqueue(
    write:
      { consumer: string; positions: readonly StreamPosition[] } | { receipts: readonly Receipt[] },
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      pending.push({ ...write, resolve, reject });
      committer.schedule();
    });
  }

  function ensureOpen(what: string): void {
    if (closed !== undefined) {
      throw new StoreClosedError(`Cannot ${what}: the ack store is closed.`);
    }
  }

  function checkLimit(limit: number): void {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    }
  }

  return {
    ack(consumer, positions) {
      if (closed !== undefined) {
        return Promise.reject(new StoreClosedError('Cannot ack: the ack store is closed.'));
      }
      if (positions.length === 0) return Promise.resolve();
      // Copied: the caller may reuse its array before the commit runs.
      const copy = positions.map((p) => ({ stream: p.stream, epoch: p.epoch, offset: p.offset }));
      return enqueue({ consumer: consumerKey(consumer), positions: copy });
    },

    acked(consumer) {
      return query('acked', () => {
        ensureOpen('read acks');
        return select.all(consumerKey(consumer));
      });
    },

    ackers(stream, q) {
      return query('ackers', () => {
        checkLimit(q.limit);
        ensureOpen('read acks');
        return selectAckers
          .all(stream, q.epoch, q.minOffset, q.limit)
          .map((row): AckerPosition => ({ consumer: fromKey(row.consumer), offset: row.offset }));
      });
    },

    record(receipts) {
      if (closed !== undefined) {
        return Promise.reject(
          new StoreClosedError('Cannot record receipts: the ack store is closed.'),
        );
      }
      if (receipts.length <= RECEIPTS_PER_WRITE) {
        return receipts.length === 0 ? Promise.resolve() : enqueue({ receipts: [...receipts] });
      }
      const chunks: Promise<void>[] = [];
      for (let at = 0; at < receipts.length; at += RECEIPTS_PER_WRITE) {
        chunks.push(enqueue({ receipts: receipts.slice(at, at + RECEIPTS_PER_WRITE) }));
      }
      return Promise.all(chunks).then(() => undefined);
    },

    receipts(stream, q) {
      return query('receipts', () => {
        checkLimit(q.limit);
        ensureOpen('read receipts');
        const oldest = maxAgeMs === Number.POSITIVE_INFINITY ? -Infinity : clock.now() - maxAgeMs;
        return selectReceipts
          .all(stream, q.minOffset, q.epoch, oldest, q.limit)
          .map((row): Receipt => ({
            kind: row.kind === 'delivered' ? 'delivered' : 'acked',
            stream,
            epoch: q.epoch,
            consumer: fromKey(row.consumer),
            ...(row.session === null ? {} : { session: row.session }),
            fromOffset: row.fromOffset,
            toOffset: row.toOffset,
            firstAt: row.firstAt,
            lastAt: row.lastAt,
          }));
      });
    },

    close() {
      closed ??= query('close', () => {
        committer.flush();
        leave();
        release();
      });
      return closed;
    },
  };
}
