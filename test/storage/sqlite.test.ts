/**
 * The SQLite message log on a real file in a temporary directory: the MessageLog contract,
 * then what only a durable log has — offsets and epochs that survive reopening, group
 * commit, retention on disk, flushing on close, and typed errors for unusable files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createSqliteLog, type SqliteLogTuning } from '../../src/adapters/sqlite-log.js';
import { openDatabase } from '../../src/adapters/sqlite-driver.js';
import { InvalidOptionError, LifelineError } from '../../src/protocol/index.js';
import type { LogMessage } from '../../src/storage/types.js';
import { manualClock, messageLogContract } from './message-log.contract.js';
import { publishContract } from './publish.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeline-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshPath = (): string => join(dir, `log-${++files}.db`);

// Now, by default: these logs run on the system clock and keep messages for 24 hours.
function message(n: number, publishedAt = Date.now()): LogMessage {
  return { id: `m${n}`, data: { n }, publishedAt };
}

/** The one value `sql` selects (as `v`) from the file, read on a connection of its own. */
function storedValue(path: string, sql: string, ...params: unknown[]): number | undefined {
  const db = openDatabase({ path });
  try {
    return db.prepare<{ v: number }>(sql).get(...params)?.v;
  } finally {
    db.close();
  }
}

/** Rows the file really holds for a stream (retention may lag behind on disk, not in reads). */
function storedRows(path: string, stream: string): number {
  const sql = `SELECT count(*) AS v FROM lifeline_messages m JOIN lifeline_streams s
                 ON s.id = m.stream_id WHERE s.name = ?`;
  return storedValue(path, sql, stream) ?? 0;
}

// Every test of the contract reopens the same file: it also runs on a non-empty database.
const contractPath = freshPath();
messageLogContract('sqlite', (options) => createSqliteLog({ path: contractPath, ...options }));
publishContract('sqlite', (options) => createSqliteLog({ path: contractPath, ...options }));

