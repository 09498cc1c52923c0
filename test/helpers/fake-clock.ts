/**
 * A manual clock for state-machine tests: time moves only when the test says so, and
 * `pendingTimers` makes "no timer left behind" an assertion.
 */
import { clampDelay, type Clock, type TimerHandle } from '../../src/env/index.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, Timer>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + clampDelay(ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Timers scheduled and neither fired nor cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** When the next timer fires, or undefined when none is pending. */
  get nextTimerAt(): number | undefined {
    return this.#next()?.at;
  }

  /**
   * Move time forward by `ms`, firing every timer that comes due on the way, in order —
   * including timers those timers schedule. Time stands at each timer's due time while it runs.
   */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let t = this.#next(); t !== undefined && t.at <= end; t = this.#next()) {
      this.#timers.delete(t.id);
      this.#now = Math.max(this.#now, t.at);
      t.fn();
    }
    this.#now = end;
  }

  /**
   * Move time forward WITHOUT firing timers, as when a laptop sleeps or a background tab is
   * throttled; overdue timers fire on the next {@link advance}.
   */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Like {@link advance}, but lets promise callbacks run after every timer. */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.#now + ms;
    await flushMicrotasks();
    for (let t = this.#next(); t !== undefined && t.at <= end; t = this.#next()) {
      this.#timers.delete(t.id);
      this.#now = Math.max(this.#now, t.at);
      t.fn();
      await flushMicrotasks();
    }
    this.#now = end;
  }

  #next(): Timer | undefined {
    let first: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (first === undefined || t.at < first.at || (t.at === first.at && t.id < first.id)) {
        first = t;
      }
    }
    return first;
  }
}

/** Let every queued promise callback (and the ones they queue) run. */
export function flushMicrotasks(): Promise<void> {
  // setImmediate runs after the microtask queue has drained completely.
  return new Promise((resolve) => setImmediate(resolve));
}
