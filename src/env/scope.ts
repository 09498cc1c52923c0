/**
 * A disposer scope: owns timers, listeners and child scopes, and releases all of them at
 * once. Every connection attempt, session and subscription gets one, so "close" can never
 * leave a timer behind, and a callback from a disposed scope never runs.
 */
import { clampDelay, type Clock, type TimerHandle } from './clock.js';

export type Disposer = () => void;

export class Scope {
  private disposers_ = new Set<Disposer>();
  private disposed_ = false;
  private readonly clock_: Clock;

  constructor(clock: Clock) {
    this.clock_ = clock;
  }

  get disposed(): boolean {
    return this.disposed_;
  }

  get clock(): Clock {
    return this.clock_;
  }

  /** Register a disposer; runs at once if the scope is already disposed. Returns a remover. */
  add(disposer: Disposer): Disposer {
    if (this.disposed_) {
      disposer();
      return () => {};
    }
    this.disposers_.add(disposer);
    return () => {
      this.disposers_.delete(disposer);
    };
  }

  /** A one-shot timer owned by this scope. Returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): Disposer {
    if (this.disposed_) return () => {};
    const cancel = (): void => {
      this.disposers_.delete(cancel);
      this.clock_.clearTimeout(handle);
    };
    const handle: TimerHandle = this.clock_.setTimeout(() => {
      this.disposers_.delete(cancel);
      if (!this.disposed_) fn();
    }, clampDelay(ms));
    this.disposers_.add(cancel);
    return cancel;
  }

  /** A timer that fires at an absolute time (ms since the epoch), robust to throttled timers. */
  setDeadline(fn: () => void, at: number): Disposer {
    return this.setTimeout(fn, at - this.clock_.now());
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
      if (!this.disposed_) fn(event);
    };
    target.addEventListener(type, guarded);
    return this.add(() => target.removeEventListener(type, guarded));
  }

  /** A child scope disposed with this one (or on its own, earlier). */
  child(): Scope {
    const child = new Scope(this.clock_);
    const remove = this.add(() => child.dispose());
    child.add(remove);
    return child;
  }

  /** Release everything, newest first. Idempotent. */
  dispose(): void {
    if (this.disposed_) return;
    this.disposed_ = true;
    const all = [...this.disposers_].reverse();
    this.disposers_.clear();
    for (const d of all) d();
  }
}
