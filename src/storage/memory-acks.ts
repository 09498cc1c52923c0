/**
 * The in-memory {@link AckStore}: the highest acknowledged position per consumer and
 * stream, for as long as the process lives.
 */
import type { StreamPosition } from '../protocol/index.js';
import type { AckConsumer, AckStore } from './types.js';

function consumerKey(consumer: AckConsumer): string {
  // JSON keeps the three parts apart whatever characters the ids contain.
  return JSON.stringify([consumer.tenantId ?? null, consumer.userId, consumer.device ?? null]);
}

/** Create an in-memory acknowledgement store. */
export function createMemoryAckStore(): AckStore {
  const consumers = new Map<string, Map<string, StreamPosition>>();

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
        // A new epoch replaces the old one: positions of different epochs do not compare.
        if (known === undefined || known.epoch !== p.epoch || known.offset < p.offset) {
          streams.set(p.stream, { stream: p.stream, epoch: p.epoch, offset: p.offset });
        }
      }
      return Promise.resolve();
    },

    acked(consumer) {
      const streams = consumers.get(consumerKey(consumer));
      return Promise.resolve(streams === undefined ? [] : [...streams.values()]);
    },

    close() {
      consumers.clear();
      return Promise.resolve();
    },
  };
}
