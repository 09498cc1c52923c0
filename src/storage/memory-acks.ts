/**
 * The in-memory {@link AckStore}: the highest acknowledged position per consumer and
 * stream, and the newest receipts per stream, for as long as the process lives.
 */
import { systemClock, type Clock } from '../env/index.js';
import type { StreamPosition } from '../protocol/index.js';
import { recordLimit } from './memory-records.js';
import {
  DEFAULT_MEMORY_RECEIPTS_PER_STREAM,
  DEFAULT_RECEIPT_MAX_AGE_MS,
  type AckConsumer,
  type AckerPosition,
  type AckStore,
  type Receipt,
  type ReceiptRetentionOptions,
} from './types.js';

export interface MemoryAckStoreOptions {
  /** How long, and how many per stream, receipts are kept. @default { maxAgeMs: 86_400_000, maxPerStream: 256 } */
  readonly receipts?: ReceiptRetentionOptions;
  /** Time source of receipt retention. @default the system clock */
  readonly clock?: Clock;
}

/** The key of a consumer in every ack store: JSON keeps the three parts apart whatever they contain. */
export function consumerKey(consumer: AckConsumer): string {
  return JSON.stringify([consumer.tenantId ?? null, consumer.userId, consumer.device ?? null]);
}

interface Acked {
  readonly consumer: AckConsumer;
  position: StreamPosition;
}

function limitProblem(limit: number): RangeError | undefined {
  return Number.isSafeInteger(limit) && limit >= 1
    ? undefined
    : new RangeError(`limit must be a positive integer, got ${limit}`);
}

/** Create an in-memory acknowledgement store. */
export function createMemoryAckStore(options: MemoryAckStoreOptions = {}): AckStore {
  const clock = options.clock ?? systemClock;
  const maxAgeMs = recordLimit(
    options.receipts?.maxAgeMs,
    DEFAULT_RECEIPT_MAX_AGE_MS,
    'receipts.maxAgeMs',
  );
  const maxPerStream = recordLimit(
    options.receipts?.maxPerStream,
    DEFAULT_MEMORY_RECEIPTS_PER_STREAM,
    'receipts.maxPerStream',
  );
  const consumers = new Map<string, Map<string, Acked>>();
  // The same entries by stream, for `ackers`.
  const byStream = new Map<string, Map<string, Acked>>();
  const receipts = new Map<string, Receipt[]>();

  return {
    ack(consumer, positions) {
      const key = consumerKey(consumer);
      let streams = consumers.get(key);
      if (streams === undefined) {
        streams = new Map();
        consumers.set(key, streams);
      }
      for (const p of positions) {
        const known = streams.get(p.stream);
        const position = { stream: p.stream, epoch: p.epoch, offset: p.offset };
        if (known === undefined) {
          const entry: Acked = {
            consumer: {
              userId: consumer.userId,
              tenantId: consumer.tenantId,
              device: consumer.device,
            },
            position,
          };
          streams.set(p.stream, entry);
          let listed = byStream.get(p.stream);
          if (listed === undefined) {
            listed = new Map();
            byStream.set(p.stream, listed);
          }
          listed.set(key, entry);
        } else if (known.position.epoch !== p.epoch || known.position.offset < p.offset) {
          // A new epoch replaces the old one: positions of different epochs do not compare.
          known.position = position;
        }
      }
      return Promise.resolve();
    },

    acked(consumer) {
      const streams = consumers.get(consumerKey(consumer));
      return Promise.resolve(
        streams === undefined ? [] : [...streams.values()].map((entry) => entry.position),
      );
    },

    ackers(stream, query) {
      const problem = limitProblem(query.limit);
      if (problem !== undefined) return Promise.reject(problem);
      const found: AckerPosition[] = [];
      const listed = byStream.get(stream);
      if (listed === undefined) return Promise.resolve(found);
      for (const key of [...listed.keys()].sort()) {
        const { consumer, position } = listed.get(key) as Acked;
        if (position.epoch !== query.epoch || position.offset < query.minOffset) continue;
        found.push({ consumer, offset: position.offset });
        if (found.length >= query.limit) break;
      }
      return Promise.resolve(found);
    },

    record(batch) {
      for (const receipt of batch) {
        let list = receipts.get(receipt.stream);
        if (list === undefined) {
          list = [];
          receipts.set(receipt.stream, list);
        }
        list.push(receipt);
        if (list.length > maxPerStream) list.splice(0, list.length - maxPerStream);
      }
      return Promise.resolve();
    },

    receipts(stream, query) {
      const problem = limitProblem(query.limit);
      if (problem !== undefined) return Promise.reject(problem);
      const list = receipts.get(stream);
      if (list === undefined) return Promise.resolve([]);
      const oldest = clock.now() - maxAgeMs;
      const fresh = list.filter((r) => r.lastAt > oldest);
      if (fresh.length === 0) receipts.delete(stream);
      else if (fresh.length !== list.length) receipts.set(stream, fresh);
      const found = fresh
        .filter((r) => r.epoch === query.epoch && r.toOffset >= query.minOffset)
        .sort((a, b) => a.toOffset - b.toOffset)
        .slice(0, query.limit);
      return Promise.resolve(found);
    },

    close() {
      consumers.clear();
      byStream.clear();
      receipts.clear();
      return Promise.resolve();
    },
  };
}
