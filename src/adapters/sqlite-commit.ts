/**
 * Group commit for the SQLite store. Writers (the message log, the ack store) queue their
 * writes and ask for a commit; everything queued by then is written in ONE transaction,
 * and every promise settles after that transaction committed or rolled back. A commit
 * costs far more than an insert, so this is what lets one connection take tens of
 * thousands of appends per second.
 *
 * The commit is scheduled on Node's own timers, not the injectable {@link Clock}: a test
 * clock that only moves when told to must not stall writes. `setImmediate` (the default)
 * runs after the I/O callbacks of the current loop turn, so publishes arriving together
 * share a commit without adding latency.
 *
 * A commit runs synchronously, so its size is capped ({@link CommitOptions.maxWritesPerCommit}):
 * under a burst, the queue is written a slice per macrotask and the event loop keeps
 * serving sockets between slices, instead of stalling for one giant transaction.
 */
import { performance } from 'node:perf_hooks';
import { InvalidOptionError } from '../protocol/index.js';
import {
  openDatabase,
  prepareDatabase,
  type SqliteDatabase,
  type SqliteOpenOptions,
} from './sqlite-driver.js';
import { StoreWriteError } from './sqlite-errors.js';

/** Default of {@link CommitOptions.commitIntervalMs}: commit on the next macrotask. */
export const DEFAULT_COMMIT_INTERVAL_MS = 0;

/** Default of {@link CommitOptions.maxWritesPerCommit}. */
export const DEFAULT_MAX_WRITES_PER_COMMIT = 1_000;

/** What one group commit wrote; passed to {@link CommitOptions.onCommit}. */
export interface CommitInfo {
  /** Writes in the transaction (appended messages, ack calls and receipts). */
  readonly writes: number;
  /** Time from BEGIN to COMMIT, in ms. */
  readonly durationMs: number;
}

export interface CommitOptions {
  /**
   * How long the first queued write waits for others before the commit, in ms. 0 commits
   * on the next macrotask (`setImmediate`); a few ms trade latency for larger batches
   * under a steady trickle of publishes.
   * @default 0 ({@link DEFAULT_COMMIT_INTERVAL_MS})
   */
  readonly commitIntervalMs?: number;
  /**
   * Most writes (appended messages, ack calls and receipts) in one transaction. More
   * queued writes are committed in further transactions, each on its own macrotask, so a
   * burst does not block the event loop for the whole backlog.
   * @default 1000 ({@link DEFAULT_MAX_WRITES_PER_COMMIT})
   */
  readonly maxWritesPerCommit?: number;
  /**
   * Called after each successful commit, for metrics. Exceptions it throws are ignored:
   * a metrics hook must not fail writes.
   * @default none
   */
  readonly onCommit?: (info: CommitInfo) => void;
}

/** One writer taking part in the group commit. */
export interface CommitParticipant {
  /**
   * Move at most `limit` of the oldest queued writes aside for this commit; returns how
   * many it took. Writes left queued go into a later commit. A participant that queues
   * several writes as one item takes whole items, and the first one even when it alone
   * exceeds `limit` (but nothing when `limit` is 0).
   */
  take(limit: number): number;
  /** Whether writes are still queued (after {@link take}). */
  readonly queued: boolean;
  /** Execute the taken writes. Runs inside the transaction; throwing rolls it back. */
  write(): void;
  /** The transaction committed (`error` undefined) or was rolled back: settle the taken writes. */
  settle(error: Error | undefined): void;
}

export interface Committer {
  /** Add a participant; returns a function removing it. */
  join(participant: CommitParticipant): () => void;
  /** Ask for a commit soon (idempotent until it runs). */
  schedule(): void;
  /** Commit everything queued now, synchronously (in as many transactions as it takes). */
  flush(): void;
  /** Cancel a scheduled commit without running it. */
  dispose(): void;
}

/** Check a `commitIntervalMs` option. Throws {@link InvalidOptionError}. */
export function commitInterval(value: number | undefined): number {
  if (value === undefined) return DEFAULT_COMMIT_INTERVAL_MS;
  if (!Number.isSafeInteger(value) || value < 0 || value > 60_000) {
    throw new InvalidOptionError(
      `commitIntervalMs must be an integer from 0 to 60000, got ${String(value)}.`,
    );
  }
  return value;
}

/** Check a `maxWritesPerCommit` option. Throws {@link InvalidOptionError}. */
export function maxWritesPerCommit(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_WRITES_PER_COMMIT;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(
      `maxWritesPerCommit must be a positive integer, got ${String(value)}.`,
    );
  }
  return value;
}

export function createCommitter(db: SqliteDatabase, options: CommitOptions = {}): Committer {
  const intervalMs = commitInterval(options.commitIntervalMs);
  const maxWrites = maxWritesPerCommit(options.maxWritesPerCommit);
  const participants = new Set<CommitParticipant>();
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  let cancel: (() => void) | undefined;

  /** One transaction of at most `maxWrites` writes; returns whether writes are left. */
  function commitSlice(): boolean {
    const members = [...participants];
    let writes = 0;
    for (const p of members) writes += p.take(maxWrites - writes);
    if (writes === 0) return false;
    const started = performance.now();
    let error: StoreWriteError | undefined;
    try {
      // IMMEDIATE takes the write lock up front, so a second process sharing the file
      // waits for it (busy timeout) instead of failing halfway through the batch.
      begin.run();
      for (const p of members) p.write();
      commit.run();
    } catch (cause) {
      if (db.open && db.inTransaction) rollback.run();
      error = new StoreWriteError(
        `Writing to ${db.name} failed; the ${writes} writes of this commit were rolled back.`,
        { cause },
      );
    }
    for (const p of members) p.settle(error);
    if (error === undefined && options.onCommit !== undefined) {
      try {
        options.onCommit({ writes, durationMs: performance.now() - started });
      } catch {
        // See CommitOptions.onCommit.
      }
    }
    return members.some((p) => p.queued);
  }

  /** The scheduled commit: one slice, and the next slice on the next macrotask. */
  function tick(): void {
    cancel = undefined;
    if (commitSlice()) later(0);
  }

  function later(delayMs: number): void {
    if (cancel !== undefined) return;
    if (delayMs === 0) {
      const handle = setImmediate(tick);
      cancel = () => clearImmediate(handle);
    } else {
      const handle = setTimeout(tick, delayMs);
      cancel = () => clearTimeout(handle);
    }
  }

  function flush(): void {
    cancel?.();
    cancel = undefined;
    while (commitSlice());
  }

  return {
    join(participant) {
      participants.add(participant);
      return () => participants.delete(participant);
    },
    schedule() {
      later(intervalMs);
    },
    flush,
    dispose() {
      cancel?.();
      cancel = undefined;
    },
  };
}

/**
 * Build a store on its own connection (`path`) or on a caller's open one (`db`), with a
 * commit scheduler of its own. `release`, handed to `attach`, disposes the scheduler and —
 * only when the connection is the store's own — closes it.
 */
export function onConnection<T>(
  options: ({ readonly db: SqliteDatabase } | SqliteOpenOptions) & CommitOptions,
  attach: (db: SqliteDatabase, committer: Committer, release: () => void) => T,
): T {
  if ('db' in options && options.db !== undefined) {
    prepareDatabase(options.db);
    const committer = createCommitter(options.db, options);
    return attach(options.db, committer, () => committer.dispose());
  }
  const db = openDatabase(options as SqliteOpenOptions);
  try {
    const committer = createCommitter(db, options);
    return attach(db, committer, () => {
      committer.dispose();
      db.close();
    });
  } catch (error) {
    db.close();
    throw error;
  }
}
