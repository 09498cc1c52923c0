/**
 * Batched delivery: messages collected into arrays for the `messages` event. A batch is
 * delivered when it holds `maxSize` messages, `maxWaitMs` after its first message, or
 * when flushed on purpose (`close()`). It belongs to the client, not to a connection, so
 * a reconnect neither loses nor hurries it. One timer per batch window.
 */
import type { Disposer, Scope } from '../env/index.js';
import type { BatchOptions } from './options.js';

export class Batcher<T> {
  readonly #scope: Scope;
  readonly #options: BatchOptions;
  readonly #deliver: (batch: readonly T[]) => void;
  #pending: T[] = [];
  #timer: Disposer | null = null;

  /** The window timer belongs to `scope`, the client's lifetime. */
  constructor(scope: Scope, options: BatchOptions, deliver: (batch: readonly T[]) => void) {
    this.#scope = scope;
    this.#options = options;
    this.#deliver = deliver;
  }

  /**
   * Queue an item without deciding yet. The client holds a message, emits its `message`
   * event, then settles: so a listener that closes the client finds the message in the
   * batch it hands over, and a full batch never overtakes its last `message` event.
   */
  hold(item: T): void {
    this.#pending.push(item);
  }

  /** Deliver the batch when it is full; otherwise make sure its window timer runs. */
  settle(): void {
    if (this.#pending.length === 0) return;
    if (this.#pending.length >= this.#options.maxSize) {
      this.flush();
      return;
    }
    this.#timer ??= this.#scope.setTimeout(() => {
      this.#timer = null;
      this.flush();
    }, this.#options.maxWaitMs);
  }

  /** Deliver what is pending now, if anything. */
  flush(): void {
    this.#timer?.();
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#deliver(batch);
  }
}
