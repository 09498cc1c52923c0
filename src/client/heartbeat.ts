/**
 * Liveness of an open session (PROTOCOL.md §6). A half-open TCP connection never fires a
 * close event, so a missing answer to our ping is the only way to notice it.
 *
 * The state is two absolute times, `nextPingAt` and `pongDeadline`, and ONE timer armed
 * for the earlier of them. Inbound traffic only moves the times; it does not touch the
 * timer, so a busy session costs no timer churn. A timer that fires early re-arms for the
 * current times; one that fires late (a throttled background tab) finds the deadline
 * already passed and reports at once.
 */
import type { Disposer, Scope } from '../env/index.js';

export interface HeartbeatOptions {
  /** Ping after this long without inbound traffic, in ms. */
  readonly intervalMs: number;
  /** Declare the connection dead this long after a ping with no inbound traffic, in ms. */
  readonly pongTimeoutMs: number;
}

export interface HeartbeatHooks {
  /** Send a `ping` frame carrying `t`. */
  ping(t: number): void;
  /** Nothing arrived before the deadline. Called at most once. */
  dead(): void;
}

export class Heartbeat {
  readonly #scope: Scope;
  readonly #options: HeartbeatOptions;
  readonly #hooks: HeartbeatHooks;
  #nextPingAt: number;
  #pongDeadline: number | null = null;
  #timer: { at: number; cancel: Disposer } | null = null;

  /** Starts at once; everything stops when `scope` is disposed. */
  constructor(scope: Scope, options: HeartbeatOptions, hooks: HeartbeatHooks) {
    this.#scope = scope;
    this.#options = options;
    this.#hooks = hooks;
    this.#nextPingAt = scope.clock.now() + options.intervalMs;
    this.#arm();
  }

  /** Any inbound frame proves the connection alive. Deliberately does not re-arm. */
  activity(): void {
    this.#pongDeadline = null;
    this.#nextPingAt = this.#scope.clock.now() + this.#options.intervalMs;
  }

  /**
   * Probe now (for example when a page becomes visible again after being hidden): send a
   * ping and expect an answer within `pongTimeoutMs`.
   */
  check(): void {
    this.#ping(this.#scope.clock.now());
    this.#arm();
  }

  #ping(now: number): void {
    // Keep an earlier deadline: a second ping must not extend the wait for the first.
    this.#pongDeadline ??= now + this.#options.pongTimeoutMs;
    this.#nextPingAt = now + this.#options.intervalMs;
    this.#hooks.ping(now);
  }

  #due(): number {
    return this.#pongDeadline === null
      ? this.#nextPingAt
      : Math.min(this.#nextPingAt, this.#pongDeadline);
  }

  #arm(): void {
    if (this.#scope.disposed) return;
    const at = this.#due();
    if (this.#timer !== null) {
      if (this.#timer.at <= at) return; // fires early and re-arms then
      this.#timer.cancel();
    }
    this.#timer = { at, cancel: this.#scope.setDeadline(() => this.#fire(), at) };
  }

  #fire(): void {
    this.#timer = null;
    const now = this.#scope.clock.now();
    if (this.#pongDeadline !== null && now >= this.#pongDeadline) {
      this.#hooks.dead();
      return;
    }
    if (now >= this.#nextPingAt) this.#ping(now);
    // `ping` may have ended the session (a failed send); the scope then refuses new timers.
    this.#arm();
  }
}
