/**
 * The SQLite {@link MessageLog}: durable, ordered per-stream history in one database
 * file. Publishes are group-committed (see sqlite-commit.ts). Offsets are assigned inside
 * the commit from the stream's stored head, so a stream's epoch and offsets survive a
 * restart, and two processes sharing the file never hand out the same position. A
 * publish's messages, its record and its idempotency key are written in one transaction,
 * and the key is checked inside it, so concurrent duplicates publish once.
 *
 * A stream's head is not written per commit. Its newest offset is the larger of
 * `lifeline_streams.last_offset` and the newest offset in `lifeline_messages` (one seek
 * on the (stream, offset) index), and `last_offset` is brought up to date only when
 * retention deletes messages, before it does. A commit to N streams then writes their
 * messages and nothing else. Updating those N rows of the streams table as well cost 13%
 * of the instructions of an append, and 7% of the pages a commit wrote to the WAL
 * (commits of 200 appends to streams drawn from 5,000; schema version 5).
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../env/index.js';
import { InvalidOptionError, type StreamPosition } from '../protocol/index.js';
import { checkPublish, publishRecord } from '../storage/publish-check.js';
import type {
  LoggedMessage,
  LogMessage,
  LogPosition,
  LogPublish,
  LogPublished,
  LogSlice,
  MessageLog,
  PublishRecord,
  RecordRetentionOptions,
  RetentionOptions,
} from '../storage/types.js';
import {
  onConnection,
  type CommitOptions,
  type Committer,
  type CommitParticipant,
} from './sqlite-commit.js';
import type { SqliteDatabase, SqliteOpenOptions } from './sqlite-driver.js';
import { query, StoreClosedError } from './sqlite-errors.js';
import { createSqliteRecords } from './sqlite-records.js';
import { createRetention, type StreamRow } from './sqlite-retention.js';

/** Default of {@link SqliteLogTuning.trimEveryAppends}. */
export const DEFAULT_TRIM_EVERY_APPENDS = 100;

/**
 * Message rows per multi-row INSERT of a commit. One statement per message cost more in
 * binding and stepping than the rows themselves; 32 rows keep the statement well under
 * SQLite's parameter limit.
 */
const ROWS_PER_STATEMENT = 32;

/** Columns of one message row, in the order of the INSERT below. */
const MESSAGE_COLUMNS = 7;

/**
 * The newest offset of stream `s` (a `lifeline_streams` row): `last_offset` as retention
 * last wrote it, or the newest message stored since, whichever is larger.
 */
const LAST_OFFSET = `max(s.last_offset, coalesce(
    (SELECT max(msg_offset) FROM lifeline_messages WHERE stream_id = s.id), 0))`;

/** Default of {@link SqliteLogTuning.cachedStreams}. */
export const DEFAULT_CACHED_STREAMS = 100_000;

