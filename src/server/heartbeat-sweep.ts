/**
 * Idle detection for every open session with ONE timer. Each session only records when
 * it last heard from its client (`lastSeen`); the sweep visits all sessions at the
 * earliest idle deadline, closes the ones past it, and re-arms itself for the next
 * earliest deadline. Ten thousand quiet sessions cost one timer and one pass per
 * deadline, not ten thousand timers re-armed on every frame.
 */
import type { Disposer, Scope } from '../env/index.js';

export interface SweptSession {
  /** When the client was last heard from (ms since the epoch). */
  readonly lastSeen: number;
  /** Close the session for being idle (4004). */
  expireIdle(): void;
}

export class HeartbeatSweep {
  readonly #scope: Scope;
  readonly #idleTimeoutMs: number;
  readonly #sessions: () => Iterable<SweptSession>;
  #cancel: Disposer | undefined;
  /** When the armed timer fires; any new deadline is at least this late (see `arm`). */
  #armedAt = Number.POSITIVE_INFINITY;

  constructor(scope: Scope, idleTimeoutMs: number, sessions: () => Iterable<SweptSession>) {
    this.#scope = scope;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#sessions = sessions;
  }

  /**
   * Make sure a session that was just opened will be checked. Its deadline is
   * now + idleTimeoutMs, no earlier than any deadline already known, so an armed timer
   * already covers it; only an idle gateway needs a new timer.
   */
  arm(lastSeen: number): void {
    this.#schedule(lastSeen + this.#idleTimeoutMs);
  }

  #schedule(at: number): void {
    if (this.#cancel !== undefined && this.#armedAt <= at) return;
    this.#cancel?.();
    this.#armedAt = at;
    this.#cancel = this.#scope.setDeadline(() => this.#sweep(), at);
  }

  #sweep(): void {
    this.#cancel = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#scope.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const session of this.#sessions()) {
      const deadline = session.lastSeen + this.#idleTimeoutMs;
      if (deadline <= now) session.expireIdle();
      else if (deadline < next) next = deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#schedule(next);
  }
}
