/**
 * Batched delivery: messages collected into arrays for the `messages` event. A batch is
 * delivered when it holds `maxSize` messages, `maxWaitMs` after its first message, or
 * when flushed on purpose (`close()`). It belongs to the client, not to a connection, so
 * a reconnect neither loses nor hurries it. One timer per batch window.
 */
import type { Disposer, Scope } from '../env/index.js';
import type { BatchOptions } from './options.js';

export class Batcher<T> {
  private readonly scope_: Scope;
  private readonly options_: BatchOptions;
  private readonly deliver_: (batch: readonly T[]) => void;
  private pending_: T[] = [];
  private timer_: Disposer | null = null;

  /** The window timer belongs to `scope`, the client's lifetime. */
  constructor(scope: Scope, options: BatchOptions, deliver: (batch: readonly T[]) => void) {
    this.scope_ = scope;
    this.options_ = options;
    this.deliver_ = deliver;
  }

  /**
   * Queue an item without deciding yet. The client holds a message, emits its `message`
   * event, then settles: so a listener that closes the client finds the message in the
   * batch it hands over, and a full batch never overtakes its last `message` event.
   */
  hold(item: T): void {
    this.pending_.push(item);
  }

  /** Deliver the batch when it is full; otherwise make sure its window timer runs. */
  settle(): void {
    if (this.pending_.length === 0) return;
    if (this.pending_.length >= this.options_.maxSize) {
      this.flush();
      return;
    }
    this.timer_ ??= this.scope_.setTimeout(() => {
      this.timer_ = null;
      this.flush();
    }, this.options_.maxWaitMs);
  }

  /** Deliver what is pending now, if anything. */
  flush(): void {
    this.timer_?.();
    this.timer_ = null;
    if (this.pending_.length === 0) return;
    const batch = this.pending_;
    this.pending_ = [];
    this.deliver_(batch);
  }
}
