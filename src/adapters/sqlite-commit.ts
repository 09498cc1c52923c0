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
 */
import { performance } from 'node:perf_hooks';
import { InvalidOptionError } from '../protocol/index.js';
import type { SqliteDatabase } from './sqlite-driver.js';
import { StoreWriteError } from './sqlite-errors.js';

/** Default of {@link CommitOptions.commitIntervalMs}: commit on the next macrotask. */
export const DEFAULT_COMMIT_INTERVAL_MS = 0;

/** What one group commit wrote; passed to {@link CommitOptions.onCommit}. */
export interface CommitInfo {
  /** Writes in the transaction (appended messages plus ack calls). */
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
   * Called after each successful commit, for metrics. Exceptions it throws are ignored:
   * a metrics hook must not fail writes.
   * @default none
   */
  readonly onCommit?: (info: CommitInfo) => void;
}

/** One writer taking part in the group commit. */
export interface CommitParticipant {
  /** Move the queued writes aside for this commit; returns how many there are. */
  take(): number;
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
  /** Commit everything queued now, synchronously. */
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

export function createCommitter(db: SqliteDatabase, options: CommitOptions = {}): Committer {
  const intervalMs = commitInterval(options.commitIntervalMs);
  const participants = new Set<CommitParticipant>();
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  let cancel: (() => void) | undefined;

  function flush(): void {
    cancel?.();
    cancel = undefined;
    const members = [...participants];
    let writes = 0;
    for (const p of members) writes += p.take();
    if (writes === 0) return;
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
  }

  return {
    join(participant) {
      participants.add(participant);
      return () => participants.delete(participant);
    },
    schedule() {
      if (cancel !== undefined) return;
      if (intervalMs === 0) {
        const handle = setImmediate(flush);
        cancel = () => clearImmediate(handle);
      } else {
        const handle = setTimeout(flush, intervalMs);
        cancel = () => clearTimeout(handle);
      }
    },
    flush,
    dispose() {
      cancel?.();
      cancel = undefined;
    },
  };
}
