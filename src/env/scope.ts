/**
 * A disposer scope: owns timers, listeners and child scopes, and releases all of them at
 * once. Every connection attempt, session and subscription gets one, so "close" can never
 * leave a timer behind, and a callback from a disposed scope never runs.
 */
import { clampDelay, type Clock, type TimerHandle } from './clock.js';

export type Disposer = () => void;

export class Scope {
  #disposers = new Set<Disposer>();
  #disposed = false;
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** Number of live resources (timers, listeners, children); for leak checks. */
  get size(): number {
    return this.#disposers.size;
  }

  /** Register a disposer; runs at once if the scope is already disposed. Returns a remover. */
  add(disposer: Disposer): Disposer {
    if (this.#disposed) {
      disposer();
      return () => {};
    }
    this.#disposers.add(disposer);
    return () => {
      this.#disposers.delete(disposer);
    };
  }

  /** A one-shot timer owned by this scope. Returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): Disposer {
    if (this.#disposed) return () => {};
    const cancel = (): void => {
      this.#disposers.delete(cancel);
      this.#clock.clearTimeout(handle);
    };
    const handle: TimerHandle = this.#clock.setTimeout(() => {
      this.#disposers.delete(cancel);
      if (!this.#disposed) fn();
    }, clampDelay(ms));
    this.#disposers.add(cancel);
    return cancel;
  }

  /** A timer that fires at an absolute time (ms since the epoch), robust to throttled timers. */
  setDeadline(fn: () => void, at: number): Disposer {
    return this.setTimeout(fn, at - this.#clock.now());
  }

  /** Add a listener to an event target and remove it when the scope is disposed. */
  listen<T>(
    target: {
      addEventListener(type: string, fn: (event: T) => void): void;
      removeEventListener(type: string, fn: (event: T) => void): void;
    },
    type: string,
    fn: (event: T) => void,
  ): Disposer {
    const guarded = (event: T): void => {
      if (!this.#disposed) fn(event);
    };
    target.addEventListener(type, guarded);
    return this.add(() => target.removeEventListener(type, guarded));
  }

  /** A child scope disposed with this one (or on its own, earlier). */
  child(): Scope {
    const child = new Scope(this.#clock);
    const remove = this.add(() => child.dispose());
    child.add(remove);
    return child;
  }

  /** Release everything, newest first. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const all = [...this.#disposers].reverse();
    this.#disposers.clear();
    for (const d of all) d();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
