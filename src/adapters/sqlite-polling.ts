/**
 * A {@link PollingStore} in a SQLite file, so that every gateway process on the machine
 * that opens the same file can answer any request of any polling session (PROTOCOL.md
 * §11.6): a `GET` takes the frames the owning process wrote, a `POST` to another process
 * is forwarded through the `polling_forwarded` table.
 *
 * Polling state lives minutes, not years: its tables are created when missing and are not
 * part of the message log's versioned schema. Each method is one statement or one short
 * synchronous transaction, so it never interleaves with the log's group commits on the
 * same connection, and other processes see it as soon as it returns.
 */
import type {
  ForwardedToSession,
  PollingBegin,
  PollingForward,
  PollingSessionRecord,
  PollingStore,
} from '../storage/polling.js';
import { openDatabase, type SqliteDatabase, type SqliteOpenOptions } from './sqlite-driver.js';
import { StoreClosedError, query } from './sqlite-errors.js';

const TABLES = `
CREATE TABLE IF NOT EXISTS polling_nodes (
  node TEXT PRIMARY KEY,
  seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS polling_sessions (
  id TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  polled_at INTEGER NOT NULL,
  get_until INTEGER NOT NULL DEFAULT 0,
  post_until INTEGER NOT NULL DEFAULT 0,
  queued_bytes INTEGER NOT NULL DEFAULT 0,
  queued INTEGER NOT NULL DEFAULT 0,
  ended_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS polling_sessions_node ON polling_sessions (node);
CREATE TABLE IF NOT EXISTS polling_frames (
  seq INTEGER PRIMARY KEY,
  sid TEXT NOT NULL,
  frame TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS polling_frames_sid ON polling_frames (sid, seq);
CREATE TABLE IF NOT EXISTS polling_forwarded (
  seq INTEGER PRIMARY KEY,
  sid TEXT NOT NULL,
  node TEXT NOT NULL,
  item TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS polling_forwarded_node ON polling_forwarded (node, seq);
`;

interface SessionRow {
  readonly id: string;
  readonly node: string;
  readonly opened_at: number;
  readonly polled_at: number;
  readonly get_until: number;
  readonly post_until: number;
  readonly queued_bytes: number;
  readonly queued: number;
  readonly ended_at: number;
}

export type SqlitePollingStoreOptions = SqliteOpenOptions | { readonly db: SqliteDatabase };

/**
 * Open the polling tables in a store file (its own connection: `path`), or on a connection
 * the caller opened and closes (`db`). Throws `StoreOpenError` when the file cannot be used.
 */
export function createSqlitePollingStore(options: SqlitePollingStoreOptions): PollingStore {
  const own = !('db' in options);
  const db = 'db' in options ? options.db : openDatabase(options);
  try {
    db.exec(TABLES);
  } catch (error) {
    if (own) db.close();
    throw error;
  }
  return attach(db, own);
}

