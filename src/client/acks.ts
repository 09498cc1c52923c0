/**
 * Coalesced, cumulative acknowledgements. Acking offset n of a stream acknowledges
 * everything before it, so only the newest position per stream is kept, and one timer
 * sends them all. Each position comes with the longest it may wait (channel streams wait
 * longer than the user's own); the timer runs for the shortest of them, and whatever else
 * is pending rides along in the same frame.
 *
 * The batcher belongs to the client, not to a session: a message handed to the
 * application while no session is open (a batch delivered during a reconnect) is
 * acknowledged once the next session opens.
 */
import type { StreamPosition } from '../protocol/index.js';
import type { Disposer, Scope } from '../env/index.js';

/** Sends positions in `ack` frames; false when no session is open to take them. */
export type AckSender = (positions: readonly StreamPosition[]) => boolean;

interface Pending {
  stream: string;
  epoch: string;
  offset: number;
}

export class AckBatcher {
  private readonly scope_: Scope;
  private readonly send_: AckSender;
  /** Copies owned here: updated in place while pending, handed out by `flush`. */
  private pending_ = new Map<string, Pending>();
  /** The pending entry acknowledged last, found without a Map lookup (see `Positions`). */
  private last_: Pending | undefined;
  private timer_: Disposer | null = null;
  /** The delay the running timer was armed with. */
  private timerMs_ = 0;

  constructor(scope: Scope, send: AckSender) {
    this.scope_ = scope;
    this.send_ = send;
  }

  /** Acknowledge `position` (and everything before it in its stream) within `delayMs`. */
  add(position: StreamPosition, delayMs: number): void {
    const { stream, epoch, offset } = position;
    const last = this.last_;
    const pending = last !== undefined && last.stream === stream ? last : this.pending_.get(stream);
    // No allocation per message: a pending position is moved forward in place.
    if (pending === undefined) {
      const entry = { stream, epoch, offset };
      this.pending_.set(stream, entry);
      this.last_ = entry;
    } else {
      if (pending.epoch !== epoch) pending.epoch = epoch; // the held string, as in `Positions`
      pending.offset = offset;
      this.last_ = pending;
    }
    if (this.timer_ !== null) {
      // A shorter delay re-arms the timer; what was pending leaves with it (a longer
      // window may so run over by at most this delay).
      if (delayMs >= this.timerMs_) return;
      this.timer_();
    }
    this.timerMs_ = delayMs;
    this.timer_ = this.scope_.setTimeout(() => {
      this.timer_ = null;
      this.flush();
    }, delayMs);
  }

  /** Send what is pending now; without a session it stays pending and no timer runs. */
  flush(): void {
    this.timer_?.();
    this.timer_ = null;
    if (this.pending_.size === 0) return;
    const positions = [...this.pending_.values()];
    if (!this.send_(positions)) return;
    this.pending_.clear();
    this.last_ = undefined;
  }
}
