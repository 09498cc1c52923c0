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
import type { Clock, Disposer, Scope } from '../env/index.js';

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
  private readonly scope_: Scope;
  private readonly options_: HeartbeatOptions;
  /** Read on every inbound frame: kept here rather than behind `scope_` and `options_`. */
  private readonly clock_: Clock;
  private readonly intervalMs_: number;
  private readonly hooks_: HeartbeatHooks;
  private nextPingAt_: number;
  private pongDeadline_: number | null = null;
  private timer_: { at: number; cancel: Disposer } | null = null;

  /** Starts at once; everything stops when `scope` is disposed. */
  constructor(scope: Scope, options: HeartbeatOptions, hooks: HeartbeatHooks) {
    this.scope_ = scope;
    this.options_ = options;
    this.hooks_ = hooks;
    this.clock_ = scope.clock;
    this.intervalMs_ = options.intervalMs;
    this.nextPingAt_ = scope.clock.now() + options.intervalMs;
    this.arm_();
  }

  /** Any inbound frame proves the connection alive. Deliberately does not re-arm. */
  activity(): void {
    this.pongDeadline_ = null;
    this.nextPingAt_ = this.clock_.now() + this.intervalMs_;
  }

  /**
   * Probe now (for example when a page becomes visible again after being hidden): send a
   * ping and expect an answer within `pongTimeoutMs`.
   */
  check(): void {
    this.ping_(this.scope_.clock.now());
    this.arm_();
  }

  private ping_(now: number): void {
    // Keep an earlier deadline: a second ping must not extend the wait for the first.
    this.pongDeadline_ ??= now + this.options_.pongTimeoutMs;
    this.nextPingAt_ = now + this.options_.intervalMs;
    this.hooks_.ping(now);
  }

  private due_(): number {
    return this.pongDeadline_ === null
      ? this.nextPingAt_
      : Math.min(this.nextPingAt_, this.pongDeadline_);
  }

  private arm_(): void {
    if (this.scope_.disposed) return;
    const at = this.due_();
    if (this.timer_ !== null) {
      if (this.timer_.at <= at) return; // fires early and re-arms then
      this.timer_.cancel();
    }
    this.timer_ = { at, cancel: this.scope_.setDeadline(() => this.fire_(), at) };
  }

  private fire_(): void {
    this.timer_ = null;
    const now = this.scope_.clock.now();
    if (this.pongDeadline_ !== null && now >= this.pongDeadline_) {
      this.hooks_.dead();
      return;
    }
    if (now >= this.nextPingAt_) this.ping_(now);
    // `ping` may have ended the session (a failed send); the scope then refuses new timers.
    this.arm_();
  }
}
