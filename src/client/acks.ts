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
  private readonly scope_: Scope;
  private readonly delayMs_: number;
  private readonly send_: AckSender;
  private pending_ = new Map<string, StreamPosition>();
  private timer_: Disposer | null = null;

  constructor(scope: Scope, delayMs: number, send: AckSender) {
    this.scope_ = scope;
    this.delayMs_ = delayMs;
    this.send_ = send;
  }

  /** Acknowledge `position` (and everything before it in its stream) within the window. */
  add(position: StreamPosition): void {
    this.pending_.set(position.stream, position);
    this.timer_ ??= this.scope_.setTimeout(() => {
      this.timer_ = null;
      this.flush();
    }, this.delayMs_);
  }

  /** Send what is pending now; without a session it stays pending and no timer runs. */
  flush(): void {
    this.timer_?.();
    this.timer_ = null;
    if (this.pending_.size === 0) return;
    const positions = [...this.pending_.values()];
    if (this.send_(positions)) this.pending_.clear();
  }
}
