/**
 * The SQLite ack store and the combined store (log + acks on one connection): the AckStore
 * contract over memory and SQLite, acknowledgements surviving a reopen, and appends and
 * acks of one tick sharing one commit.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createSqliteAckStore } from '../../src/adapters/sqlite-acks.js';
import { createSqliteStore } from '../../src/adapters/sqlite-store.js';
import { InvalidOptionError } from '../../src/protocol/index.js';
import { createMemoryAckStore } from '../../src/storage/memory-acks.js';
import { waitFor } from '../helpers/wait.js';
import { ackStoreContract } from './ack-store.contract.js';
import { messageLogContract } from './message-log.contract.js';
import { publishContract } from './publish.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeline-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const path = join(dir, 'lifeline.db');
const alice = { userId: 'alice', tenantId: undefined, device: 'phone' };

// The memory store runs the contract here too, so both are held to the same rules.
ackStoreContract('memory', (options) => createMemoryAckStore(options));
ackStoreContract('sqlite', (options) => createSqliteAckStore({ path, ...options }));
ackStoreContract('sqlite store', (options) => {
  const store = createSqliteStore({ path, ...options });
  return { ...store.acks, close: () => store.close() };
});

// The log of the combined store is the same log; run the contract through it once.
messageLogContract('sqlite store', (options) => {
  const store = createSqliteStore({ path, ...options });
  return { ...store.log, close: () => store.close() };
});
publishContract('sqlite store', (options) => {
  const store = createSqliteStore({ path, ...options });
  return { ...store.log, close: () => store.close() };
});

describe('sqlite store', () => {
  test('acknowledgements survive reopening the file', async () => {
    const file = join(dir, 'acks.db');
    const first = createSqliteAckStore({ path: file });
    await first.ack(alice, [{ stream: 'user:alice', epoch: 'e1', offset: 7 }]);
    await first.close();
    const second = createSqliteAckStore({ path: file });
    assert.deepEqual(await second.acked(alice), [{ stream: 'user:alice', epoch: 'e1', offset: 7 }]);
    await second.close();
    await assert.rejects(second.acked(alice), { code: 'LIFELINE_ERR_STORE_CLOSED' });
    await assert.rejects(second.ack(alice, []), { code: 'LIFELINE_ERR_STORE_CLOSED' });
  });

  test('appends and acks of one tick share one commit', async () => {
    const commits: number[] = [];
    await using store = createSqliteStore({
      path: join(dir, 'shared.db'),
      onCommit: (info) => commits.push(info.writes),
    });
    const [position] = await Promise.all([
      store.log.append('user:alice', { id: 'm1', data: 1, publishedAt: 0 }),
      store.log.append('user:alice', { id: 'm2', data: 2, publishedAt: 0 }),
      store.acks.ack(alice, [{ stream: 'user:alice', epoch: 'e', offset: 1 }]),
    ]);
    assert.equal(position.offset, 1);
    assert.deepEqual(commits, [3]);
  });

  test('close commits what is queued in both, then closes the file; it is idempotent', async () => {
    const file = join(dir, 'close.db');
    const store = createSqliteStore({ path: file });
    const appended = store.log.append('s', { id: 'm', data: null, publishedAt: 0 });
    const acked = store.acks.ack(alice, [{ stream: 's', epoch: 'e', offset: 1 }]);
    await Promise.all([store.close(), store.close()]);
    assert.equal((await appended).offset, 1);
    await acked;
    await assert.rejects(store.log.append('s', { id: 'n', data: 1, publishedAt: 0 }), {
      code: 'LIFELINE_ERR_STORE_CLOSED',
    });
    await using reopened = createSqliteStore({ path: file });
    assert.equal((await reopened.log.head('s'))?.offset, 1);
    assert.deepEqual(await reopened.acks.acked(alice), [{ stream: 's', epoch: 'e', offset: 1 }]);
  });

  test('a worker thread checkpoints the write-ahead log while the store is open', async () => {
    const file = join(dir, 'checkpoint.db');
    await using store = createSqliteStore({ path: file, checkpointIntervalMs: 10 });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.log.append(`s${i % 20}`, { id: `m${i}`, data: { i }, publishedAt: 0 }),
      ),
    );
    // The WAL index (-shm) in native byte order: the frames in the log (mxFrame, offset
    // 16) and how many of them were copied into the database file (nBackfill, offset 96).
    // SQLite itself would copy nothing before the log reaches 1,000 pages.
    await waitFor(() => {
      const shm = readFileSync(`${file}-shm`);
      const frames = shm.readUInt32LE(16);
      assert.ok(frames > 0);
      assert.equal(shm.readUInt32LE(96), frames);
    });
  });

  test('closing stops the worker: the write-ahead log is removed with the last connection', async () => {
    const file = join(dir, 'checkpoint-close.db');
    const store = createSqliteStore({ path: file, checkpointIntervalMs: 10 });
    await store.log.append('s', { id: 'm', data: null, publishedAt: 0 });
    await store.close();
    assert.equal(existsSync(`${file}-wal`), false);
  });

  test('checkpointIntervalMs is validated; 0 checkpoints on the committing thread', async () => {
    assert.throws(
      () => createSqliteStore({ path: join(dir, 'bad.db'), checkpointIntervalMs: -1 }),
      InvalidOptionError,
    );
    const file = join(dir, 'no-worker.db');
    await using store = createSqliteStore({ path: file, checkpointIntervalMs: 0 });
    await store.log.append('s', { id: 'm', data: null, publishedAt: 0 });
    assert.equal((await store.log.head('s'))?.offset, 1);
  });
});
