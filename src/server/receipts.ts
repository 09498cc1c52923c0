/**
 * Delivery and ack receipts for the status API, recorded without a write per message.
 *
 * Each session's deliveries of its user inbox, and each device's acks of it, extend one
 * in-memory run of consecutive offsets: a map lookup and two assignments per delivery,
 * no allocation. One timer per interval — armed only while something was recorded —
 * moves every run into a batch of {@link Receipt}s and writes it through the ack store,
 * which group-commits it with everything else. A run is also cut early when offsets skip
 * or the epoch changes, so a receipt always covers a contiguous range.
 *
 * Channel deliveries are not recorded: a broadcast to thousands of sessions costs
 * nothing here.
 */
import type { Disposer, Scope } from '../env/index.js';
import type { AckConsumer, AckStore, Receipt } from '../storage/types.js';

/** A session as the tracker needs it (a {@link Session} is one). */
export interface ReceiptSession {
  readonly id: string;
  readonly profile:
    | {
        readonly userId: string;
        readonly tenantId: string | undefined;
        readonly device: string | undefined;
      }
    | undefined;
}

interface Run {
  readonly kind: Receipt['kind'];
  readonly stream: string;
  readonly epoch: string;
  readonly consumer: AckConsumer;
  readonly session: string | undefined;
  readonly fromOffset: number;
  toOffset: number;
  readonly firstAt: number;
  lastAt: number;
}

function toReceipt(run: Run): Receipt {
  return {
    kind: run.kind,
    stream: run.stream,
    epoch: run.epoch,
    consumer: run.consumer,
    ...(run.session === undefined ? {} : { session: run.session }),
    fromOffset: run.fromOffset,
    toOffset: run.toOffset,
    firstAt: run.firstAt,
    lastAt: run.lastAt,
  };
}

export class ReceiptTracker {
  readonly #scope: Scope;
  readonly #store: AckStore;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  /** Open delivery runs by session id. */
  readonly #deliveries = new Map<string, Run>();
  /** Open ack runs by consumer and stream. */
  readonly #acks = new Map<string, Run>();
  /** Runs cut before the next flush. */
  #cut: Run[] = [];
  /** Receipts being written: still reported until the write settles. */
  #writing: readonly Run[] = [];
  #cancel: Disposer | undefined;
  #flushed: Promise<void> = Promise.resolve();

  constructor(
    scope: Scope,
    store: AckStore,
    intervalMs: number,
    onError: (error: unknown) => void,
  ) {
    this.#scope = scope;
    this.#store = store;
    this.#intervalMs = intervalMs;
    this.#onError = onError;
  }

  /** `session` was written the push at `offset` of `stream` at `now`. */
  delivered(
    session: ReceiptSession,
    stream: string,
    epoch: string,
    offset: number,
    now: number,
  ): void {
    const run = this.#deliveries.get(session.id);
    if (run !== undefined && run.stream === stream && run.epoch === epoch) {
      if (offset === run.toOffset + 1) {
        run.toOffset = offset;
        run.lastAt = now;
        return;
      }
      // Written before (a replay met a live push): nothing new to record.
      if (offset <= run.toOffset && offset >= run.fromOffset) return;
    }
    const profile = session.profile;
    if (profile === undefined) return;
    if (run !== undefined) this.#cut.push(run);
    this.#deliveries.set(session.id, {
      kind: 'delivered',
      stream,
      epoch,
      consumer: { userId: profile.userId, tenantId: profile.tenantId, device: profile.device },
      session: session.id,
      fromOffset: offset,
      toOffset: offset,
      firstAt: now,
      lastAt: now,
    });
    this.#arm();
  }

  /** `consumer` acknowledged `stream` up to `offset` at `now`. */
  acked(consumer: AckConsumer, stream: string, epoch: string, offset: number, now: number): void {
    const key = JSON.stringify([
      consumer.tenantId ?? null,
      consumer.userId,
      consumer.device ?? null,
      stream,
    ]);
    const run = this.#acks.get(key);
    if (run !== undefined && run.epoch === epoch) {
      if (offset > run.toOffset) {
        run.toOffset = offset;
        run.lastAt = now;
      }
      return;
    }
    if (run !== undefined) this.#cut.push(run);
    this.#acks.set(key, {
      kind: 'acked',
      stream,
      epoch,
      consumer: { userId: consumer.userId, tenantId: consumer.tenantId, device: consumer.device },
      session: undefined,
      fromOffset: offset,
      toOffset: offset,
      firstAt: now,
      lastAt: now,
    });
    this.#arm();
  }

  /** Receipts of `stream` not yet stored (in memory, or being written). */
  pending(stream: string): Receipt[] {
    const found: Receipt[] = [];
    const add = (run: Run): void => {
      if (run.stream === stream) found.push(toReceipt(run));
    };
    this.#writing.forEach(add);
    this.#cut.forEach(add);
    this.#deliveries.forEach(add);
    this.#acks.forEach(add);
    return found;
  }

  /** Write everything recorded so far; resolves when it is stored (or failed and was logged). */
  flush(): Promise<void> {
    this.#cancel?.();
    this.#cancel = undefined;
    const batch = [...this.#cut, ...this.#deliveries.values(), ...this.#acks.values()];
    this.#cut = [];
    this.#deliveries.clear();
    this.#acks.clear();
    if (batch.length === 0) return this.#flushed;
    // One write at a time, in order; a failed batch is reported and dropped, never retried
    // in a loop against a store that is down.
    this.#flushed = this.#flushed.then(async () => {
      this.#writing = batch;
      try {
        await this.#store.record(batch.map(toReceipt));
      } catch (error) {
        this.#onError(error);
      } finally {
        this.#writing = [];
      }
    });
    return this.#flushed;
  }

  #arm(): void {
    if (this.#cancel !== undefined) return;
    this.#cancel = this.#scope.setTimeout(() => {
      this.#cancel = undefined;
      void this.flush();
    }, this.#intervalMs);
  }
}
