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
export const SCHEMA_VERSION = 1;

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

// Offset columns carry a prefix because OFFSET is an SQL keyword. No foreign keys: every write goes through this adapter, and checking them would cost
// a lookup per appended message.
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
    db.exec(SCHEMA_V1);
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
