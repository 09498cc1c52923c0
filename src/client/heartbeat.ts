/**
 * Liveness of an open session (PROTOCOL.md §6). A half-open TCP connection never fires a
 * close event, so a missing answer to our ping is the only way to notice it.
 *
 * The state is two absolute times, `nextPingAt` and `pongDeadline`, and ONE timer armed
 * for the earlier of them. Inbound traffic does not even reach this object: the client
 * counts frames and notes when the last one arrived (on its link, which every frame
 * touches anyway), and the heartbeat reads that when its timer fires or a check starts.
 * So a busy session costs no timer churn, and no write here per frame. A timer that fires
 * early re-arms for the current times; one that fires late (a throttled background tab)
 * finds the deadline already passed and reports at once.
 */
import type { Disposer, Scope } from '../env/index.js';

export interface HeartbeatOptions {
  /** Ping after this long without inbound traffic, in ms. */
  readonly intervalMs: number;
  /** Declare the connection dead this long after a ping with no inbound traffic, in ms. */
  readonly pongTimeoutMs: number;
}

/** Inbound traffic as the client records it, per frame. */
export interface Heard {
  /** Frames received so far. */
  readonly frames: number;
  /** When the last of them arrived (clock time), if any did. */
  readonly lastAt: number;
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
  private readonly heard_: Heard;
  private readonly hooks_: HeartbeatHooks;
  /** `heard_.frames` when this last looked: a higher count means frames arrived since. */
  private framesSeen_: number;
  private nextPingAt_: number;
  private pongDeadline_: number | null = null;
  private timer_: { at: number; cancel: Disposer } | null = null;

  /**
   * Starts at once; everything stops when `scope` is disposed. `heard` is read, never
   * written: the client updates it for every inbound frame.
   */
  constructor(scope: Scope, options: HeartbeatOptions, heard: Heard, hooks: HeartbeatHooks) {
    this.scope_ = scope;
    this.options_ = options;
    this.heard_ = heard;
    this.hooks_ = hooks;
    this.framesSeen_ = heard.frames;
    this.nextPingAt_ = scope.clock.now() + options.intervalMs;
    this.arm_();
  }

  /**
   * Probe now (for example when a page becomes visible again after being hidden): send a
   * ping and expect an answer within `pongTimeoutMs`.
   */
  check(): void {
    this.catchUp_();
    this.ping_(this.scope_.clock.now());
    this.arm_();
  }

  /**
   * Take in the frames that arrived since the last look: any of them proves the
   * connection alive (clearing a pong deadline) and moves the next ping to one interval
   * after the last. Counted, not timed: a pong in the very millisecond of its ping counts.
   */
  private catchUp_(): void {
    const { frames, lastAt } = this.heard_;
    if (frames === this.framesSeen_) return;
    this.framesSeen_ = frames;
    this.pongDeadline_ = null;
    this.nextPingAt_ = lastAt + this.options_.intervalMs;
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
    this.catchUp_();
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
