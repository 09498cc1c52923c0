/**
 * Persisted positions: read once before the first `hello`, saved throttled after delivery,
 * and never a crash for a storage that fails or holds garbage.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloseCode,
  DEFAULT_STORAGE_SAVE_DELAY_MS,
  InvalidOptionError,
  StorageError,
  createClient,
  type PositionStorage,
} from '../../src/entries/client.js';
import type { PushFrame } from '../../src/protocol/index.js';
import { waitFor } from '../helpers/wait.js';
import { flushMicrotasks, open, setup, stateOf, URL, type Fixture } from './support.js';

const KEY = `lifeline:positions:${URL}`;

function push(offset: number, stream = 'user:u-1'): PushFrame {
  return {
    type: 'push',
    id: `m${offset}`,
    stream,
    epoch: 'e1',
    offset,
    data: offset,
    publishedAt: 1,
  };
}

/** A synchronous, localStorage-shaped storage that records its writes. */
class MemoryStorage implements PositionStorage {
  readonly items = new Map<string, string>();
  readonly writes: { key: string; value: string }[] = [];

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
    this.writes.push({ key, value });
  }

  positions(key = KEY): unknown {
    const text = this.items.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as { positions: unknown }).positions;
  }
}

function stored(...positions: { stream: string; epoch: string; offset: number }[]): string {
  return JSON.stringify({ v: 1, positions });
}

describe('loading stored positions', () => {
  it('resumes from them in the first hello', async () => {
    const storage = new MemoryStorage();
    storage.items.set(
      KEY,
      stored(
        { stream: 'user:u-1', epoch: 'e1', offset: 41 },
        { stream: 'channel:news', epoch: 'n', offset: 7 },
      ),
    );
    const f = setup({ storage });
    await open(f);
    assert.deepEqual(f.ws.last().framesOf('hello')[0]?.resume, [
      { stream: 'user:u-1', epoch: 'e1', offset: 41 },
      { stream: 'channel:news', epoch: 'n', offset: 7 },
    ]);
    f.client.subscribe('news');
    assert.deepEqual(f.ws.last().framesOf('subscribe')[0]?.from, { epoch: 'n', offset: 7 });
    // A replayed duplicate of a stored position is dropped.
    f.ws.last().deliver(push(41));
    f.ws.last().deliver(push(42));
    assert.deepEqual(
      f.messages.map((m) => m.offset),
      [42],
    );
    await f.client.close();
    assert.deepEqual(f.errors, []);
  });

  it('waits for an asynchronous storage before sending hello', async () => {
    let release!: (text: string | null) => void;
    const storage: PositionStorage = {
      getItem: () => new Promise<string | null>((resolve) => (release = resolve)),
      setItem: () => Promise.resolve(),
    };
    const f = setup({ storage, storageKey: 'app/positions' });
    const ready = f.client.connect();
    await flushMicrotasks();
    assert.equal(f.ws.sockets.length, 0, 'no socket before the positions are known');
    release(stored({ stream: 'user:u-1', epoch: 'e1', offset: 3 }));
    await flushMicrotasks();
    f.ws.last().handshake();
    await ready;
    assert.deepEqual(f.ws.last().framesOf('hello')[0]?.resume, [
      { stream: 'user:u-1', epoch: 'e1', offset: 3 },
    ]);
    await f.client.close();
  });

  it('reads storage once per client, not on every reconnect', async () => {
    let reads = 0;
    const storage: PositionStorage = {
      getItem: () => {
        reads++;
        return null;
      },
      setItem: () => {},
    };
    const f = setup({ storage });
    await open(f);
    f.ws.last().finishClose(CloseCode.SHUTTING_DOWN);
    f.clock.advance(stateOf(f.client, 'reconnecting').retryAt - f.clock.now());
    await flushMicrotasks();
    f.ws.last().handshake();
    assert.equal(f.client.state.kind, 'open');
    assert.equal(reads, 1);
    await f.client.close();
  });

  const corrupt: [string, unknown][] = [
    ['not JSON', '{"v":1,'],
    ['not a record', '[1,2,3]'],
    ['another format version', JSON.stringify({ v: 2, positions: [] })],
    ['positions that are not a list', JSON.stringify({ v: 1, positions: 'x' })],
    [
      'a negative offset',
      JSON.stringify({ v: 1, positions: [{ stream: 's', epoch: 'e', offset: -1 }] }),
    ],
    [
      'an empty epoch',
      JSON.stringify({ v: 1, positions: [{ stream: 's', epoch: '', offset: 1 }] }),
    ],
    ['a value that is not a string', 42],
  ];
  for (const [what, value] of corrupt) {
    it(`ignores ${what} with a StorageError and connects without positions`, async () => {
      const storage: PositionStorage = {
        getItem: () => value as string,
        setItem: () => {},
      };
      const f = setup({ storage });
      await open(f);
      assert.equal(f.client.state.kind, 'open');
      assert.equal(f.ws.last().framesOf('hello')[0]?.resume, undefined);
      assert.equal(f.errors.length, 1);
      assert.ok(f.errors[0] instanceof StorageError);
      assert.equal(f.errors[0]?.code, 'LIFELINE_ERR_STORAGE');
      await f.client.close();
    });
  }

  it('survives a storage whose getItem throws or rejects', async () => {
    for (const getItem of [
      () => {
        throw new Error('SecurityError: storage is disabled');
      },
      () => Promise.reject(new Error('quota')),
    ]) {
      const f = setup({ storage: { getItem, setItem: () => {} } });
      await open(f);
      assert.equal(f.client.state.kind, 'open');
      assert.ok(f.errors[0] instanceof StorageError);
      assert.ok(f.errors[0]?.cause instanceof Error);
      await f.client.close();
    }
  });
});

