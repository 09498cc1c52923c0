/**
 * The ack store as sessions see it: each ack of a user inbox also extends the device's
 * ack receipt (receipts.ts); every call is delegated unchanged. And the TTL rule shared
 * by every path that writes pushes.
 *
 * TTL is not applied by filtering log reads: a replay checks that the offsets it reads
 * are contiguous and answers a hole with `resync` (PROTOCOL.md §10.1), so skipping an
 * expired message has to happen inside the replay, which knows it skipped on purpose.
 */
import type { Clock } from '../env/index.js';
import { userStream } from '../protocol/index.js';
import type { AckStore } from '../storage/types.js';
import type { ReceiptTracker } from './receipts.js';

/**
 * Is `message` past its TTL at `now`? An expired message is no longer pushed, whether
 * live, held or redelivered.
 */
export function expired(message: { readonly expiresAt?: number }, now: number): boolean {
  return message.expiresAt !== undefined && message.expiresAt <= now;
}

/** The ack store, extending ack receipts of user inboxes as acks arrive. */
export function recordingAckStore(
  store: AckStore,
  tracker: ReceiptTracker,
  clock: Clock,
): AckStore {
  return {
    ack(consumer, positions) {
      const inbox = userStream(consumer.userId, consumer.tenantId);
      const now = clock.now();
      for (const p of positions) {
        if (p.stream === inbox) tracker.acked(consumer, p.stream, p.epoch, p.offset, now);
      }
      return store.ack(consumer, positions);
    },
    acked: (consumer) => store.acked(consumer),
    ackers: (stream, query) => store.ackers(stream, query),
    record: (receipts) => store.record(receipts),
    receipts: (stream, query) => store.receipts(stream, query),
    close: () => store.close(),
  };
}
