/**
 * Checkpoints of the SQLite store on a worker thread. In WAL mode a commit appends pages
 * to the write-ahead log and, with `synchronous = NORMAL`, does not wait for the disk; a
 * checkpoint copies the log back into the database file and is where the fsyncs happen.
 * SQLite runs one automatically inside whichever commit crosses 1,000 log pages, on the
 * committing thread: the event loop then stalls for the fsyncs (tens of ms on a busy
 * disk, far more than a commit) and every push waits behind it.
 *
 * Here a second connection on a worker thread checkpoints instead, every
 * {@link SqliteCheckpointOptions.checkpointIntervalMs}, in `PASSIVE` mode: it never blocks
 * the writer nor waits for it. The store's own connection keeps SQLite's automatic
 * checkpoint only as a safety net, at {@link FALLBACK_AUTOCHECKPOINT_PAGES}, should the
 * worker fall far behind; if the worker fails or exits, the normal threshold comes back.
 *
 * What a commit guarantees is unchanged (see `prepareDatabase`): once a publish resolved
 * it survives a crash of the process. The checkpoint's fsync is what makes it survive an
 * OS crash or a power loss too; with the worker that happens within about one interval
 * of the commit, where SQLite alone waits until the log has grown 1,000 pages.
 *
 * The worker's code is evaluated from a string, so it runs the same from the TypeScript
 * sources and from `dist`, and loads nothing but better-sqlite3.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { InvalidOptionError } from '../protocol/index.js';
import type { SqliteDatabase } from './sqlite-driver.js';

/**
 * Default of {@link SqliteCheckpointOptions.checkpointIntervalMs}. Short, because under a
 * steady stream of commits the log never restarts on its own (SQLite restarts it only
 * when a writer finds every frame already checkpointed): it grows to the fallback
 * threshold below, and the store's own connection then checkpoints whatever the worker
 * has not copied yet, on the event loop. At 20,000 publishes/s the log reached that
 * threshold every ~170 ms, so with a 200 ms interval most of it was still left: commits
 * of a single message took 20–30 ms every time. At 50 ms little is left (the longest
 * commit fell to 9–17 ms) for about 0.5 µs more CPU per publish on the worker.
 */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 50;

/** SQLite's own default of `wal_autocheckpoint`, restored when the worker is gone. */
export const SQLITE_AUTOCHECKPOINT_PAGES = 1_000;

/** `wal_autocheckpoint` of the store's connection while the worker checkpoints (~40 MB). */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

export interface SqliteCheckpointOptions {
  /**
   * How often a worker thread checkpoints the write-ahead log into the database file, in
   * ms. 0 runs no worker: SQLite checkpoints inside the commit that crosses 1,000 log
   * pages, on the event loop's thread.
   * @default 50 ({@link DEFAULT_CHECKPOINT_INTERVAL_MS})
   */
  readonly checkpointIntervalMs?: number;
}

/** The running checkpointer of one database file. */
export interface Checkpointer {
  /** Stop the worker and close its connection. Idempotent. */
  close(): Promise<void>;
}

/** Check a `checkpointIntervalMs` option. Throws {@link InvalidOptionError}. */
export function checkpointInterval(value: number | undefined): number {
  if (value === undefined) return DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (!Number.isSafeInteger(value) || value < 0 || value > 60_000) {
    throw new InvalidOptionError(
      `checkpointIntervalMs must be an integer from 0 to 60000, got ${String(value)}.`,
    );
  }
  return value;
}

// CommonJS, evaluated by the worker. It exits on any error; the store then checkpoints on
// its own thread again. `stop` runs one last checkpoint, so a closing store's connection
// finds little left to copy.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 0 });
db.pragma('synchronous = NORMAL');
let timer;
function checkpoint() {
  db.pragma('wal_checkpoint(PASSIVE)');
}
function tick() {
  checkpoint();
  timer = setTimeout(tick, workerData.intervalMs);
}
parentPort.on('message', () => {
  clearTimeout(timer);
  try {
    checkpoint();
  } finally {
    db.close();
    parentPort.close();
  }
});
tick();
`;

/**
 * Start checkpointing `db`'s file on a worker thread; `undefined` when `intervalMs` is 0
 * or the file is in memory. Call `close()` before closing `db`.
 */
export function startCheckpointer(
  db: SqliteDatabase,
  intervalMs: number,
): Checkpointer | undefined {
  if (intervalMs === 0 || db.name === '' || db.name === ':memory:') return undefined;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // No loaders or flags of the parent (a TypeScript loader, a profiler): plain Node.
    execArgv: [],
    workerData: { driver, path: db.name, intervalMs },
  });
  // A store must not keep the process alive; close() ends the worker explicitly.
  worker.unref();
  db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const exited = new Promise<void>((resolve) => {
    const gone = (): void => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      resolve();
    };
    worker.once('exit', gone);
    // An error ends the worker too ('exit' follows); the store carries on without it.
    worker.on('error', () => {});
  });
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        // Held open until it exited: whoever awaits close() must see it finish.
        worker.ref();
        worker.postMessage('stop');
        await exited;
      })();
      return closing;
    },
  };
}