function attach(db: SqliteDatabase, own: boolean): PollingStore {
  const s = {
    beat: db.prepare(
      'INSERT INTO polling_nodes (node, seen_at) VALUES (?, ?) ' +
        'ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at',
    ),
    seen: db.prepare<{ seen_at: number }>('SELECT seen_at FROM polling_nodes WHERE node = ?'),
    create: db.prepare(
      'INSERT INTO polling_sessions (id, node, opened_at, polled_at) VALUES (?, ?, ?, ?)',
    ),
    get: db.prepare<SessionRow>('SELECT * FROM polling_sessions WHERE id = ?'),
    open: db.prepare<{ ended_at: number }>('SELECT ended_at FROM polling_sessions WHERE id = ?'),
    frame: db.prepare('INSERT INTO polling_frames (sid, frame) VALUES (?, ?)'),
    wrote: db.prepare(
      'UPDATE polling_sessions SET queued_bytes = queued_bytes + ?, queued = queued + ?, ' +
        'ended_at = CASE WHEN ? THEN ? ELSE ended_at END WHERE id = ? RETURNING queued_bytes',
    ),
    frames: db.prepare<{ frame: string }>(
      'SELECT frame FROM polling_frames WHERE sid = ? ORDER BY seq',
    ),
    dropFrames: db.prepare('DELETE FROM polling_frames WHERE sid = ?'),
    taken: db.prepare<{ ended_at: number }>(
      'UPDATE polling_sessions SET queued_bytes = 0, queued = 0, get_until = 0, polled_at = ? ' +
        'WHERE id = ? RETURNING ended_at',
    ),
    beginGet: db.prepare('UPDATE polling_sessions SET get_until = ?, polled_at = ? WHERE id = ?'),
    endGet: db.prepare('UPDATE polling_sessions SET get_until = 0, polled_at = ? WHERE id = ?'),
    beginPost: db.prepare('UPDATE polling_sessions SET post_until = ? WHERE id = ?'),
    endPost: db.prepare('UPDATE polling_sessions SET post_until = 0 WHERE id = ?'),
    forward: db.prepare(
      'INSERT INTO polling_forwarded (sid, node, item) ' +
        'SELECT id, node, ? FROM polling_sessions WHERE id = ? AND ended_at = 0',
    ),
    forwarded: db.prepare<{ seq: number; sid: string; item: string }>(
      'SELECT seq, sid, item FROM polling_forwarded WHERE node = ? ORDER BY seq',
    ),
    dropForwardedUpTo: db.prepare('DELETE FROM polling_forwarded WHERE node = ? AND seq <= ?'),
    dropForwarded: db.prepare('DELETE FROM polling_forwarded WHERE sid = ?'),
    deleteSession: db.prepare('DELETE FROM polling_sessions WHERE id = ?'),
    staleNodes: db.prepare('DELETE FROM polling_nodes WHERE seen_at < ?'),
    staleSessions: db.prepare<{ id: string }>(
      'SELECT id FROM polling_sessions WHERE (ended_at > 0 AND ended_at < ?) ' +
        'OR node NOT IN (SELECT node FROM polling_nodes)',
    ),
  };
  let closed = false;

  /** Run `body` in one immediate transaction (another process waits for the lock). */
  function transaction<T>(body: () => T): T {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  function run<T>(what: string, body: () => T): Promise<T> {
    if (closed) return Promise.reject(new StoreClosedError(`${what}: the store is closed.`));
    return query(what, body);
  }

  function forget(id: string): void {
    s.dropFrames.run(id);
    s.dropForwarded.run(id);
    s.deleteSession.run(id);
  }

  function begin(
    id: string,
    now: number,
    busyUntil: (row: SessionRow) => number,
    mark: () => void,
  ): PollingBegin {
    return transaction(() => {
      const row = s.get.get(id);
      if (row === undefined || (row.ended_at > 0 && row.queued === 0)) return 'gone';
      if (busyUntil(row) > now) return 'busy';
      mark();
      return 'ok';
    });
  }

  return {
    heartbeat: (node, now) => run('Recording a node heartbeat', () => void s.beat.run(node, now)),
    nodeSeenAt: (node) => run('Reading a node heartbeat', () => s.seen.get(node)?.seen_at),
    create: (id, node, now) =>
      run('Creating a polling session', () => void s.create.run(id, node, now, now)),
    get: (id) =>
      run('Reading a polling session', () => {
        const row = s.get.get(id);
        return row === undefined ? undefined : recordOf(row);
      }),
    write: (id, frames, bytes, end, now) =>
      run('Writing polling frames', () =>
        transaction(() => {
          const row = s.open.get(id);
          if (row === undefined || row.ended_at > 0) return undefined;
          for (const frame of frames) s.frame.run(id, frame);
          const after = s.wrote.get(bytes, frames.length, end ? 1 : 0, now, id) as
            { queued_bytes: number } | undefined;
          return after?.queued_bytes;
        }),
      ),
    abandon: (id, closeFrame, now) =>
      run('Ending a polling session', () =>
        transaction(() => {
          const row = s.open.get(id);
          if (row === undefined || row.ended_at > 0) return false;
          s.frame.run(id, closeFrame);
          s.wrote.run(0, 1, 1, now, id);
          return true;
        }),
      ),
    beginGet: (id, now, until) =>
      run('Starting a poll', () =>
        begin(
          id,
          now,
          (row) => row.get_until,
          () => s.beginGet.run(until, now, id),
        ),
      ),
    take: (id, now) =>
      run('Taking polled frames', () =>
        transaction(() => {
          const frames = s.frames.all(id).map((r) => r.frame);
          const row = s.taken.get(now, id);
          if (row === undefined) return { frames: [], last: false };
          const last = row.ended_at > 0;
          if (last) forget(id);
          else if (frames.length > 0) s.dropFrames.run(id);
          return { frames, last };
        }),
      ),
    endGet: (id, now) => run('Ending a poll', () => void s.endGet.run(now, id)),
    beginPost: (id, now, until) =>
      run('Starting a post', () =>
        begin(
          id,
          now,
          (row) => row.post_until,
          () => s.beginPost.run(until, id),
        ),
      ),
    endPost: (id) => run('Ending a post', () => void s.endPost.run(id)),
    forward: (id, item) =>
      run(
        'Forwarding to a polling session',
        () => s.forward.run(JSON.stringify(item), id).changes > 0,
      ),
    takeForwarded: (node) =>
      run('Taking forwarded frames', () =>
        transaction(() => {
          const rows = s.forwarded.all(node);
          const last = rows.at(-1);
          if (last === undefined) return [];
          s.dropForwardedUpTo.run(node, last.seq);
          return rows.map((r): ForwardedToSession => ({
            id: r.sid,
            item: JSON.parse(r.item) as PollingForward,
          }));
        }),
      ),
    delete: (id) => run('Deleting a polling session', () => transaction(() => forget(id))),
    sweep: (endedBefore, nodesSeenBefore) =>
      run('Sweeping polling sessions', () =>
        transaction(() => {
          s.staleNodes.run(nodesSeenBefore);
          const stale = s.staleSessions.all(endedBefore);
          for (const { id } of stale) forget(id);
          return stale.length;
        }),
      ),
    async close() {
      if (closed) return;
      closed = true;
      if (own) db.close();
    },
  };
}

function recordOf(row: SessionRow): PollingSessionRecord {
  return {
    id: row.id,
    node: row.node,
    openedAt: row.opened_at,
    polledAt: row.polled_at,
    getUntil: row.get_until,
    postUntil: row.post_until,
    queuedBytes: row.queued_bytes,
    queued: row.queued > 0,
    ended: row.ended_at > 0,
    endedAt: row.ended_at,
  };
}