/** Options of the log itself, whatever connection it uses. */
export interface SqliteLogTuning extends CommitOptions {
  /**
   * How many messages, and for how long, each stream keeps.
   * @default { maxMessages: 10_000, maxAgeMs: 86_400_000 } (see {@link RetentionOptions})
   */
  readonly retention?: RetentionOptions;
  /**
   * How many publish records, and for how long, the log keeps (idempotency keys, status).
   * @default { maxAgeMs: 86_400_000, maxCount: 10_000_000 } (see {@link RecordRetentionOptions})
   */
  readonly records?: RecordRetentionOptions;
  /** Time source of age-based retention (not of commits). @default the system clock */
  readonly clock?: Clock;
  /**
   * Appends apply retention to a stream each time its offset crosses a multiple of this,
   * so a stream stores at most `maxMessages + trimEveryAppends − 1` rows. Reads, `head`
   * and `trim` always apply it exactly.
   * @default 100 ({@link DEFAULT_TRIM_EVERY_APPENDS})
   */
  readonly trimEveryAppends?: number;
  /**
   * Most streams whose head (id, epoch, last and first offset) the log keeps in memory
   * between commits, so appending to a stream it wrote recently reads nothing from the
   * file. The oldest entry goes first past this. A commit made by another connection to
   * the same file empties the cache (checked once per commit with `PRAGMA data_version`).
   * @default 100_000 ({@link DEFAULT_CACHED_STREAMS})
   */
  readonly cachedStreams?: number;
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

interface PendingPublish {
  readonly entry: LogPublish;
  readonly json: string;
  readonly resolve: (published: LogPublished) => void;
  readonly reject: (error: Error) => void;
  /** Set inside the commit; handed to `resolve` once it succeeded. */
  result: LogPublished | undefined;
}

interface MessageRow {
  readonly offset: number;
  readonly id: string;
  readonly data: string;
  readonly publishedAt: number;
  readonly expiresAt: number | null;
  readonly requireAck: number;
}

interface IdRow {
  readonly streamId: number;
  readonly last: number;
  readonly first: number;
  readonly stream: string;
  readonly epoch: string;
  readonly offset: number;
  readonly publishedAt: number;
  readonly expiresAt: number | null;
  readonly requireAck: number;
}

function toMessage(r: MessageRow): LoggedMessage {
  return {
    id: r.id,
    data: JSON.parse(r.data) as unknown,
    publishedAt: r.publishedAt,
    offset: r.offset,
    ...(r.expiresAt === null ? {} : { expiresAt: r.expiresAt }),
    ...(r.requireAck === 1 ? { requireAck: true } : {}),
  };
}

/**
 * Create a SQLite message log, on a file (`path`) or on an open connection (`db`).
 * Throws {@link StoreOpenError} when the database cannot be used.
 */
export function createSqliteLog(options: SqliteLogOptions): MessageLog {
  return onConnection(options, (db, committer, release) =>
    attachSqliteLog(db, committer, options, release),
  );
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
  const cacheLimit = options.cachedStreams ?? DEFAULT_CACHED_STREAMS;
  if (!Number.isSafeInteger(cacheLimit) || cacheLimit < 0) {
    throw new InvalidOptionError(
      `cachedStreams must be a non-negative integer, got ${String(cacheLimit)}.`,
    );
  }
  const selectStream = db.prepare<StreamRow>(
    `SELECT s.id, s.epoch, ${LAST_OFFSET} AS last, s.first_offset AS first
       FROM lifeline_streams s WHERE s.name = ?`,
  );
  const insertStream = db.prepare(
    'INSERT INTO lifeline_streams (name, epoch, last_offset, first_offset) VALUES (?, ?, 0, 1)',
  );
  const insertInto = `INSERT INTO lifeline_messages
       (stream_id, msg_offset, id, data, published_at, expires_at, require_ack) VALUES `;
  const insertMessage = db.prepare(`${insertInto}(?, ?, ?, ?, ?, ?, ?)`);
  const insertMessages = db.prepare(
    insertInto + Array<string>(ROWS_PER_STATEMENT).fill('(?, ?, ?, ?, ?, ?, ?)').join(', '),
  );
  /**
   * Message rows of the running commit not inserted yet, flat, MESSAGE_COLUMNS a row:
   * the parameters of one multi-row INSERT, filled in place and reused, so a commit
   * allocates no parameter arrays.
   */
  const rowParams: unknown[] = new Array<unknown>(ROWS_PER_STATEMENT * MESSAGE_COLUMNS);
  /** How many of `rowParams` are filled. */
  let filled = 0;
  /** The parameters of a one-row INSERT, for what is left when the commit ends. */
  const oneRow: unknown[] = new Array<unknown>(MESSAGE_COLUMNS);

  /** Queue one message row; inserts the queued rows once they fill a statement. */
  function addRow(streamId: number, offset: number, message: LogMessage, json: string): void {
    rowParams[filled] = streamId;
    rowParams[filled + 1] = offset;
    rowParams[filled + 2] = message.id;
    rowParams[filled + 3] = json;
    rowParams[filled + 4] = message.publishedAt;
    rowParams[filled + 5] = message.expiresAt ?? null;
    rowParams[filled + 6] = message.requireAck === true ? 1 : 0;
    filled += MESSAGE_COLUMNS;
    if (filled === rowParams.length) {
      insertMessages.run(rowParams);
      filled = 0;
    }
  }

  /** Insert the rows still queued, one statement each. */
  function insertRest(): void {
    for (let at = 0; at < filled; at += MESSAGE_COLUMNS) {
      for (let c = 0; c < MESSAGE_COLUMNS; c++) oneRow[c] = rowParams[at + c];
      insertMessage.run(oneRow);
    }
    filled = 0;
  }

  const messageColumns = `msg_offset AS "offset", id, data, published_at AS publishedAt,
    expires_at AS expiresAt, require_ack AS requireAck`;
  const selectMessages = db.prepare<MessageRow>(
    `SELECT ${messageColumns} FROM lifeline_messages
      WHERE stream_id = ? AND msg_offset > ? ORDER BY msg_offset LIMIT ?`,
  );
  // `require_ack = 1` is spelled as in the partial index, so SQLite uses it.
  const selectRequired = db.prepare<MessageRow>(
    `SELECT ${messageColumns} FROM lifeline_messages
      WHERE stream_id = ? AND msg_offset > ? AND require_ack = 1 ORDER BY msg_offset LIMIT ?`,
  );
  // Rows retention has not deleted yet are filtered out by the caller, as `read` would.
  const selectById = db.prepare<IdRow>(
    `SELECT s.id AS streamId, s.name AS stream, s.epoch, ${LAST_OFFSET} AS last,
            s.first_offset AS first, m.msg_offset AS "offset", m.published_at AS publishedAt,
            m.expires_at AS expiresAt, m.require_ack AS requireAck
       FROM lifeline_messages m JOIN lifeline_streams s ON s.id = m.stream_id
      WHERE m.id = ? AND m.msg_offset >= s.first_offset
      ORDER BY s.id`,
  );
  const records = createSqliteRecords(db, options.records);
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const dataVersion = db.prepare<{ data_version: number }>('PRAGMA data_version');

  /**
   * Stream heads as of this connection's last commit, by name, oldest entry first. Valid
   * while no other connection committed: `data_version` tells (it moves only for other
   * connections' commits), and it is read with the write lock held, so nobody can commit
   * between that check and this commit's writes.
   */
  const heads = new Map<string, StreamRow>();
  let seenVersion: number | undefined;

  let pending: PendingPublish[] = [];
  let inFlight: PendingPublish[] = [];
  let closed: Promise<void> | undefined;
  // The first commit trims what an earlier process left behind.
  let recordsSinceTrim = trimEvery;

  /** Inside the commit: the stream's head, from the cache or the file (created when new). */
  function loadOrCreate(stream: string): StreamRow {
    const cached = heads.get(stream);
    if (cached !== undefined) return cached;
    let row = selectStream.get(stream);
    if (row === undefined) {
      // A new stream gets a new epoch; an existing one keeps its epoch for as long as the
      // file exists, so positions clients kept across a restart stay valid.
      const epoch = randomUUID();
      const id = Number(insertStream.run(stream, epoch).lastInsertRowid);
      row = { id, epoch, last: 0, first: 1 };
    }
    if (cacheLimit > 0) {
      if (heads.size >= cacheLimit) heads.delete(heads.keys().next().value as string);
      heads.set(stream, row);
    }
    return row;
  }

  /** Inside the commit, before any write: forget the heads if another connection wrote. */
  function checkHeads(): void {
    const version = dataVersion.get()?.data_version;
    if (version !== seenVersion) heads.clear();
    seenVersion = version;
  }

  /** Write one publish inside the commit's transaction; returns its outcome. */
  function write(
    item: PendingPublish,
    rows: Map<string, { row: StreamRow; before: number }>,
    now: number,
  ): LogPublished {
    const { entry, json } = item;
    const { message, idempotency } = entry;
    if (idempotency !== undefined) {
      const earlier = records.byKey(idempotency.key, idempotency.since, now);
      if (earlier !== undefined) return { duplicate: true, record: earlier };
    }
    const positions: StreamPosition[] = [];
    for (const stream of entry.streams) {
      let found = rows.get(stream);
      if (found === undefined) {
        const row = loadOrCreate(stream);
        found = { row, before: row.last };
        rows.set(stream, found);
      }
      const offset = ++found.row.last;
      addRow(found.row.id, offset, message, json);
      positions.push({ stream, epoch: found.row.epoch, offset });
    }
    const record = publishRecord(message, positions, idempotency);
    if (idempotency !== undefined) {
      // Only publishes with a key are recorded, so only they bring the next trim closer:
      // a log without keys never deletes from the records table.
      records.insert(record);
      recordsSinceTrim++;
    }
    return { duplicate: false, record };
  }

  const participant: CommitParticipant = {
    take(limit) {
      if (pending.length <= limit) {
        inFlight = pending;
        pending = [];
      } else {
        inFlight = pending.splice(0, limit);
      }
      return inFlight.length;
    },
    get queued() {
      return pending.length > 0;
    },
    write() {
      checkHeads();
      // Rows a failed commit left behind were rolled back with it.
      filled = 0;
      const rows = new Map<string, { row: StreamRow; before: number }>();
      const now = clock.now();
      // In call order: a stream's offsets follow the order publishes were called in, and
      // the second of two publishes with one key finds the first's record.
      for (const item of inFlight) item.result = write(item, rows, now);
      insertRest();
      for (const { row, before } of rows.values()) {
        // Amortized: a delete per stream per batch would double the cost of fan-out.
        if (Math.floor(before / trimEvery) !== Math.floor(row.last / trimEvery)) {
          retention.apply(row, now);
        }
      }
      if (recordsSinceTrim >= trimEvery) {
        recordsSinceTrim = 0;
        records.trim(now);
      }
    },
    settle(error) {
      const done = inFlight;
      inFlight = [];
      // A rolled back commit leaves cached heads ahead of the file.
      if (error !== undefined) heads.clear();
      // In call order, so a stream's publishes resolve in offset order.
      for (const item of done) {
        if (error === undefined && item.result !== undefined) item.resolve(item.result);
        else item.reject(error ?? new Error('publish was not written'));
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
      const cached = heads.get(stream);
      if (cached !== undefined) cached.first = locked.first;
      return { row: locked, dropped };
    } catch (error) {
      if (db.inTransaction) rollback.run();
      throw error;
    }
  }

  /** The publish of message `id`, from the streams that still retain it. */
  function findMessage(id: string): PublishRecord | undefined {
    const now = clock.now();
    const rows = selectById
      .all(id)
      .filter(
        (r) =>
          r.offset >=
          retention.keepFrom({ id: r.streamId, epoch: r.epoch, last: r.last, first: r.first }, now),
      );
    const [first] = rows;
    if (first === undefined) return undefined;
    return {
      id,
      publishedAt: first.publishedAt,
      ...(first.expiresAt === null ? {} : { expiresAt: first.expiresAt }),
      ...(first.requireAck === 1 ? { requireAck: true } : {}),
      positions: rows.map(({ stream, epoch, offset }) => ({ stream, epoch, offset })),
    };
  }

  function ensureOpen(what: string): void {
    if (closed !== undefined) throw new StoreClosedError(`Cannot ${what}: the log is closed.`);
  }

  function readWith(
    statement: typeof selectMessages,
    stream: string,
    afterOffset: number,
    limit: number,
  ): Promise<LogSlice | undefined> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      return Promise.reject(new RangeError(`limit must be a positive integer, got ${limit}`));
    }
    return query('read', () => {
      ensureOpen('read');
      const state = current(stream);
      if (state === undefined) return undefined;
      const rows = statement.all(state.row.id, afterOffset, limit);
      return { epoch: state.row.epoch, messages: rows.map(toMessage) };
    });
  }