describe('sqlite log: durability', () => {
  test('reopening the file continues the offsets in the same epoch', async () => {
    const path = freshPath();
    const first = createSqliteLog({ path });
    await first.append('user:a', message(1));
    const { epoch } = await first.append('user:a', message(2));
    await first.close();

    const second = createSqliteLog({ path });
    const third = await second.append('user:a', message(3));
    assert.deepEqual(third, { epoch, offset: 3 });
    assert.deepEqual(await second.head('user:a'), { epoch, offset: 3, firstOffset: 1 });
    assert.deepEqual(
      (await second.read('user:a', 0, 10))?.messages.map((m) => [m.offset, m.id, m.data]),
      [
        [1, 'm1', { n: 1 }],
        [2, 'm2', { n: 2 }],
        [3, 'm3', { n: 3 }],
      ],
    );
    await second.close();
  });

  test('a new database file starts new epochs', async () => {
    const a = createSqliteLog({ path: freshPath() });
    const b = createSqliteLog({ path: freshPath() });
    const pa = await a.append('user:x', message(1));
    const pb = await b.append('user:x', message(1));
    assert.equal(pb.offset, 1);
    assert.notEqual(pa.epoch, pb.epoch);
    await Promise.all([a.close(), b.close()]);
  });

  test('JSON values of every kind round-trip', async () => {
    const log = createSqliteLog({ path: freshPath() });
    const values = [null, 0, -1.5, 'text ünïcode 😀', true, [], { a: [1, { b: null }] }];
    const publishedAt = Date.now() + 0.5; // a custom clock may return fractions of a ms
    for (const [i, data] of values.entries()) {
      await log.append('s', { id: `m${i}`, data, publishedAt });
    }
    const read = await log.read('s', 0, 100);
    assert.deepEqual(
      read?.messages.map((m) => m.data),
      values,
    );
    assert.equal(read?.messages[0]?.publishedAt, publishedAt);
    await log.close();
  });

  test('two connections on one file never hand out the same offset', async () => {
    const path = freshPath();
    const a = createSqliteLog({ path });
    const b = createSqliteLog({ path });
    const positions = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).append('shared', message(i))),
    );
    const offsets = positions.map((p) => p.offset).sort((x, y) => x - y);
    assert.deepEqual(
      offsets,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.equal(new Set(positions.map((p) => p.epoch)).size, 1);
    await Promise.all([a.close(), b.close()]);
  });

  test('a connection continues from offsets another connection appended since', async () => {
    const path = freshPath();
    const a = createSqliteLog({ path });
    const b = createSqliteLog({ path });
    assert.equal((await a.append('s', message(1))).offset, 1);
    assert.equal((await b.append('s', message(2))).offset, 2);
    assert.equal((await b.append('s', message(3))).offset, 3);
    assert.equal((await a.append('s', message(4))).offset, 4);
    await Promise.all([a.close(), b.close()]);
  });

  test('commits write no stream head; retention writes it before deleting messages', async () => {
    const path = freshPath();
    const clock = manualClock();
    const tuning: SqliteLogTuning = { clock, trimEveryAppends: 5, retention: { maxAgeMs: 1000 } };
    const storedLast = (): number | undefined =>
      storedValue(path, "SELECT last_offset AS v FROM lifeline_streams WHERE name = 's'");
    const log = createSqliteLog({ path, ...tuning });
    for (let i = 1; i <= 5; i++) await log.append('s', message(i, clock.now()));
    // The head of the stream is its newest message; the row still says 0.
    assert.equal(storedLast(), 0);
    await log.close();

    const reopened = createSqliteLog({ path, ...tuning });
    assert.equal((await reopened.head('s'))?.offset, 5);
    clock.advance(1500);
    // Retention deletes every message of the stream: the row keeps the head.
    assert.equal(await reopened.trim('s'), 5);
    assert.equal(storedRows(path, 's'), 0);
    assert.equal(storedLast(), 5);
    await reopened.close();

    const third = createSqliteLog({ path, ...tuning });
    assert.deepEqual(await third.head('s'), {
      epoch: (await third.read('s', 0, 1))?.epoch,
      offset: 5,
      firstOffset: 6,
    });
    assert.equal((await third.append('s', message(6, clock.now()))).offset, 6);
    await third.close();
  });

  test('a rolled back commit hands its offsets out again', async () => {
    const db = openDatabase({ path: freshPath() });
    // Fails the commit that writes message "boom", on this connection only.
    db.exec(`CREATE TEMP TRIGGER boom BEFORE INSERT ON lifeline_messages WHEN NEW.id = 'boom'
             BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    const log = createSqliteLog({ db });
    assert.equal((await log.append('s', message(1))).offset, 1);
    const failed = [
      log.append('s', message(2)),
      log.append('s', { id: 'boom', data: null, publishedAt: Date.now() }),
    ];
    for (const p of failed) await assert.rejects(p, { code: 'LIFELINE_ERR_STORE_WRITE' });
    assert.equal((await log.append('s', message(3))).offset, 2);
    assert.deepEqual(
      (await log.read('s', 0, 10))?.messages.map((m) => m.id),
      ['m1', 'm3'],
    );
    await log.close();
    db.close();
  });

  test('streams beyond cachedStreams are read from the file again', async () => {
    const log = createSqliteLog({ path: freshPath(), cachedStreams: 2 });
    for (let round = 1; round <= 3; round++) {
      const positions = await Promise.all(
        ['a', 'b', 'c', 'd'].map((s, i) => log.append(s, message(round * 10 + i))),
      );
      assert.deepEqual(
        positions.map((p) => p.offset),
        [round, round, round, round],
      );
    }
    await log.close();
  });
});

describe('sqlite log: group commit', () => {
  test('10,000 concurrent appends land in one transaction and resolve in call order', async () => {
    const commits: number[] = [];
    const log = createSqliteLog({
      path: freshPath(),
      onCommit: (info) => commits.push(info.writes),
      maxWritesPerCommit: 10_000,
    });
    const order: string[] = [];
    const n = 10_000;
    const positions = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const stream = i % 2 === 0 ? 'even' : 'odd';
        return log.append(stream, message(i)).then((p) => {
          order.push(`${stream}:${p.offset}`);
          return p;
        });
      }),
    );
    assert.deepEqual(commits, [n], 'one commit for the whole tick');
    assert.deepEqual(
      positions.map((p) => p.offset),
      Array.from({ length: n }, (_, i) => Math.floor(i / 2) + 1),
    );
    assert.deepEqual(
      order,
      Array.from(
        { length: n },
        (_, i) => `${i % 2 === 0 ? 'even' : 'odd'}:${Math.floor(i / 2) + 1}`,
      ),
    );
    assert.equal((await log.head('odd'))?.offset, n / 2);
    await log.close();
  });

  test('commitIntervalMs gathers appends from several ticks into one commit', async () => {
    const commits: number[] = [];
    const log = createSqliteLog({
      path: freshPath(),
      commitIntervalMs: 50,
      onCommit: (info) => commits.push(info.writes),
    });
    const first = log.append('s', message(1));
    await new Promise((resolve) => setImmediate(resolve));
    const second = log.append('s', message(2));
    assert.deepEqual(
      (await Promise.all([first, second])).map((p) => p.offset),
      [1, 2],
    );
    assert.deepEqual(commits, [2]);
    await log.close();
  });

  test('a failed commit rejects every append of the batch with StoreWriteError', async () => {
    const db = openDatabase({ path: freshPath() });
    const log = createSqliteLog({ db });
    const pending = [log.append('s', message(1)), log.append('t', message(2))];
    db.close(); // the connection goes away before the commit runs
    for (const p of pending) {
      await assert.rejects(p, { name: 'StoreWriteError', code: 'LIFELINE_ERR_STORE_WRITE' });
    }
    await log.close();
  });

  test('JSON text handed with a publish is stored instead of serializing the data again', async () => {
    const log = createSqliteLog({ path: freshPath() });
    const data = { n: 1, text: 'é' };
    await log.publish({ streams: ['s'], message: message(1), json: JSON.stringify(data) });
    assert.deepEqual((await log.read('s', 0, 1))?.messages[0]?.data, data);
    await log.close();
  });

  test('a message that is not JSON is refused alone, without failing the batch', async () => {
    const log = createSqliteLog({ path: freshPath() });
    const good = log.append('s', message(1));
    const bad = log.append('s', { id: 'x', data: undefined, publishedAt: 0 });
    await assert.rejects(bad, TypeError);
    assert.equal((await good).offset, 1);
    await log.close();
  });
});

describe('sqlite log: retention', () => {
  const options = (extra: SqliteLogTuning): SqliteLogTuning => ({ trimEveryAppends: 5, ...extra });

  test('appends trim by count on disk, amortized every trimEveryAppends', async () => {
    const path = freshPath();
    const log = createSqliteLog({ path, ...options({ retention: { maxMessages: 10 } }) });
    for (let i = 1; i <= 100; i++) await log.append('s', message(i));
    assert.ok(storedRows(path, 's') <= 10 + 5 - 1, `${storedRows(path, 's')} rows stored`);
    assert.deepEqual((await log.head('s'))?.firstOffset, 91);
    assert.equal(storedRows(path, 's'), 10, 'head applied retention exactly');
    await log.close();
  });

  test('age retention follows the injected clock and persists across reopening', async () => {
    const path = freshPath();
    const clock = manualClock();
    const tuning = options({ clock, retention: { maxAgeMs: 1000 } });
    const log = createSqliteLog({ path, ...tuning });
    for (let i = 1; i <= 3; i++) await log.append('s', message(i, clock.now()));
    clock.advance(500);
    for (let i = 4; i <= 6; i++) await log.append('s', message(i, clock.now()));
    clock.advance(600); // messages 1–3 are 1100 ms old
    assert.equal(await log.trim('s'), 3);
    assert.equal(await log.trim('s'), 0);
    await log.close();

    const reopened = createSqliteLog({ path, ...tuning });
    assert.deepEqual(await reopened.head('s'), {
      epoch: (await reopened.read('s', 0, 1))?.epoch,
      offset: 6,
      firstOffset: 4,
    });
    clock.advance(1000);
    assert.deepEqual(await reopened.read('s', 0, 10), {
      epoch: (await reopened.head('s'))?.epoch,
      messages: [],
    });
    assert.equal(storedRows(path, 's'), 0);
    assert.equal((await reopened.append('s', message(7, clock.now()))).offset, 7);
    await reopened.close();
  });
});

describe('sqlite log: lifecycle and errors', () => {
  test('close commits the appends still queued, then refuses new calls', async () => {
    const path = freshPath();
    const log = createSqliteLog({ path });
    const queued = Array.from({ length: 100 }, (_, i) => log.append('s', message(i)));
    const closed = log.close();
    assert.equal(log.close(), closed, 'close is idempotent');
    await closed;
    assert.equal((await queued[99])?.offset, 100);
    await assert.rejects(log.append('s', message(0)), {
      name: 'StoreClosedError',
      code: 'LIFELINE_ERR_STORE_CLOSED',
    });
    await assert.rejects(log.read('s', 0, 1), { code: 'LIFELINE_ERR_STORE_CLOSED' });
    await assert.rejects(log.head('s'), (error: unknown) => {
      // One `instanceof LifelineError` covers the store's errors too.
      assert.ok(error instanceof LifelineError, 'a LifelineError');
      assert.equal(error.code, 'LIFELINE_ERR_STORE_CLOSED');
      return true;
    });

    const reopened = createSqliteLog({ path });
    assert.equal((await reopened.head('s'))?.offset, 100);
    await reopened.close();
  });

  test('a path in a missing directory is a StoreOpenError naming the file', () => {
    const path = join(dir, 'missing', 'lifeline.db');
    assert.throws(
      () => createSqliteLog({ path }),
      (error: Error & { code?: string }) => {
        assert.equal(error.name, 'StoreOpenError');
        assert.equal(error.code, 'LIFELINE_ERR_STORE_OPEN');
        assert.ok(error.message.includes(path), error.message);
        return true;
      },
    );
  });

  test('a file that is not a database is a StoreOpenError', () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, 'this is not a database, only text that is long enough '.repeat(100));
    assert.throws(() => createSqliteLog({ path }), {
      name: 'StoreOpenError',
      message: /SQLITE_NOTADB/,
    });
  });

  test('a directory given as the database is a StoreOpenError', () => {
    assert.throws(() => createSqliteLog({ path: dir }), { code: 'LIFELINE_ERR_STORE_OPEN' });
  });

  test('a file from a newer schema version is refused', () => {
    const path = freshPath();
    const db = openDatabase({ path });
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => createSqliteLog({ path }), {
      code: 'LIFELINE_ERR_STORE_OPEN',
      message: /schema version 99/,
    });
  });

  test('options are validated', () => {
    const path = freshPath();
    assert.throws(() => createSqliteLog({ path, commitIntervalMs: -1 }), InvalidOptionError);
    assert.throws(() => createSqliteLog({ path, trimEveryAppends: 0 }), InvalidOptionError);
    assert.throws(() => createSqliteLog({ path, cachedStreams: -1 }), InvalidOptionError);
    assert.throws(() => createSqliteLog({ path, cachedStreams: 1.5 }), InvalidOptionError);
    assert.throws(
      () => createSqliteLog({ path, retention: { maxMessages: 0 } }),
      InvalidOptionError,
    );
    assert.throws(() => createSqliteLog({ path, busyTimeoutMs: -5 }), InvalidOptionError);
  });
});
