/**
 * Group commits in slices: a backlog is committed `maxWritesPerCommit` writes at a time,
 * one transaction per macrotask, and acks queued together are merged before they are
 * written.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RECEIPTS_PER_WRITE, createSqliteAckStore } from '../../src/adapters/sqlite-acks.js';
import { createSqliteLog } from '../../src/adapters/sqlite-log.js';
import { InvalidOptionError } from '../../src/protocol/index.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeline-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `store-${++files}.db`);

test('a backlog is committed in slices, with the event loop running between them', async () => {
  const events: string[] = [];
  const log = createSqliteLog({
    path: freshPath(),
    maxWritesPerCommit: 1_000,
    onCommit: (info) => {
      events.push(`commit ${info.writes}`);
      // Runs before the next slice only if the commits yield to the event loop.
      setImmediate(() => events.push('loop'));
    },
  });
  const n = 3_500;
  const offsets = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      log.append('s', { id: `m${i}`, data: i, publishedAt: Date.now() }).then((p) => p.offset),
    ),
  );
  assert.deepEqual(
    offsets,
    Array.from({ length: n }, (_, i) => i + 1),
  );
  assert.deepEqual(
    events.filter((e) => e.startsWith('commit')),
    ['commit 1000', 'commit 1000', 'commit 1000', 'commit 500'],
  );
  assert.equal(events[1], 'loop', 'the loop ran between the first and second commit');
  assert.equal((await log.head('s'))?.offset, n);
  await log.close();
});

test('close() commits the whole backlog, however many slices it takes', async () => {
  const commits: number[] = [];
  const path = freshPath();
  const log = createSqliteLog({
    path,
    maxWritesPerCommit: 10,
    onCommit: (info) => commits.push(info.writes),
  });
  const appended = Array.from({ length: 25 }, (_, i) =>
    log.append('s', { id: `m${i}`, data: i, publishedAt: Date.now() }),
  );
  await log.close();
  assert.equal((await Promise.all(appended)).length, 25);
  assert.deepEqual(commits, [10, 10, 5]);
  const reopened = createSqliteLog({ path });
  assert.equal((await reopened.head('s'))?.offset, 25);
  await reopened.close();
});

test('maxWritesPerCommit must be a positive integer', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => createSqliteLog({ path: freshPath(), maxWritesPerCommit: bad }),
      InvalidOptionError,
    );
  }
});

test('acks queued for one commit are merged as if applied one after another', async () => {
  const acks = createSqliteAckStore({ path: freshPath() });
  const alice = { userId: 'alice', tenantId: undefined, device: undefined };
  const at = (stream: string, epoch: string, offset: number) => [{ stream, epoch, offset }];
  await Promise.all([
    // One epoch: the highest offset wins, whatever the order.
    acks.ack(alice, at('a', 'e1', 5)),
    acks.ack(alice, at('a', 'e1', 9)),
    acks.ack(alice, at('a', 'e1', 4)),
    // Another epoch replaces the position; a lower offset of it afterwards does not.
    acks.ack(alice, at('b', 'e1', 7)),
    acks.ack(alice, at('b', 'e2', 2)),
    acks.ack(alice, at('b', 'e2', 1)),
  ]);
  assert.deepEqual(await acks.acked(alice), [
    { stream: 'a', epoch: 'e1', offset: 9 },
    { stream: 'b', epoch: 'e2', offset: 2 },
  ]);
  // Merged within a commit, still kept-the-highest across commits.
  await acks.ack(alice, at('a', 'e1', 3));
  assert.deepEqual((await acks.acked(alice))[0], { stream: 'a', epoch: 'e1', offset: 9 });
  await acks.close();
});

test('receipts count one write each: a large batch is committed in slices', async () => {
  const commits: number[] = [];
  const acks = createSqliteAckStore({
    path: freshPath(),
    maxWritesPerCommit: 250,
    onCommit: (info) => commits.push(info.writes),
  });
  const consumer = { userId: 'alice', tenantId: undefined, device: undefined };
  const now = Date.now();
  const receipts = Array.from({ length: 1_000 }, (_, i) => ({
    kind: 'delivered' as const,
    stream: 'user:alice',
    epoch: 'e',
    consumer,
    session: `s${i}`,
    fromOffset: i + 1,
    toOffset: i + 1,
    firstAt: now,
    lastAt: now,
  }));
  await acks.record(receipts);
  // Whole chunks of RECEIPTS_PER_WRITE, as many as fit in 250 writes.
  const perCommit = Math.floor(250 / RECEIPTS_PER_WRITE) * RECEIPTS_PER_WRITE;
  assert.deepEqual(
    commits,
    Array.from({ length: 1_000 / perCommit }, () => perCommit),
  );
  const stored = await acks.receipts('user:alice', { epoch: 'e', minOffset: 0, limit: 2_000 });
  assert.equal(stored.length, 1_000);
  await acks.close();
});

test('commits of any size write every message and every stream head', async () => {
  const path = freshPath();
  const log = createSqliteLog({ path });
  // 1 to 70 publishes per commit, over as many streams: full 32-row statements and every
  // size of the rest, for messages and for stream heads alike.
  for (let size = 1; size <= 70; size++) {
    await Promise.all(
      Array.from({ length: size }, (_, i) =>
        log.append(`s${i}`, { id: `m${size}-${i}`, data: [size, i], publishedAt: Date.now() }),
      ),
    );
  }
  await log.close();
  const reopened = createSqliteLog({ path });
  for (let i = 0; i < 70; i++) {
    // Stream s<i> got one message in each commit of more than i publishes.
    const count = 70 - i;
    assert.equal((await reopened.head(`s${i}`))?.offset, count);
    const slice = await reopened.read(`s${i}`, 0, 100);
    assert.deepEqual(
      slice?.messages.map((m) => [m.offset, m.data]),
      Array.from({ length: count }, (_, k) => [k + 1, [i + 1 + k, i]]),
    );
  }
  await reopened.close();
});
