/**
 * The SQLite {@link MessageLog}: durable, ordered per-stream history in one database
 * file. Appends are group-committed (see sqlite-commit.ts). Offsets are assigned inside
 * the commit from the stream's stored head, so a stream's epoch and offsets survive a
 * restart, and two processes sharing the file never hand out the same position.
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../env/index.js';
import { InvalidOptionError } from '../protocol/index.js';
import type {
  LoggedMessage,
  LogMessage,
  LogPosition,
  MessageLog,
  RetentionOptions,
} from '../storage/types.js';
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
import { createRetention, type StreamRow } from './sqlite-retention.js';

/** Default of {@link SqliteLogTuning.trimEveryAppends}. */
export const DEFAULT_TRIM_EVERY_APPENDS = 100;

/** Options of the log itself, whatever connection it uses. */
export interface SqliteLogTuning extends CommitOptions {
  /**
   * How many messages, and for how long, each stream keeps.
   * @default { maxMessages: 10_000, maxAgeMs: 86_400_000 } (see {@link RetentionOptions})
   */
  readonly retention?: RetentionOptions;
  /** Time source of age-based retention (not of commits). @default the system clock */
  readonly clock?: Clock;
  /**
   * Appends apply retention to a stream each time its offset crosses a multiple of this,
   * so a stream stores at most `maxMessages + trimEveryAppends − 1` rows. Reads, `head`
   * and `trim` always apply it exactly.
   * @default 100 ({@link DEFAULT_TRIM_EVERY_APPENDS})
   */
  readonly trimEveryAppends?: number;
}

/** A log on a database file it opens, and closes on `close()`. */
export interface SqliteLogFileOptions extends SqliteLogTuning, SqliteOpenOptions {
  readonly db?: undefined;
}

/** A log on a connection the caller opened and closes. */
export interface SqliteLogConnectionOptions extends SqliteLogTuning {
  /** An open better-sqlite3 `Database`; the log adds its tables and pragmas. */
  readonly db: SqliteDatabase;
  readonly path?: undefined;
}

export type SqliteLogOptions = SqliteLogFileOptions | SqliteLogConnectionOptions;

interface PendingAppend {
  readonly stream: string;
  readonly id: string;
  readonly json: string;
  readonly publishedAt: number;
  readonly resolve: (position: LogPosition) => void;
  readonly reject: (error: Error) => void;
  epoch: string;
  offset: number;
}

interface MessageRow {
  readonly offset: number;
  readonly id: string;
  readonly data: string;
  readonly publishedAt: number;
}

/**
 * Create a SQLite message log, on a file (`path`) or on an open connection (`db`).
 * Throws {@link StoreOpenError} when the database cannot be used.
 */
