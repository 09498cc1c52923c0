/**
 * Publishing in the SQLite store on real files: idempotency keys that survive reopening,
 * two connections sharing a file publishing one key once, a multi-stream publish in one
 * transaction, idempotency records only for keyed publishes and trimmed on disk, receipts
 * surviving a reopen, and the upgrade of a file written by schema version 1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createSqliteAckStore } from '../../src/adapters/sqlite-acks.js';
import { openDatabase, SCHEMA_VERSION } from '../../src/adapters/sqlite-driver.js';
import { createSqliteLog } from '../../src/adapters/sqlite-log.js';
import { createSqliteStore } from '../../src/adapters/sqlite-store.js';
import type { LogMessage } from '../../src/storage/types.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeline-sqlite-publish-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshPath = (): string => join(dir, `publish-${++files}.db`);

function message(id: string, extra: Partial<LogMessage> = {}): LogMessage {
  return { id, data: { id }, publishedAt: Date.now(), ...extra };
}

function count(path: string, table: string): number {
  const db = openDatabase({ path });
  try {
    return db.prepare<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;
  } finally {
    db.close();
  }
}

describe('sqlite publish records', () => {
  test('an idempotency key and its record survive reopening the file', async () => {
    const path = freshPath();
    const first = createSqliteLog({ path });
    const original = await first.publish({
      streams: ['user:a', 'user:b'],
      message: message('m1', { requireAck: true, expiresAt: Date.now() + 60_000 }),
      idempotency: { key: 'order-42', since: 0, fingerprint: 'fp' },
    });
    await first.close();

    const second = createSqliteLog({ path });
    const repeat = await second.publish({
      streams: ['user:a', 'user:b'],
      message: message('m2'),
      idempotency: { key: 'order-42', since: 0 },
    });
    assert.equal(repeat.duplicate, true);
    assert.deepEqual(repeat.record, original.record);
    const found = await second.lookup('m1');
    assert.deepEqual([found?.id, found?.positions], ['m1', original.record.positions]);
    assert.equal((await second.head('user:a'))?.offset, 1);
    await second.close();
  });

  test('two connections on one file publish one key once', async () => {
    const path = freshPath();
    const a = createSqliteLog({ path });
    const b = createSqliteLog({ path });
    const results = await Promise.all(
      ['x1', 'x2', 'x3', 'x4'].map((id, i) =>
        (i % 2 === 0 ? a : b).publish({
          streams: ['user:a'],
          message: message(id),
          idempotency: { key: 'same', since: 0 },
        }),
      ),
    );
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    assert.equal(new Set(results.map((r) => r.record.id)).size, 1);
    assert.equal((await a.head('user:a'))?.offset, 1);
    await Promise.all([a.close(), b.close()]);
  });

  test('a publish to many streams and its record are one commit', async () => {
    const commits: number[] = [];
    const log = createSqliteLog({
      path: freshPath(),
      onCommit: (info) => commits.push(info.writes),
    });
    const streams = Array.from({ length: 300 }, (_, i) => `user:u${i}`);
    const { record } = await log.publish({ streams, message: message('wide') });
    assert.equal(record.positions.length, 300);
    assert.deepEqual(commits, [1]);
    await log.close();
  });

  test('only publishes with a key write a record; records are trimmed by count on disk', async () => {
    const path = freshPath();
    const log = createSqliteLog({ path, trimEveryAppends: 10, records: { maxCount: 20 } });
    for (let i = 1; i <= 50; i++) await log.publish({ streams: ['s'], message: message(`p${i}`) });
    assert.equal(count(path, 'lifeline_publishes'), 0);
    for (let i = 1; i <= 100; i++) {
      await log.publish({
        streams: ['s'],
        message: message(`r${i}`),
        idempotency: { key: `k${i}`, since: 0 },
      });
    }
    assert.ok(count(path, 'lifeline_publishes') <= 20 + 10, 'bounded on disk');
    const repeat = (i: number) =>
      log.publish({
        streams: ['s'],
        message: message(`x${i}`),
        idempotency: { key: `k${i}`, since: 0 },
      });
    assert.equal((await repeat(100)).duplicate, true);
    assert.equal((await repeat(1)).duplicate, false, 'the oldest key was forgotten');
    assert.equal((await log.lookup('p1'))?.id, 'p1', 'found through its message');
    await log.close();
  });

  test('receipts survive reopening the file', async () => {
    const path = freshPath();
    const consumer = { userId: 'alice', tenantId: 'acme', device: 'phone' };
    const receipt = {
      kind: 'delivered' as const,
      stream: 'user:acme/alice',
      epoch: 'e',
      consumer,
      session: 'sess',
      fromOffset: 1,
      toOffset: 3,
      firstAt: Date.now(),
      lastAt: Date.now(),
    };
    const first = createSqliteAckStore({ path });
    await first.record([receipt]);
    await first.close();
    const second = createSqliteAckStore({ path });
    assert.deepEqual(
      await second.receipts('user:acme/alice', { epoch: 'e', minOffset: 2, limit: 5 }),
      [receipt],
    );
    await second.close();
    await assert.rejects(second.record([receipt]), { code: 'LIFELINE_ERR_STORE_CLOSED' });
  });

  test('a file written by schema version 1 is upgraded in place, keeping its messages', async () => {
    const path = freshPath();
    const db = openDatabase({ path });
    // Reset to what version 1 wrote: the three tables, nothing else.
    db.exec(`
      DROP TABLE lifeline_publishes; DROP TABLE lifeline_receipts;
      DROP TABLE lifeline_messages; DROP TABLE lifeline_acks;
      CREATE TABLE lifeline_messages (
        stream_id INTEGER NOT NULL, msg_offset INTEGER NOT NULL, id TEXT NOT NULL,
        data TEXT NOT NULL, published_at REAL NOT NULL, PRIMARY KEY (stream_id, msg_offset)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE lifeline_acks (
        consumer TEXT NOT NULL, stream TEXT NOT NULL, epoch TEXT NOT NULL,
        acked_offset INTEGER NOT NULL, PRIMARY KEY (consumer, stream)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO lifeline_streams (id, name, epoch, last_offset, first_offset)
        VALUES (1, 'user:old', 'e-old', 1, 1);
      INSERT INTO lifeline_messages VALUES (1, 1, 'old-1', '{"v":1}', ${Date.now()});
      INSERT INTO lifeline_acks VALUES ('[null,"old",null]', 'user:old', 'e-old', 1);
    `);
    db.pragma('user_version = 1');
    db.close();

    await using store = createSqliteStore({ path });
    const [old] = (await store.log.read('user:old', 0, 10))?.messages ?? [];
    assert.deepEqual(
      { id: old?.id, data: old?.data, requireAck: old?.requireAck, expiresAt: old?.expiresAt },
      { id: 'old-1', data: { v: 1 }, requireAck: undefined, expiresAt: undefined },
    );
    const next = await store.log.publish({
      streams: ['user:old'],
      message: message('new-2', { requireAck: true }),
    });
    assert.deepEqual(next.record.positions, [{ stream: 'user:old', epoch: 'e-old', offset: 2 }]);
    assert.deepEqual(
      (await store.log.readRequiringAck('user:old', 0, 10))?.messages.map((m) => m.id),
      ['new-2'],
    );
    assert.deepEqual(
      await store.acks.ackers('user:old', { epoch: 'e-old', minOffset: 1, limit: 5 }),
      [{ consumer: { userId: 'old', tenantId: undefined, device: undefined }, offset: 1 }],
    );
    assert.deepEqual((await store.log.lookup('old-1'))?.positions, [
      { stream: 'user:old', epoch: 'e-old', offset: 1 },
    ]);
    const check = openDatabase({ path });
    assert.equal(Number(check.pragma('user_version', { simple: true })), SCHEMA_VERSION);
    check.close();
  });
});
