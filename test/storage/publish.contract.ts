/**
 * What every MessageLog does beyond appending: publishing one message to several streams
 * with one record, finding the record by id, idempotency keys (also under concurrency),
 * TTL and requireAck stored with each message, and the requireAck index. Each
 * implementation's test file calls `publishContract(name, factory)` next to
 * `messageLogContract`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type {
  LogMessage,
  LogPublish,
  MessageLog,
  PublishRecord,
  RecordRetentionOptions,
  RetentionOptions,
} from '../../src/storage/types.js';
import { manualClock, type LogFactory } from './message-log.contract.js';

const START = 1_700_000_000_000;

/** What `lookup` must give back of a record: the same message, positions in any order. */
function assertFound(found: PublishRecord | undefined, record: PublishRecord): void {
  assert.ok(found, `lookup(${record.id}) found nothing`);
  const order = (r: PublishRecord) =>
    [...r.positions].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  assert.deepEqual(
    [found.id, found.publishedAt, found.expiresAt, found.requireAck, order(found)],
    [record.id, record.publishedAt, record.expiresAt, record.requireAck, order(record)],
  );
}

export function publishContract(name: string, factory: LogFactory): void {
  describe(`MessageLog publish contract: ${name}`, () => {
    const prefix = `publish-${randomUUID()}`;
    let counter = 0;
    const stream = (kind = 'user'): string => `${kind}:${prefix}-${++counter}`;
    const id = (): string => `${prefix}-m${++counter}`;
    const key = (): string => `${prefix}-k${++counter}`;

    function message(overrides: Partial<LogMessage> = {}): LogMessage {
      return { id: id(), data: { n: counter }, publishedAt: START, ...overrides };
    }

    async function withLog(
      run: (log: MessageLog, clock: ReturnType<typeof manualClock>) => Promise<void>,
      options: { retention?: RetentionOptions; records?: RecordRetentionOptions } = {},
    ): Promise<void> {
      const clock = manualClock(START);
      const log = await factory({ clock, ...options });
      try {
        await run(log, clock);
      } finally {
        await log.close();
      }
    }

    test('one message to several streams: a position in each, one record found by id', () =>
      withLog(async (log) => {
        const [a, b, c] = [stream(), stream(), stream('channel')];
        await log.append(b, message());
        const m = message();
        const { duplicate, record } = await log.publish({ streams: [a, b, c], message: m });
        assert.equal(duplicate, false);
        assert.equal(record.id, m.id);
        assert.equal(record.publishedAt, START);
        assert.deepEqual(
          record.positions.map((p) => [p.stream, p.offset]),
          [
            [a, 1],
            [b, 2],
            [c, 1],
          ],
        );
        for (const p of record.positions) {
          assert.equal((await log.head(p.stream))?.epoch, p.epoch);
          const [read] = (await log.read(p.stream, p.offset - 1, 1))?.messages ?? [];
          assert.equal(read?.id, m.id);
          assert.deepEqual(read?.data, m.data);
        }
        assertFound(await log.lookup(m.id), record);
        assert.equal(await log.lookup(`${prefix}-unknown`), undefined);
        assert.equal(record.expiresAt, undefined);
        assert.equal(record.requireAck, undefined);
      }));

    test('expiresAt and requireAck are stored with the message and the record', () =>
      withLog(async (log) => {
        const s = stream();
        const plain = message();
        const special = message({ expiresAt: START + 5000, requireAck: true });
        await log.publish({ streams: [s], message: plain });
        const { record } = await log.publish({ streams: [s], message: special });
        assert.equal(record.expiresAt, START + 5000);
        assert.equal(record.requireAck, true);
        const messages = (await log.read(s, 0, 10))?.messages ?? [];
        assert.deepEqual(
          messages.map((m) => [m.id, m.expiresAt, m.requireAck]),
          [
            [plain.id, undefined, undefined],
            [special.id, START + 5000, true],
          ],
        );
        assert.ok(!('expiresAt' in (messages[0] ?? {})), 'absent, not undefined');
        assertFound(await log.lookup(special.id), record);
        assertFound(await log.lookup(plain.id), {
          id: plain.id,
          publishedAt: START,
          positions: [{ stream: s, epoch: record.positions[0]?.epoch ?? '', offset: 1 }],
        });
      }));

    test('readRequiringAck returns only requireAck messages above an offset, up to a limit', () =>
      withLog(async (log) => {
        const s = stream();
        const flags = [false, true, false, true, true, false, true];
        for (const requireAck of flags) {
          await log.publish({ streams: [s], message: message(requireAck ? { requireAck } : {}) });
        }
        const all = await log.readRequiringAck(s, 0, 100);
        assert.deepEqual(
          all?.messages.map((m) => m.offset),
          [2, 4, 5, 7],
        );
        assert.ok(all?.messages.every((m) => m.requireAck === true));
        assert.equal(all?.epoch, (await log.head(s))?.epoch);
        assert.deepEqual(
          (await log.readRequiringAck(s, 2, 2))?.messages.map((m) => m.offset),
          [4, 5],
        );
        assert.deepEqual((await log.readRequiringAck(s, 7, 10))?.messages, []);
        assert.equal(await log.readRequiringAck(stream(), 0, 10), undefined);
        await assert.rejects(log.readRequiringAck(s, 0, 0));
      }));

    test('readRequiringAck follows retention', () =>
      withLog(
        async (log) => {
          const s = stream();
          for (let i = 1; i <= 6; i++) {
            await log.publish({ streams: [s], message: message({ requireAck: i % 2 === 1 }) });
          }
          // Retained: 4, 5, 6; requiring an ack among them: 5.
          assert.deepEqual(
            (await log.readRequiringAck(s, 0, 10))?.messages.map((m) => m.offset),
            [5],
          );
        },
        { retention: { maxMessages: 3 } },
      ));

    test('a repeated idempotency key returns the first record and appends nothing', () =>
      withLog(async (log) => {
        const s = stream();
        const k = key();
        const first = await log.publish({
          streams: [s],
          message: message(),
          idempotency: { key: k, since: START - 1000, fingerprint: 'f1' },
        });
        assert.equal(first.duplicate, false);
        assert.equal(first.record.idempotencyKey, k);
        assert.equal(first.record.fingerprint, 'f1');
        const again = await log.publish({
          streams: [s, stream()],
          message: message(),
          idempotency: { key: k, since: START - 1000, fingerprint: 'f2' },
        });
        assert.equal(again.duplicate, true);
        assert.deepEqual(again.record, first.record);
        assert.equal((await log.head(s))?.offset, 1, 'nothing appended');
      }));

    test('concurrent publishes with one key publish once', () =>
      withLog(async (log) => {
        const s = stream();
        const k = key();
        const results = await Promise.all(
          Array.from({ length: 8 }, () =>
            log.publish({ streams: [s], message: message(), idempotency: { key: k, since: 0 } }),
          ),
        );
        assert.equal(results.filter((r) => !r.duplicate).length, 1);
        const ids = new Set(results.map((r) => r.record.id));
        assert.equal(ids.size, 1);
        assert.equal((await log.head(s))?.offset, 1);
      }));

    test('a key older than `since` is forgotten and taken by the new publish', () =>
      withLog(async (log, clock) => {
        const s = stream();
        const k = key();
        const first = await log.publish({
          streams: [s],
          message: message(),
          idempotency: { key: k, since: 0 },
        });
        clock.advance(10_000);
        const second = await log.publish({
          streams: [s],
          message: message({ publishedAt: clock.now() }),
          idempotency: { key: k, since: clock.now() - 5000 },
        });
        assert.equal(second.duplicate, false);
        assert.notEqual(second.record.id, first.record.id);
        const third = await log.publish({
          streams: [s],
          message: message({ publishedAt: clock.now() }),
          idempotency: { key: k, since: 0 },
        });
        assert.equal(third.duplicate, true);
        assert.equal(third.record.id, second.record.id);
        assertFound(await log.lookup(first.record.id), first.record);
      }));

    test('keys are independent of one another', () =>
      withLog(async (log) => {
        const s = stream();
        const a = await log.publish({
          streams: [s],
          message: message(),
          idempotency: { key: key(), since: 0 },
        });
        const b = await log.publish({
          streams: [s],
          message: message(),
          idempotency: { key: key(), since: 0 },
        });
        assert.equal(a.duplicate || b.duplicate, false);
        assert.equal((await log.head(s))?.offset, 2);
      }));

    test('an idempotency key past records.maxAgeMs is forgotten', () =>
      withLog(
        async (log, clock) => {
          const s = stream();
          const k = key();
          await log.publish({
            streams: [s],
            message: message({ publishedAt: clock.now() }),
            idempotency: { key: k, since: 0 },
          });
          clock.advance(1500);
          const again = await log.publish({
            streams: [s],
            message: message({ publishedAt: clock.now() }),
            idempotency: { key: k, since: 0 },
          });
          assert.equal(again.duplicate, false, 'an expired record no longer holds its key');
        },
        { records: { maxAgeMs: 1000 } },
      ));

    test('lookup follows retention: only streams that still retain the message', () =>
      withLog(
        async (log) => {
          const [a, b] = [stream(), stream()];
          const wide = await log.publish({ streams: [a, b], message: message() });
          const later = await log.publish({ streams: [a], message: message() });
          // Stream a keeps only its newest message now; b still has the first one.
          const found = await log.lookup(wide.record.id);
          assert.deepEqual(found?.positions, [wide.record.positions[1]]);
          assertFound(await log.lookup(later.record.id), later.record);
          await log.publish({ streams: [b], message: message() });
          assert.equal(await log.lookup(wide.record.id), undefined);
        },
        { retention: { maxMessages: 1 } },
      ));

    test('bad entries are refused before anything is stored', () =>
      withLog(async (log) => {
        const s = stream();
        const bad: LogPublish[] = [
          { streams: [], message: message() },
          { streams: [s, s], message: message() },
          { streams: [s], message: message(), idempotency: { key: '', since: 0 } },
          { streams: [s], message: message(), idempotency: { key: 'k'.repeat(201), since: 0 } },
          { streams: [s], message: { ...message(), expiresAt: Number.NaN } },
        ];
        for (const entry of bad) await assert.rejects(log.publish(entry), TypeError);
        assert.equal(await log.head(s), undefined);
      }));
  });
}
