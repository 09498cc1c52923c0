/**
 * One contract for every PollingStore: the memory store, and the SQLite store with two
 * connections on one file standing in for two gateway processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  createMemoryPollingStore,
  createSqlitePollingStore,
  type PollingStore,
} from '../../src/entries/server.js';

interface Pair {
  /** What node A sees. */
  readonly a: PollingStore;
  /** What node B sees: the same data. */
  readonly b: PollingStore;
  close(): Promise<void>;
}

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const kinds: Record<string, () => Pair> = {
  memory() {
    const store = createMemoryPollingStore();
    return { a: store, b: store, close: () => store.close() };
  },
  sqlite() {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-polling-'));
    dirs.push(dir);
    const path = join(dir, 'lifeline.db');
    const a = createSqlitePollingStore({ path });
    const b = createSqlitePollingStore({ path });
    return {
      a,
      b,
      async close() {
        await a.close();
        await b.close();
      },
    };
  },
};

for (const [kind, make] of Object.entries(kinds)) {
  describe(`PollingStore contract: ${kind}`, () => {
    test('frames written by the owner are taken once, in order, by any node', async () => {
      const { a, b, close } = make();
      await a.create('s1', 'A', 1_000);
      assert.equal(await a.write('s1', ['{"n":1}', '{"n":2}'], 14, false, 1_001), 14);
      assert.equal(await a.write('s1', ['{"n":3}'], 7, false, 1_002), 21);
      const record = await b.get('s1');
      assert.equal(record?.node, 'A');
      assert.equal(record?.queued, true);
      assert.equal(record?.queuedBytes, 21);
      assert.deepEqual(await b.take('s1', 1_003), {
        frames: ['{"n":1}', '{"n":2}', '{"n":3}'],
        last: false,
      });
      assert.deepEqual(await a.take('s1', 1_004), { frames: [], last: false });
      assert.equal((await a.get('s1'))?.queuedBytes, 0);
      assert.equal((await a.get('s1'))?.polledAt, 1_004);
      await close();
    });

    test('an ended session hands out its last frames once, then is forgotten', async () => {
      const { a, b, close } = make();
      await a.create('s1', 'A', 1_000);
      await a.write('s1', ['{"type":"close"}'], 16, true, 1_010);
      const record = await b.get('s1');
      assert.equal(record?.ended, true);
      assert.equal(record?.endedAt, 1_010);
      // Nothing more is written to an ended session: the owner has to forget it.
      assert.equal(await a.write('s1', ['{"late":1}'], 10, false, 1_011), undefined);
      assert.equal(await b.beginGet('s1', 1_012, 2_000), 'ok');
      assert.deepEqual(await b.take('s1', 1_013), { frames: ['{"type":"close"}'], last: true });
      assert.equal(await a.get('s1'), undefined);
      assert.equal(await a.beginGet('s1', 1_014, 2_000), 'gone');
      assert.equal(await a.write('s1', ['{}'], 2, false, 1_015), undefined);
      await close();
    });

    test('one GET and one POST at a time; a mark past its deadline is free again', async () => {
      const { a, b, close } = make();
      await a.create('s1', 'A', 1_000);
      assert.equal(await a.beginGet('s1', 1_000, 5_000), 'ok');
      assert.equal(await b.beginGet('s1', 1_001, 5_001), 'busy');
      // The node holding the GET died: its mark expires.
      assert.equal(await b.beginGet('s1', 5_001, 9_000), 'ok');
      await b.endGet('s1', 5_002);
      assert.equal((await a.get('s1'))?.getUntil, 0);
      assert.equal((await a.get('s1'))?.polledAt, 5_002);
      assert.equal(await a.beginPost('s1', 6_000, 7_000), 'ok');
      assert.equal(await b.beginPost('s1', 6_001, 7_001), 'busy');
      await a.endPost('s1');
      assert.equal(await b.beginPost('s1', 6_002, 7_002), 'ok');
      assert.equal(await b.beginPost('nope', 6_003, 7_003), 'gone');
      await close();
    });

    test('frames posted to another node reach the owner, in order, once', async () => {
      const { a, b, close } = make();
      await a.create('s1', 'A', 1_000);
      await a.create('s2', 'B', 1_000);
      assert.equal(await b.forward('s1', { kind: 'frames', frames: ['{"type":"ping"}'] }), true);
      assert.equal(await a.forward('s2', { kind: 'frames', frames: ['{"x":1}'] }), true);
      assert.equal(await b.forward('s1', { kind: 'end', code: 4000 }), true);
      assert.equal(await b.forward('missing', { kind: 'end', code: 1000 }), false);
      assert.deepEqual(await a.takeForwarded('A'), [
        { id: 's1', item: { kind: 'frames', frames: ['{"type":"ping"}'] } },
        { id: 's1', item: { kind: 'end', code: 4000 } },
      ]);
      assert.deepEqual(await a.takeForwarded('A'), []);
      assert.deepEqual(await b.takeForwarded('B'), [
        { id: 's2', item: { kind: 'frames', frames: ['{"x":1}'] } },
      ]);
      await a.write('s1', [], 0, true, 1_100);
      assert.equal(await b.forward('s1', { kind: 'frames', frames: ['{}'] }), false);
      await close();
    });

    test('a session whose owner is gone is ended by another node with a close frame', async () => {
      const { a, b, close } = make();
      await a.heartbeat('A', 1_000);
      assert.equal(await b.nodeSeenAt('A'), 1_000);
      assert.equal(await b.nodeSeenAt('Z'), undefined);
      await a.create('s1', 'A', 1_000);
      await a.write('s1', ['{"n":1}'], 7, false, 1_001);
      assert.equal(await b.abandon('s1', '{"type":"close","code":4007}', 20_000), true);
      assert.equal(await b.abandon('s1', '{"type":"close","code":4007}', 20_001), false);
      // The owner comes back: its writes are refused, so it forgets the session.
      assert.equal(await a.write('s1', ['{"n":2}'], 7, false, 20_002), undefined);
      assert.deepEqual(await b.take('s1', 20_003), {
        frames: ['{"n":1}', '{"type":"close","code":4007}'],
        last: true,
      });
      await close();
    });

    test('sweep forgets sessions that ended unseen and those of nodes long gone', async () => {
      const { a, b, close } = make();
      await a.heartbeat('A', 1_000);
      await b.heartbeat('B', 1_000);
      await a.create('ended', 'A', 1_000);
      await a.write('ended', ['{"type":"close"}'], 16, true, 1_500);
      await a.create('live', 'A', 1_000);
      await b.create('orphan', 'B', 1_000);
      await b.forward('orphan', { kind: 'frames', frames: ['{}'] });
      await a.heartbeat('A', 9_000);
      assert.equal(await a.sweep(2_000, 5_000), 2);
      assert.equal(await a.get('ended'), undefined);
      assert.equal(await a.get('orphan'), undefined);
      assert.equal((await a.get('live'))?.node, 'A');
      assert.equal(await a.nodeSeenAt('B'), undefined);
      assert.deepEqual(await b.takeForwarded('B'), []);
      await close();
    });

    test('delete forgets a session with everything queued for it', async () => {
      const { a, b, close } = make();
      await a.create('s1', 'A', 1_000);
      await a.write('s1', ['{}'], 2, false, 1_001);
      await b.forward('s1', { kind: 'frames', frames: ['{}'] });
      await b.delete('s1');
      assert.equal(await a.get('s1'), undefined);
      assert.deepEqual(await a.takeForwarded('A'), []);
      assert.deepEqual(await a.take('s1', 1_002), { frames: [], last: false });
      await close();
    });
  });
}

test('a closed SQLite polling store rejects with a typed error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-polling-'));
  dirs.push(dir);
  const store = createSqlitePollingStore({ path: join(dir, 'lifeline.db') });
  await store.close();
  await assert.rejects(store.get('s1'), { name: 'StoreClosedError' });
});
