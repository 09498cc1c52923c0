/**
 * The behaviour every MessageLog implementation must have. Each implementation's test
 * file calls `messageLogContract(name, factory)`; the memory log runs it today, the SQLite
 * and Redis logs reuse it unchanged. Stream names are unique per test, so a shared
 * backing store (one Redis) needs no cleanup between tests.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Clock } from '../../src/env/index.js';
import type {
  LogMessage,
  MessageLog,
  RecordRetentionOptions,
  RetentionOptions,
} from '../../src/storage/types.js';

export interface LogFactoryOptions {
  readonly retention?: RetentionOptions;
  /** Publish record retention. */
  readonly records?: RecordRetentionOptions;
  /** Time source for age-based retention. */
  readonly clock: Clock;
}

export type LogFactory = (options: LogFactoryOptions) => MessageLog | Promise<MessageLog>;

const START = 1_700_000_000_000;

/** A clock that only moves when told to. */
export function manualClock(start = START): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    setTimeout: () => undefined,
    clearTimeout: () => {},
    advance(ms) {
      now += ms;
    },
  };
}

function message(n: number, publishedAt = START): LogMessage {
  return { id: `m${n}`, data: { n, nested: [n, 'x'] }, publishedAt };
}

export function messageLogContract(name: string, factory: LogFactory): void {
  describe(`MessageLog contract: ${name}`, () => {
    const prefix = `contract-${randomUUID()}`;
    let counter = 0;
    const stream = (kind = 'user'): string => `${kind}:${prefix}-${++counter}`;

    async function withLog(
      run: (log: MessageLog, clock: ReturnType<typeof manualClock>) => Promise<void>,
      retention?: RetentionOptions,
    ): Promise<void> {
      const clock = manualClock();
      const log = await factory({ clock, ...(retention ? { retention } : {}) });
      try {
        await run(log, clock);
      } finally {
        await log.close();
      }
    }

    test('offsets start at 1 and increase by one per append, with one epoch', () =>
      withLog(async (log) => {
        const s = stream();
        const positions = [];
        for (let i = 1; i <= 5; i++) positions.push(await log.append(s, message(i)));
        assert.deepEqual(
          positions.map((p) => p.offset),
          [1, 2, 3, 4, 5],
        );
        const epoch = positions[0]?.epoch;
        assert.equal(typeof epoch, 'string');
        assert.ok((epoch as string).length > 0 && (epoch as string).length <= 64);
        assert.ok(positions.every((p) => p.epoch === epoch));
      }));

    test('streams are independent', () =>
      withLog(async (log) => {
        const a = stream();
        const b = stream('channel');
        await log.append(a, message(1));
        await log.append(a, message(2));
        assert.equal((await log.append(b, message(3))).offset, 1);
        assert.equal((await log.append(a, message(4))).offset, 3);
      }));

    test('concurrent appends get distinct consecutive offsets, resolving in call order', () =>
      withLog(async (log) => {
        const s = stream();
        const order: number[] = [];
        const positions = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            log.append(s, message(i)).then((p) => {
              order.push(p.offset);
              return p;
            }),
          ),
        );
        const expected = Array.from({ length: 50 }, (_, i) => i + 1);
        assert.deepEqual(
          positions.map((p) => p.offset),
          expected,
        );
        assert.deepEqual(order, expected);
      }));

    test('read returns messages after an offset, oldest first, up to the limit', () =>
      withLog(async (log) => {
        const s = stream();
        let epoch = '';
        for (let i = 1; i <= 10; i++) epoch = (await log.append(s, message(i, START + i))).epoch;
        const slice = await log.read(s, 3, 4);
        assert.equal(slice?.epoch, epoch);
        assert.deepEqual(
          slice?.messages,
          [4, 5, 6, 7].map((n) => ({ ...message(n, START + n), offset: n })),
        );
        assert.deepEqual(
          (await log.read(s, 0, 2))?.messages.map((m) => m.offset),
          [1, 2],
        );
        assert.deepEqual(
          (await log.read(s, 8, 100))?.messages.map((m) => m.offset),
          [9, 10],
        );
        assert.deepEqual((await log.read(s, 10, 100))?.messages, []);
        assert.deepEqual((await log.read(s, 50, 100))?.messages, []);
      }));

    test('an unknown stream has no head and reads as undefined', () =>
      withLog(async (log) => {
        const s = stream();
        assert.equal(await log.head(s), undefined);
        assert.equal(await log.read(s, 0, 10), undefined);
        assert.equal(await log.trim(s), 0);
      }));

    test('head reports the epoch, the newest offset and the oldest retained one', () =>
      withLog(async (log) => {
        const s = stream();
        const { epoch } = await log.append(s, message(1));
        await log.append(s, message(2));
        assert.deepEqual(await log.head(s), { epoch, offset: 2, firstOffset: 1 });
      }));

    test('a limit below 1 is refused', () =>
      withLog(async (log) => {
        const s = stream();
        await log.append(s, message(1));
        await assert.rejects(log.read(s, 0, 0));
      }));

    test('retention by count drops the oldest messages; offsets go on', () =>
      withLog(
        async (log) => {
          const s = stream();
          for (let i = 1; i <= 7; i++) await log.append(s, message(i));
          const head = await log.head(s);
          assert.equal(head?.offset, 7);
          assert.equal(head?.firstOffset, 5);
          assert.deepEqual(
            (await log.read(s, 0, 100))?.messages.map((m) => m.offset),
            [5, 6, 7],
          );
          assert.equal((await log.append(s, message(8))).offset, 8);
        },
        { maxMessages: 3 },
      ));

    test('retention by age drops messages older than maxAgeMs', () =>
      withLog(
        async (log, clock) => {
          const s = stream();
          await log.append(s, message(1, clock.now()));
          clock.advance(600);
          await log.append(s, message(2, clock.now()));
          clock.advance(600); // message 1 is now 1200 ms old, message 2 600 ms
          assert.deepEqual(
            (await log.read(s, 0, 10))?.messages.map((m) => m.offset),
            [2],
          );
          clock.advance(600);
          assert.equal(await log.trim(s), 1);
          const head = await log.head(s);
          assert.equal(head?.offset, 2, 'the stream keeps its offset when it empties');
          assert.equal(head?.firstOffset, 3);
          assert.deepEqual((await log.read(s, 0, 10))?.messages, []);
          assert.equal((await log.append(s, message(3, clock.now()))).offset, 3);
        },
        { maxAgeMs: 1000 },
      ));

    test('a stream of thousands of messages reads back consistently after trimming', () =>
      withLog(
        async (log) => {
          const s = stream();
          for (let i = 1; i <= 3000; i++) await log.append(s, message(i));
          const slice = await log.read(s, 2500, 1000);
          assert.equal(slice?.messages.length, 500);
          assert.equal(slice?.messages[0]?.offset, 2501);
          assert.equal(slice?.messages[0]?.id, 'm2501');
          assert.equal((await log.head(s))?.firstOffset, 2001);
        },
        { maxMessages: 1000 },
      ));
  });
}
