/**
 * Opening the SQLite database behind the durable store: load better-sqlite3, apply the
 * pragmas, create or check the schema. Every failure here becomes a
 * {@link StoreOpenError} naming the file, so a bad `--data` directory is reported at
 * startup rather than at the first publish.
 *
 * better-sqlite3 is reached through the narrow {@link SqliteDatabase} interface below:
 * the store uses a handful of its methods, and typing exactly those keeps the rest of the
 * adapter independent of the driver's own type declarations.
 */
import { createRequire } from 'node:module';
import { InvalidOptionError } from '../protocol/index.js';
import { StoreOpenError } from './sqlite-errors.js';

/** Result of a statement that writes. */
export interface SqliteRunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

/** A prepared statement (the subset of better-sqlite3's `Statement` the store uses). */
export interface SqliteStatement<Row = unknown> {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
}

/** An open connection (the subset of better-sqlite3's `Database` the store uses). */
export interface SqliteDatabase {
  /** The file name the connection was opened with. */
  readonly name: string;
  readonly open: boolean;
  readonly inTransaction: boolean;
  prepare<Row = unknown>(sql: string): SqliteStatement<Row>;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}

type DatabaseConstructor = new (path: string, options?: { timeout?: number }) => SqliteDatabase;

/** Default of {@link SqliteOpenOptions.busyTimeoutMs}. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Version written to `PRAGMA user_version` once the tables below exist. */
export const SCHEMA_VERSION = 5;

export interface SqliteOpenOptions {
  /** The database file; created when missing (its directory must exist). */
  readonly path: string;
  /**
   * How long a write waits for another process holding the database lock, in ms, before
   * it fails with SQLITE_BUSY.
   * @default 5_000 ({@link DEFAULT_BUSY_TIMEOUT_MS})
   */
  readonly busyTimeoutMs?: number;
}

// Offset columns carry a prefix because OFFSET is an SQL keyword. No foreign keys: every
// write goes through this adapter, and checking them would cost a lookup per appended
// message.
const SCHEMA_V1 = `
  CREATE TABLE IF NOT EXISTS lifeline_streams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    epoch TEXT NOT NULL,
    last_offset INTEGER NOT NULL,
    first_offset INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS lifeline_messages (
    stream_id INTEGER NOT NULL,
    msg_offset INTEGER NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    published_at REAL NOT NULL, -- REAL: a custom clock may return fractional ms
    PRIMARY KEY (stream_id, msg_offset)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS lifeline_acks (
    consumer TEXT NOT NULL,
    stream TEXT NOT NULL,
    epoch TEXT NOT NULL,
    acked_offset INTEGER NOT NULL,
    PRIMARY KEY (consumer, stream)
  ) STRICT, WITHOUT ROWID;
`;

// Version 2: TTL and requireAck per message, idempotency records, receipts (delivery and
// ack times), and acks by stream.
// - The requireAck index is partial: it costs nothing for the messages that do not ask.
// - Idempotency records (publishes made with a key) and receipts are kept in insertion
//   order (rowid), which is time order, so retention deletes a prefix.
// - The acks index holds (stream, consumer) only: an ack that raises an offset does not
//   touch it.
const MIGRATE_V1_TO_V2 = `
  ALTER TABLE lifeline_messages ADD COLUMN expires_at REAL;
  ALTER TABLE lifeline_messages ADD COLUMN require_ack INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX lifeline_messages_require_ack
    ON lifeline_messages (stream_id, msg_offset) WHERE require_ack = 1;
  CREATE TABLE lifeline_publishes (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    published_at REAL NOT NULL,
    expires_at REAL,
    require_ack INTEGER NOT NULL,
    positions TEXT NOT NULL, -- JSON [[stream, epoch, offset], ...]
    idempotency_key TEXT,
    fingerprint TEXT
  ) STRICT;
  CREATE UNIQUE INDEX lifeline_publishes_key
    ON lifeline_publishes (idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE TABLE lifeline_receipts (
    seq INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    kind TEXT NOT NULL,
    consumer TEXT NOT NULL,
    session TEXT,
    epoch TEXT NOT NULL,
    from_offset INTEGER NOT NULL,
    to_offset INTEGER NOT NULL,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL
  ) STRICT;
  CREATE INDEX lifeline_receipts_stream ON lifeline_receipts (stream, to_offset);
  CREATE INDEX lifeline_acks_stream ON lifeline_acks (stream, consumer);
`;

// Version 3: messages by id, for the status API. Written inside each message's INSERT
// (a row per publish in a table of its own cost a third of the append rate); ids are
// time-ordered (UUIDv7), so the index grows at its end rather than at random pages.
const MIGRATE_V2_TO_V3 = `
  CREATE INDEX lifeline_messages_id ON lifeline_messages (id);
`;