describe('saving delivered positions', () => {
  it('is throttled: one write per window with the newest positions', async () => {
    const storage = new MemoryStorage();
    const f = setup({ storage });
    await open(f);
    for (const o of [1, 2, 3]) f.ws.last().deliver(push(o));
    assert.equal(storage.writes.length, 0, 'not per message');
    f.clock.advance(DEFAULT_STORAGE_SAVE_DELAY_MS);
    assert.equal(storage.writes.length, 1);
    assert.deepEqual(storage.positions(), [{ stream: 'user:u-1', epoch: 'e1', offset: 3 }]);
    for (const o of [4, 5]) f.ws.last().deliver(push(o));
    f.ws.last().deliver(push(1, 'channel:news'));
    f.clock.advance(DEFAULT_STORAGE_SAVE_DELAY_MS);
    assert.equal(storage.writes.length, 2);
    assert.deepEqual(storage.positions(), [
      { stream: 'user:u-1', epoch: 'e1', offset: 5 },
      { stream: 'channel:news', epoch: 'e1', offset: 1 },
    ]);
    f.clock.advance(10 * DEFAULT_STORAGE_SAVE_DELAY_MS);
    assert.equal(storage.writes.length, 2, 'nothing changed, nothing written');
    await f.client.close();
  });

  it('writes what is pending on close(), leaving no timer', async () => {
    const storage = new MemoryStorage();
    const f = setup({ storage, storageKey: 'mine' });
    await open(f);
    f.ws.last().deliver(push(1));
    await f.client.close();
    assert.deepEqual(storage.positions('mine'), [{ stream: 'user:u-1', epoch: 'e1', offset: 1 }]);
    assert.equal(f.clock.pendingTimers, 0);
  });

  it('saves a resync position, so a reload does not resume from before it', async () => {
    const storage = new MemoryStorage();
    const f = setup({ storage });
    await open(f);
    f.ws.last().deliver(push(1));
    f.ws.last().deliver({
      type: 'resync',
      stream: 'user:u-1',
      reason: 'trimmed',
      epoch: 'e1',
      offset: 90,
    });
    await f.client.close();
    assert.deepEqual(storage.positions(), [{ stream: 'user:u-1', epoch: 'e1', offset: 90 }]);
  });

  it('a reload resumes where the previous client stopped', async () => {
    const storage = new MemoryStorage();
    const first = setup({ storage });
    await open(first);
    for (const o of [1, 2]) first.ws.last().deliver(push(o));
    await first.client.close();
    const second = setup({ storage });
    await open(second);
    assert.deepEqual(second.ws.last().framesOf('hello')[0]?.resume, [
      { stream: 'user:u-1', epoch: 'e1', offset: 2 },
    ]);
    await second.client.close();
  });

  it('with batching, saves a position only once its batch was handed over', async () => {
    const storage = new MemoryStorage();
    const f = setup({ storage, batch: { maxWaitMs: 5_000, maxSize: 100 } });
    await open(f);
    f.ws.last().deliver(push(1));
    f.clock.advance(DEFAULT_STORAGE_SAVE_DELAY_MS * 2);
    assert.equal(storage.writes.length, 0, 'received, not yet delivered');
    f.clock.advance(5_000);
    f.clock.advance(DEFAULT_STORAGE_SAVE_DELAY_MS);
    assert.deepEqual(storage.positions(), [{ stream: 'user:u-1', epoch: 'e1', offset: 1 }]);
    await f.client.close();
  });

  it('reports a failing setItem (sync or async) and carries on', async () => {
    let calls = 0;
    const storage: PositionStorage = {
      getItem: () => null,
      setItem: () => {
        calls++;
        if (calls === 1) throw new Error('QuotaExceededError');
        return Promise.reject(new Error('disk full'));
      },
    };
    const f = setup({ storage });
    await open(f);
    f.ws.last().deliver(push(1));
    f.clock.advance(DEFAULT_STORAGE_SAVE_DELAY_MS);
    f.ws.last().deliver(push(2));
    f.clock.advance(DEFAULT_STORAGE_SAVE_DELAY_MS);
    await flushMicrotasks();
    assert.equal(calls, 2);
    assert.equal(f.errors.length, 2);
    assert.ok(f.errors.every((e) => e instanceof StorageError));
    assert.deepEqual(
      f.messages.map((m) => m.offset),
      [1, 2],
    );
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
  });

  it('writes of an asynchronous storage land in order', async () => {
    const landed: string[] = [];
    let calls = 0;
    const storage: PositionStorage = {
      getItem: () => null,
      // The first write is slow, the second fast: only chaining keeps them in order.
      setItem: (_key, value) => {
        const delayMs = ++calls === 1 ? 20 : 0;
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            landed.push(value);
            resolve();
          }, delayMs),
        );
      },
    };
    const f = setup({ storage });
    await open(f);
    f.ws.last().deliver(push(1));
    f.clock.advance(DEFAULT_STORAGE_SAVE_DELAY_MS);
    f.ws.last().deliver(push(2));
    await f.client.close();
    await waitFor(() => assert.equal(landed.length, 2));
    assert.deepEqual(
      landed.map(
        (v) => (JSON.parse(v) as { positions: { offset: number }[] }).positions[0]?.offset,
      ),
      [1, 2],
    );
  });
});

describe('storage options', () => {
  it('refuses a storage without getItem and setItem', () => {
    for (const storage of [{}, { getItem: () => null }, 'localStorage', null]) {
      assert.throws(
        () =>
          createClient({
            url: URL,
            WebSocket: setupWebSocket(),
            storage: storage as unknown as PositionStorage,
          }),
        InvalidOptionError,
      );
    }
  });

  it('refuses an empty storageKey', () => {
    assert.throws(
      () =>
        createClient({
          url: URL,
          WebSocket: setupWebSocket(),
          storage: new MemoryStorage(),
          storageKey: '',
        }),
      InvalidOptionError,
    );
  });
});

function setupWebSocket(): NonNullable<Parameters<typeof createClient>[0]['WebSocket']> {
  const f: Fixture = setup();
  return f.ws.WebSocket;
}