  function publish(entry: LogPublish): Promise<LogPublished> {
    if (closed !== undefined) {
      return Promise.reject(new StoreClosedError('Cannot publish: the log is closed.'));
    }
    const problem = checkPublish(entry);
    if (problem !== undefined) return Promise.reject(problem);
    // Checked here, per message: a bad one must not fail the whole batch's commit.
    let json = entry.json;
    if (typeof json !== 'string') {
      try {
        json = JSON.stringify(entry.message.data);
      } catch (cause) {
        return Promise.reject(
          new TypeError('message.data is not serializable as JSON.', { cause }),
        );
      }
    }
    if (json === undefined) return Promise.reject(new TypeError('message.data is not JSON.'));
    // Copied: the caller may change its arrays before the commit runs.
    const copy: { -readonly [K in keyof LogPublish]: LogPublish[K] } = {
      streams: [...entry.streams],
      message: entry.message,
    };
    if (entry.idempotency !== undefined) copy.idempotency = { ...entry.idempotency };
    const text = json;
    return new Promise((resolve, reject) => {
      pending.push({ entry: copy, json: text, resolve, reject, result: undefined });
      committer.schedule();
    });
  }

  return {
    publish,

    async append(stream: string, message: LogMessage): Promise<LogPosition> {
      const { record } = await publish({ streams: [stream], message });
      const { epoch, offset } = record.positions[0] as StreamPosition;
      return { epoch, offset };
    },

    lookup(id) {
      return query('lookup', () => {
        ensureOpen('look up a message');
        return findMessage(id);
      });
    },

    read(stream, afterOffset, limit) {
      return readWith(selectMessages, stream, afterOffset, limit);
    },

    readRequiringAck(stream, afterOffset, limit) {
      return readWith(selectRequired, stream, afterOffset, limit);
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
