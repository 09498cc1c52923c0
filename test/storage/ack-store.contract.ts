/**
 * The behaviour every AckStore implementation must have. Each implementation's test file
 * calls `ackStoreContract(name, factory)`. User ids are unique per test, so a shared
 * backing store needs no cleanup between tests.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { StreamPosition } from '../../src/protocol/index.js';
import type { AckConsumer, AckStore } from '../../src/storage/types.js';

export type AckStoreFactory = () => AckStore | Promise<AckStore>;

/** Positions in a stable order: stores need not keep any. */
function sorted(positions: readonly StreamPosition[]): StreamPosition[] {
  return [...positions].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
}

export function ackStoreContract(name: string, factory: AckStoreFactory): void {
  describe(`AckStore contract: ${name}`, () => {
    const prefix = randomUUID();
    let counter = 0;
    const consumer = (device?: string, tenantId?: string): AckConsumer => ({
      userId: `u-${prefix}-${++counter}`,
      tenantId,
      device,
    });

    async function withStore(run: (store: AckStore) => Promise<void>): Promise<void> {
      const store = await factory();
      try {
        await run(store);
      } finally {
        await store.close();
      }
    }

    test('a consumer that never acknowledged has no positions', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.acked(consumer()), []);
      }));

    test('keeps the highest offset per stream; lower ones are ignored', () =>
      withStore(async (store) => {
        const c = consumer('phone');
        await store.ack(c, [{ stream: 'user:a', epoch: 'e1', offset: 5 }]);
        await store.ack(c, [{ stream: 'user:a', epoch: 'e1', offset: 3 }]);
        await store.ack(c, [{ stream: 'user:a', epoch: 'e1', offset: 5 }]);
        assert.deepEqual(await store.acked(c), [{ stream: 'user:a', epoch: 'e1', offset: 5 }]);
        await store.ack(c, [{ stream: 'user:a', epoch: 'e1', offset: 9 }]);
        assert.deepEqual(await store.acked(c), [{ stream: 'user:a', epoch: 'e1', offset: 9 }]);
      }));

    test('a new epoch replaces the old position, even with a lower offset', () =>
      withStore(async (store) => {
        const c = consumer();
        await store.ack(c, [{ stream: 'user:a', epoch: 'e1', offset: 40 }]);
        await store.ack(c, [{ stream: 'user:a', epoch: 'e2', offset: 1 }]);
        assert.deepEqual(await store.acked(c), [{ stream: 'user:a', epoch: 'e2', offset: 1 }]);
      }));

    test('several streams in one call, each kept apart', () =>
      withStore(async (store) => {
        const c = consumer();
        const positions = [
          { stream: 'user:a', epoch: 'e1', offset: 2 },
          { stream: 'channel:news', epoch: 'e7', offset: 11 },
        ];
        await store.ack(c, positions);
        await store.ack(c, []);
        assert.deepEqual(sorted(await store.acked(c)), sorted(positions));
      }));

    test('devices and tenants of one user are distinct consumers', () =>
      withStore(async (store) => {
        const phone = consumer('phone');
        const laptop = { ...phone, device: 'laptop' };
        const noDevice = { ...phone, device: undefined };
        const otherTenant = { ...phone, tenantId: 'acme' };
        await store.ack(phone, [{ stream: 's', epoch: 'e', offset: 5 }]);
        await store.ack(laptop, [{ stream: 's', epoch: 'e', offset: 1 }]);
        assert.deepEqual(await store.acked(phone), [{ stream: 's', epoch: 'e', offset: 5 }]);
        assert.deepEqual(await store.acked(laptop), [{ stream: 's', epoch: 'e', offset: 1 }]);
        assert.deepEqual(await store.acked(noDevice), []);
        assert.deepEqual(await store.acked(otherTenant), []);
      }));

    test('ids with separator-like characters do not collide', () =>
      withStore(async (store) => {
        const base = consumer();
        const a = { userId: `${base.userId}","x`, tenantId: undefined, device: 'd' };
        const b = { userId: base.userId, tenantId: undefined, device: `x","d` };
        await store.ack(a, [{ stream: 's', epoch: 'e', offset: 1 }]);
        assert.deepEqual(await store.acked(b), []);
      }));

    test('concurrent acks all land and the highest wins', () =>
      withStore(async (store) => {
        const c = consumer();
        const offsets = [3, 9, 1, 7, 9, 2];
        await Promise.all(
          offsets.map((offset) => store.ack(c, [{ stream: 's', epoch: 'e', offset }])),
        );
        assert.deepEqual(await store.acked(c), [{ stream: 's', epoch: 'e', offset: 9 }]);
      }));

    test('the caller may reuse its positions array after ack() returns', () =>
      withStore(async (store) => {
        const c = consumer();
        const positions = [{ stream: 's', epoch: 'e', offset: 4 }];
        const done = store.ack(c, positions);
        positions[0] = { stream: 's', epoch: 'e', offset: 100 };
        await done;
        assert.deepEqual(await store.acked(c), [{ stream: 's', epoch: 'e', offset: 4 }]);
      }));
  });
}
