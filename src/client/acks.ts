/**
 * Coalesced, cumulative acknowledgements. Acking offset n of a stream acknowledges
 * everything before it, so only the newest position per stream is kept, and one timer per
 * window sends them all.
 *
 * The batcher belongs to the client, not to a session: a message handed to the
 * application while no session is open (a batch delivered during a reconnect) is
 * acknowledged once the next session opens.
 */
import type { StreamPosition } from '../protocol/index.js';
import type { Disposer, Scope } from '../env/index.js';

/** Sends positions in `ack` frames; false when no session is open to take them. */
export type AckSender = (positions: readonly StreamPosition[]) => boolean;

export class AckBatcher {
  readonly #scope: Scope;
  readonly #delayMs: number;
  readonly #send: AckSender;
  #pending = new Map<string, StreamPosition>();
  #timer: Disposer | null = null;

  constructor(scope: Scope, delayMs: number, send: AckSender) {
    this.#scope = scope;
    this.#delayMs = delayMs;
    this.#send = send;
  }

  /** Acknowledge `position` (and everything before it in its stream) within the window. */
  add(position: StreamPosition): void {
    this.#pending.set(position.stream, position);
    this.#timer ??= this.#scope.setTimeout(() => {
      this.#timer = null;
      this.flush();
    }, this.#delayMs);
  }

  /** Send what is pending now; without a session it stays pending and no timer runs. */
  flush(): void {
    this.#timer?.();
    this.#timer = null;
    if (this.#pending.size === 0) return;
    const positions = [...this.#pending.values()];
    if (this.#send(positions)) this.#pending.clear();
  }
}
