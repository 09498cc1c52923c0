/**
 * The SQLite {@link AckStore}: the highest acknowledged position per consumer and stream,
 * in the same database file as the log. `ack()` calls are group-committed like appends;
 * the keep-the-highest rule runs inside SQLite as a conditional upsert.
 */
import type { StreamPosition } from '../protocol/index.js';
import type { AckConsumer, AckStore } from '../storage/types.js';
import {
  createCommitter,
  type CommitOptions,
  type Committer,
  type CommitParticipant,
} from './sqlite-commit.js';
import {
  openDatabase,
  prepareDatabase,
  type SqliteDatabase,
  type SqliteOpenOptions,
} from './sqlite-driver.js';
import { query, StoreClosedError } from './sqlite-errors.js';

/** An ack store on a database file it opens, and closes on `close()`. */
export interface SqliteAckFileOptions extends CommitOptions, SqliteOpenOptions {
  readonly db?: undefined;
}

/** An ack store on a connection the caller opened and closes. */
export interface SqliteAckConnectionOptions extends CommitOptions {
  /** An open better-sqlite3 `Database`; the store adds its tables and pragmas. */
  readonly db: SqliteDatabase;
  readonly path?: undefined;
}

export type SqliteAckStoreOptions = SqliteAckFileOptions | SqliteAckConnectionOptions;

interface PendingAck {
  readonly consumer: string;
  readonly positions: readonly StreamPosition[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

function consumerKey(consumer: AckConsumer): string {
  // The memory store's key: JSON keeps the three parts apart whatever the ids contain.
  return JSON.stringify([consumer.tenantId ?? null, consumer.userId, consumer.device ?? null]);
}

/**
 * Create a SQLite ack store, on a file (`path`) or on an open connection (`db`).
 * Throws {@link StoreOpenError} when the database cannot be used.
 */
export function createSqliteAckStore(options: SqliteAckStoreOptions): AckStore {
  if (options.db !== undefined) {
    prepareDatabase(options.db);
    const committer = createCommitter(options.db, options);
    return attachSqliteAckStore(options.db, committer, () => committer.dispose());
  }
  const db = openDatabase(options);
  try {
    const committer = createCommitter(db, options);
    return attachSqliteAckStore(db, committer, () => {
      committer.dispose();
      db.close();
    });
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The ack store over a prepared connection and a commit scheduler it may share. */
export function attachSqliteAckStore(
  db: SqliteDatabase,
  committer: Committer,
  release: () => void,
): AckStore {
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

  let pending: PendingAck[] = [];
  let inFlight: PendingAck[] = [];
  let closed: Promise<void> | undefined;

  const participant: CommitParticipant = {
    take() {
      inFlight = pending;
      pending = [];
      return inFlight.length;
    },
    write() {
      for (const { consumer, positions } of inFlight) {
        for (const p of positions) upsert.run(consumer, p.stream, p.epoch, p.offset);
      }
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

  return {
    ack(consumer, positions) {
      if (closed !== undefined) {
        return Promise.reject(new StoreClosedError('Cannot ack: the ack store is closed.'));
      }
      if (positions.length === 0) return Promise.resolve();
      // Copied: the caller may reuse its array before the commit runs.
      const copy = positions.map((p) => ({ stream: p.stream, epoch: p.epoch, offset: p.offset }));
      return new Promise<void>((resolve, reject) => {
        pending.push({ consumer: consumerKey(consumer), positions: copy, resolve, reject });
        committer.schedule();
      });
    },

    acked(consumer) {
      return query('acked', () => {
        if (closed !== undefined) {
          throw new StoreClosedError('Cannot read acks: the ack store is closed.');
        }
        return select.all(consumerKey(consumer));
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
