/**
 * The embedded durable store: the message log, the ack store and the polling sessions in
 * one SQLite file, on one connection (the log and the acks committing together). This is
 * what `lifeline serve` runs on.
 *
 * ```ts
 * const store = createSqliteStore({ path: 'lifeline-data/lifeline.db' });
 * const gateway = createGateway({
 *   server,
 *   jwt,
 *   messageLog: store.log,
 *   ackStore: store.acks,
 *   polling: { store: store.polling },
 * });
 * // on shutdown: the gateway first, then the store
 * await gateway.close();
 * await store.close();
 * ```
 */
import type { PollingStore } from '../storage/polling.js';
import type { AckStore, MessageLog } from '../storage/types.js';
import { attachSqliteAckStore, type SqliteAckTuning } from './sqlite-acks.js';
import { createCommitter, type Committer } from './sqlite-commit.js';
import { openDatabase, type SqliteOpenOptions } from './sqlite-driver.js';
import { attachSqliteLog, type SqliteLogTuning } from './sqlite-log.js';
import { createSqlitePollingStore } from './sqlite-polling.js';
import {
  checkpointInterval,
  startCheckpointer,
  type Checkpointer,
  type SqliteCheckpointOptions,
} from './sqlite-store-checkpoint.js';

export interface SqliteStoreOptions
  extends SqliteOpenOptions, SqliteLogTuning, SqliteCheckpointOptions {
  /** How long delivery receipts are kept. @default { maxAgeMs: 86_400_000 } */
  readonly receipts?: SqliteAckTuning['receipts'];
}

/** An open store. The gateway does not close stores it was given: call `close()`. */
export interface SqliteStore extends AsyncDisposable {
  /** Pass as `messageLog` to `createGateway`. */
  readonly log: MessageLog;
  /** Pass as `ackStore` to `createGateway`. */
  readonly acks: AckStore;
  /**
   * Pass as `polling.store` to `createGateway`: every process serving this file then
   * answers every polling session's requests (PROTOCOL.md §11.6). On the store's own
   * connection, so its writes do not empty the log's cached stream heads.
   */
  readonly polling: PollingStore;
  /** The database file. */
  readonly path: string;
  /** Commit what is queued, then close the connection. Idempotent. */
  close(): Promise<void>;
}

/** Open (creating when missing) a store file. Throws {@link StoreOpenError}. */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const intervalMs = checkpointInterval(options.checkpointIntervalMs);
  const db = openDatabase(options);
  let committer: Committer | undefined;
  let log: MessageLog;
  let acks: AckStore;
  let polling: PollingStore;
  let checkpointer: Checkpointer | undefined;
  try {
    committer = createCommitter(db, options);
    // One committer: an append and an ack queued in the same tick share a transaction.
    log = attachSqliteLog(db, committer, options, () => {});
    acks = attachSqliteAckStore(db, committer, options, () => {});
    polling = createSqlitePollingStore({ db });
    checkpointer = startCheckpointer(db, intervalMs);
  } catch (error) {
    committer?.dispose();
    db.close();
    throw error;
  }
  const scheduler = committer;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await Promise.all([log.close(), acks.close(), polling.close()]);
      } finally {
        scheduler.dispose();
        // The worker's connection first: the last connection to close checkpoints what
        // is left and removes the write-ahead log.
        await checkpointer?.close();
        db.close();
      }
    })();
    return closing;
  };
  return { log, acks, polling, path: options.path, close, [Symbol.asyncDispose]: close };
}
