/**
 * The behaviour every AckStore implementation must have. Each implementation's test file
 * calls `ackStoreContract(name, factory)`. User ids are unique per test, so a shared
 * backing store needs no cleanup between tests.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Clock } from '../../src/env/index.js';
import type { StreamPosition } from '../../src/protocol/index.js';
import type {
  AckConsumer,
  AckStore,
  Receipt,
  ReceiptRetentionOptions,
} from '../../src/storage/types.js';
import { manualClock } from './message-log.contract.js';

export interface AckStoreFactoryOptions {
  /** Time source of receipt retention. */
  readonly clock: Clock;
  readonly receipts?: ReceiptRetentionOptions;
}

export type AckStoreFactory = (options: AckStoreFactoryOptions) => AckStore | Promise<AckStore>;

const START = 1_700_000_000_000;

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

    async function withStore(
      run: (store: AckStore, clock: ReturnType<typeof manualClock>) => Promise<void>,
      receipts?: ReceiptRetentionOptions,
    ): Promise<void> {
      const clock = manualClock(START);
      const store = await factory({ clock, ...(receipts ? { receipts } : {}) });
      try {
        await run(store, clock);
      } finally {
        await store.close();
      }
    }
    const stream = (kind = 'user'): string => `${kind}:${prefix}-${++counter}`;
    function receipt(overrides: Partial<Receipt> & Pick<Receipt, 'stream'>): Receipt {
      return {
        kind: 'delivered',
        epoch: 'e1',
        consumer: consumer('phone'),
        session: 's1',
        fromOffset: 1,
        toOffset: 1,
        firstAt: START,
        lastAt: START,
        ...overrides,
      };
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

    test('ackers lists the consumers of a stream and epoch at or above an offset', () =>
      withStore(async (store) => {
        const s = stream();
        const a = consumer('a');
        const b = { ...a, device: 'b' };
        const c = { ...a, device: 'c', tenantId: 't1' };
        const other = { ...a, device: 'old' };
        await store.ack(a, [{ stream: s, epoch: 'e1', offset: 5 }]);
        await store.ack(b, [{ stream: s, epoch: 'e1', offset: 2 }]);
        await store.ack(c, [{ stream: s, epoch: 'e1', offset: 9 }]);
        await store.ack(other, [{ stream: s, epoch: 'e0', offset: 50 }]);
        await store.ack(a, [{ stream: `${s}-x`, epoch: 'e1', offset: 50 }]);
        const all = await store.ackers(s, { epoch: 'e1', minOffset: 0, limit: 100 });
        assert.deepEqual(all.map((x) => [x.consumer.device, x.offset]).sort(), [
          ['a', 5],
          ['b', 2],
          ['c', 9],
        ]);
        const found = all.find((x) => x.consumer.device === 'c');
        assert.deepEqual(found?.consumer, c);
        assert.deepEqual(
          (await store.ackers(s, { epoch: 'e1', minOffset: 5, limit: 100 }))
            .map((x) => x.consumer.device)
            .sort(),
          ['a', 'c'],
        );
        const one = await store.ackers(s, { epoch: 'e1', minOffset: 0, limit: 1 });
        assert.equal(one.length, 1);
        const again = await store.ackers(s, { epoch: 'e1', minOffset: 0, limit: 1 });
        assert.deepEqual(again, one, 'a stable order');
        assert.deepEqual(await store.ackers(stream(), { epoch: 'e1', minOffset: 0, limit: 9 }), []);
        await assert.rejects(store.ackers(s, { epoch: 'e1', minOffset: 0, limit: 0 }));
      }));

    test('ackers sees a raised offset and an epoch change', () =>
      withStore(async (store) => {
        const s = stream();
        const a = consumer('a');
        await store.ack(a, [{ stream: s, epoch: 'e1', offset: 1 }]);
        await store.ack(a, [{ stream: s, epoch: 'e1', offset: 7 }]);
        assert.deepEqual(
          (await store.ackers(s, { epoch: 'e1', minOffset: 7, limit: 5 })).map((x) => x.offset),
          [7],
        );
        await store.ack(a, [{ stream: s, epoch: 'e2', offset: 1 }]);
        assert.deepEqual(await store.ackers(s, { epoch: 'e1', minOffset: 0, limit: 5 }), []);
        assert.equal((await store.ackers(s, { epoch: 'e2', minOffset: 0, limit: 5 })).length, 1);
      }));

    test('receipts round-trip and come back by ascending toOffset from an offset', () =>
      withStore(async (store) => {
        const s = stream();
        const phone = consumer('phone');
        const stored: Receipt[] = [
          receipt({ stream: s, consumer: phone, fromOffset: 1, toOffset: 4, lastAt: START + 4 }),
          receipt({ stream: s, kind: 'acked', consumer: phone, fromOffset: 3, toOffset: 3 }),
          receipt({ stream: s, consumer: phone, session: 's2', fromOffset: 5, toOffset: 9 }),
          receipt({ stream: s, epoch: 'e0', fromOffset: 1, toOffset: 100 }),
          receipt({ stream: `${s}-other`, fromOffset: 1, toOffset: 100 }),
        ];
        await store.record(stored.slice(0, 3));
        await store.record(stored.slice(3));
        await store.record([]);
        const found = await store.receipts(s, { epoch: 'e1', minOffset: 3, limit: 10 });
        assert.deepEqual(found, [stored[1], stored[0], stored[2]]);
        assert.deepEqual(
          (await store.receipts(s, { epoch: 'e1', minOffset: 5, limit: 10 })).map((r) => r.session),
          ['s2'],
        );
        assert.equal((await store.receipts(s, { epoch: 'e1', minOffset: 0, limit: 1 })).length, 1);
        assert.deepEqual(
          await store.receipts(stream(), { epoch: 'e1', minOffset: 0, limit: 5 }),
          [],
        );
      }));

    test('receipts older than maxAgeMs are not returned', () =>
      withStore(
        async (store, clock) => {
          const s = stream();
          await store.record([receipt({ stream: s, lastAt: clock.now() })]);
          clock.advance(500);
          await store.record([
            receipt({ stream: s, fromOffset: 2, toOffset: 2, lastAt: clock.now() }),
          ]);
          clock.advance(600);
          assert.deepEqual(
            (await store.receipts(s, { epoch: 'e1', minOffset: 0, limit: 10 })).map(
              (r) => r.toOffset,
            ),
            [2],
          );
        },
        { maxAgeMs: 1000 },
      ));
  });
}
