/**
 * Coalesced, cumulative acknowledgements for one open session. Acking offset n of a
 * stream acknowledges everything before it, so only the newest position per stream is
 * kept, and one timer per window sends them all in one frame.
 *
 * Unsent acks are dropped with the session: the next `hello.resume` carries the same
 * positions.
 */
import type { StreamPosition } from '../protocol/index.js';
import type { Disposer, Scope } from '../env/index.js';

export class AckBatcher {
  readonly #scope: Scope;
  readonly #delayMs: number;
  readonly #send: (positions: readonly StreamPosition[]) => void;
  #pending = new Map<string, StreamPosition>();
  #timer: Disposer | null = null;

  constructor(scope: Scope, delayMs: number, send: (positions: readonly StreamPosition[]) => void) {
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

  /** Send what is pending now (before a deliberate close, for example). */
  flush(): void {
    this.#timer?.();
    this.#timer = null;
    if (this.#pending.size === 0) return;
    const positions = [...this.#pending.values()];
    this.#pending.clear();
    this.#send(positions);
  }
}