// Version 4: messages in append order. Version 1 clustered the messages table by
// (stream, offset), so a commit of publishes to N different users wrote N scattered leaf
// pages of full rows (and split them as streams grew): at thousands of users that was
// most of the cost of a durable publish. Rows now go to the end of the table (rowid
// order, which is commit order) and only the narrow (stream, offset) index is written
// in stream order; reads and retention walk that index.
const MIGRATE_V3_TO_V4 = `
  CREATE TABLE lifeline_messages_v4 (
    seq INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL,
    msg_offset INTEGER NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    published_at REAL NOT NULL,
    expires_at REAL,
    require_ack INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  INSERT INTO lifeline_messages_v4
      (stream_id, msg_offset, id, data, published_at, expires_at, require_ack)
    SELECT stream_id, msg_offset, id, data, published_at, expires_at, require_ack
      FROM lifeline_messages ORDER BY published_at, stream_id, msg_offset;
  DROP TABLE lifeline_messages;
  ALTER TABLE lifeline_messages_v4 RENAME TO lifeline_messages;
  CREATE UNIQUE INDEX lifeline_messages_stream ON lifeline_messages (stream_id, msg_offset);
  CREATE INDEX lifeline_messages_require_ack
    ON lifeline_messages (stream_id, msg_offset) WHERE require_ack = 1;
  CREATE INDEX lifeline_messages_id ON lifeline_messages (id);
`;

// Version 5: no new table or column, a new meaning. `lifeline_streams.last_offset` is
// written when retention deletes messages, not by every commit: a stream's newest offset
// is the larger of it and the newest offset among the stream's messages. The number
// changes so that an older Lifeline, which takes `last_offset` as the head, refuses the
// file instead of appending at offsets already used.
const MIGRATE_V4_TO_V5 = `SELECT 1;`;

/** Schema changes by the version they lead to; applied in order from the file's version. */
const MIGRATIONS: readonly (readonly [version: number, sql: string])[] = [
  [1, SCHEMA_V1],
  [2, MIGRATE_V1_TO_V2],
  [3, MIGRATE_V2_TO_V3],
  [4, MIGRATE_V3_TO_V4],
  [5, MIGRATE_V4_TO_V5],
];

let driver: DatabaseConstructor | undefined;

function loadDriver(): DatabaseConstructor {
  if (driver !== undefined) return driver;
  try {
    // Loaded on first use: a gateway running on the memory store never needs the addon.
    const require = createRequire(import.meta.url);
    driver = require('better-sqlite3') as DatabaseConstructor;
    return driver;
  } catch (cause) {
    throw new StoreOpenError(
      'better-sqlite3 could not be loaded; its native addon is built when it is installed: ' +
        'run `npm rebuild better-sqlite3`.',
      { cause },
    );
  }
}

function describe(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  const text = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' ? `${code}: ${text}` : text;
}

/** Create the tables, or check that a newer Lifeline did not write this file. */
function migrate(db: SqliteDatabase, path: string): void {
  const version = () => Number(db.pragma('user_version', { simple: true }));
  if (version() === SCHEMA_VERSION) return;
  // IMMEDIATE: two processes opening a new file at once must not both create the schema.
  db.exec('BEGIN IMMEDIATE');
  try {
    const found = version();
    if (found > SCHEMA_VERSION) {
      throw new StoreOpenError(
        `${path} has schema version ${found}, written by a newer Lifeline; this one reads ` +
          `version ${SCHEMA_VERSION}. Upgrade Lifeline or use another data directory.`,
      );
    }
    for (const [to, sql] of MIGRATIONS) if (to > found) db.exec(sql);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * Apply the store's pragmas and schema to a connection opened elsewhere. Idempotent.
 * Throws {@link StoreOpenError}.
 */
export function prepareDatabase(db: SqliteDatabase, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): void {
  const path = db.name;
  try {
    // WAL: readers never block the writer. NORMAL: a commit is not fsynced (a checkpoint
    // is), so a power loss may drop the last commits but never corrupts the file.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    migrate(db, path);
  } catch (cause) {
    if (cause instanceof StoreOpenError) throw cause;
    throw new StoreOpenError(`Cannot use ${path} as a Lifeline store (${describe(cause)}).`, {
      cause,
    });
  }
}

/** Open (creating when missing) a database file for the store. Throws {@link StoreOpenError}. */
export function openDatabase(options: SqliteOpenOptions): SqliteDatabase {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new InvalidOptionError(
      `busyTimeoutMs must be a non-negative integer, got ${String(busyTimeoutMs)}.`,
    );
  }
  const Database = loadDriver();
  let db: SqliteDatabase;
  try {
    db = new Database(options.path, { timeout: busyTimeoutMs });
  } catch (cause) {
    throw new StoreOpenError(
      `Cannot open ${options.path} (${describe(cause)}). Check that its directory exists ` +
        'and is writable.',
      { cause },
    );
  }
  try {
    prepareDatabase(db, busyTimeoutMs);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