export function createSqliteLog(options: SqliteLogOptions): MessageLog {
  if (options.db !== undefined) {
    prepareDatabase(options.db);
    const committer = createCommitter(options.db, options);
    return attachSqliteLog(options.db, committer, options, () => committer.dispose());
  }
  const db = openDatabase(options);
  try {
    const committer = createCommitter(db, options);
    return attachSqliteLog(db, committer, options, () => {
      committer.dispose();
      db.close();
    });
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The log over a prepared connection and a commit scheduler it may share with other
 * writers. `release` runs once, on `close()`, after the last appends were committed.
 */
export function attachSqliteLog(
  db: SqliteDatabase,
  committer: Committer,
  options: SqliteLogTuning,
  release: () => void,
): MessageLog {
  const clock = options.clock ?? systemClock;
  const retention = createRetention(db, options.retention);
  const trimEvery = options.trimEveryAppends ?? DEFAULT_TRIM_EVERY_APPENDS;
  if (!Number.isSafeInteger(trimEvery) || trimEvery < 1) {
    throw new InvalidOptionError(
      `trimEveryAppends must be a positive integer, got ${String(trimEvery)}.`,
    );
  }
  const selectStream = db.prepare<StreamRow>(
    `SELECT id, epoch, last_offset AS last, first_offset AS first
       FROM lifeline_streams WHERE name = ?`,
  );
  const insertStream = db.prepare(
    'INSERT INTO lifeline_streams (name, epoch, last_offset, first_offset) VALUES (?, ?, 0, 1)',
  );
  const setLast = db.prepare('UPDATE lifeline_streams SET last_offset = ? WHERE id = ?');
  const insertMessage = db.prepare(
    `INSERT INTO lifeline_messages (stream_id, msg_offset, id, data, published_at)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const selectMessages = db.prepare<MessageRow>(
    `SELECT msg_offset AS "offset", id, data, published_at AS publishedAt
       FROM lifeline_messages WHERE stream_id = ? AND msg_offset > ?
      ORDER BY msg_offset LIMIT ?`,
  );
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');

  let pending: PendingAppend[] = [];
  let inFlight: PendingAppend[] = [];
  let closed: Promise<void> | undefined;

  function loadOrCreate(stream: string): StreamRow {
    const row = selectStream.get(stream);
    if (row !== undefined) return row;
    // A new stream gets a new epoch; an existing one keeps its epoch for as long as the
    // file exists, so positions clients kept across a restart stay valid.
    const epoch = randomUUID();
    const id = Number(insertStream.run(stream, epoch).lastInsertRowid);
    return { id, epoch, last: 0, first: 1 };
  }

  const participant: CommitParticipant = {
    take() {
      inFlight = pending;
      pending = [];
      return inFlight.length;
    },
    write() {
      const rows = new Map<string, { row: StreamRow; before: number }>();
      for (const item of inFlight) {
        let entry = rows.get(item.stream);
        if (entry === undefined) {
          const row = loadOrCreate(item.stream);
          entry = { row, before: row.last };
          rows.set(item.stream, entry);
        }
        const offset = ++entry.row.last;
        insertMessage.run(entry.row.id, offset, item.id, item.json, item.publishedAt);
        item.epoch = entry.row.epoch;
        item.offset = offset;
      }
      const now = clock.now();
      for (const { row, before } of rows.values()) {
        setLast.run(row.last, row.id);
        // Amortized: a delete per stream per batch would double the cost of fan-out.
        if (Math.floor(before / trimEvery) !== Math.floor(row.last / trimEvery)) {
          retention.apply(row, now);
        }
      }
    },
    settle(error) {
      const done = inFlight;
      inFlight = [];
      // In call order, so a stream's appends resolve in offset order.
      for (const item of done) {
        if (error === undefined) item.resolve({ epoch: item.epoch, offset: item.offset });
        else item.reject(error);
      }
    },
  };
  const leave = committer.join(participant);

  /** The stream's row after applying retention now, and how many messages that dropped. */
  function current(stream: string): { row: StreamRow; dropped: number } | undefined {
    const row = selectStream.get(stream);
    if (row === undefined) return undefined;
    const now = clock.now();
    // Writing only when something expired keeps reads read-only in the common case.
    if (retention.keepFrom(row, now) <= row.first) return { row, dropped: 0 };
    begin.run();
    try {
      // Re-read under the write lock: another process may have appended or trimmed.
      const locked = selectStream.get(stream) ?? row;
      const dropped = retention.apply(locked, now);
      commit.run();
      return { row: locked, dropped };
    } catch (error) {
      if (db.inTransaction) rollback.run();
      throw error;
    }
  }

  function ensureOpen(what: string): void {
    if (closed !== undefined) throw new StoreClosedError(`Cannot ${what}: the log is closed.`);
  }

  return {
    append(stream: string, message: LogMessage): Promise<LogPosition> {
      if (closed !== undefined) {
        return Promise.reject(new StoreClosedError('Cannot append: the log is closed.'));
      }
      // Checked here, per message: a bad one must not fail the whole batch's commit.
      let json: string | undefined;
      try {
        json = JSON.stringify(message.data);
      } catch (cause) {
        return Promise.reject(
          new TypeError('message.data is not serializable as JSON.', { cause }),
        );
      }
      if (json === undefined) return Promise.reject(new TypeError('message.data is not JSON.'));
      if (typeof message.id !== 'string' || !Number.isFinite(message.publishedAt)) {
        return Promise.reject(new TypeError('message.id must be a string, publishedAt a number.'));
      }
      const { id, publishedAt } = message;
      return new Promise((resolve, reject) => {
        pending.push({ stream, id, json, publishedAt, resolve, reject, epoch: '', offset: 0 });
        committer.schedule();
      });
    },

    read(stream, afterOffset, limit) {
      if (!Number.isSafeInteger(limit) || limit < 1) {
        return Promise.reject(new RangeError(`limit must be a positive integer, got ${limit}`));
      }
      return query('read', () => {
        ensureOpen('read');
        const state = current(stream);
        if (state === undefined) return undefined;
        const rows = selectMessages.all(state.row.id, afterOffset, limit);
        const messages = rows.map((r): LoggedMessage => ({
          id: r.id,
          data: JSON.parse(r.data) as unknown,
          publishedAt: r.publishedAt,
          offset: r.offset,
        }));
        return { epoch: state.row.epoch, messages };
      });
    },

    head(stream) {
      return query('head', () => {
        ensureOpen('read the head');
        const state = current(stream);
        if (state === undefined) return undefined;
        const { epoch, last, first } = state.row;
        return { epoch, offset: last, firstOffset: first };
      });
    },

    trim(stream) {
      return query('trim', () => {
        ensureOpen('trim');
        return current(stream)?.dropped ?? 0;
      });
    },

    close() {
      closed ??= query('close', () => {
        // Appends already accepted are committed before the connection goes away.
        committer.flush();
        leave();
        release();
      });
      return closed;
    },
  };
}
