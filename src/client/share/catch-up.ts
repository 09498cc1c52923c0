/**
 * Catching up a tab that was away. A tab leaves on `pagehide` (the back/forward cache must
 * not hold the connection) and the checkpoint moves on without it, so when it comes back
 * the gateway will not replay what it missed meanwhile. The leader keeps the last message
 * events it broadcast; a tab that comes back says what it had shown per stream, and the
 * leader's welcome carries what it missed, which the tab runs through its usual
 * de-duplication. What the leader no longer holds is announced as a `resync` of the stream
 * (`trimmed`), so the application re-fetches instead of silently missing messages.
 */
import type { StreamPosition } from '../../protocol/index.js';
import type { PushMessage } from '../types.js';
import type { SharedEvent } from './wire.js';

type Kept = Extract<SharedEvent, { ev: 'message' | 'messages' | 'resync' }>;

const sizeOf = (event: Kept): number => (event.ev === 'messages' ? event.messages.length : 1);

export class RecentEvents {
  private readonly limit_: number;
  private events_: Kept[] = [];
  /** Messages held (a batch counts each of its messages; a resync counts one). */
  private held_ = 0;

  /** Keep the events of at most `limit` messages. */
  constructor(limit: number) {
    this.limit_ = limit;
  }

  add(event: SharedEvent): void {
    if (event.ev !== 'message' && event.ev !== 'messages' && event.ev !== 'resync') return;
    this.events_.push(event);
    this.held_ += sizeOf(event);
    while (this.held_ > this.limit_ && this.events_.length > 0)
      this.held_ -= sizeOf(this.events_.shift() as Kept);
  }

  /**
   * What a tab that last showed `since` (one position per stream it wants) missed, given
   * the newest position the leader handed over per stream (`heads`): a `resync` where the
   * events kept do not reach back to its position, then the kept events of its streams.
   */
  catchUp(
    since: readonly StreamPosition[],
    heads: ReadonlyMap<string, StreamPosition>,
  ): SharedEvent[] {
    const streams = new Set(since.map((p) => p.stream));
    const replay: SharedEvent[] = [];
    for (const p of since) {
      const head = heads.get(p.stream);
      if (head === undefined || (head.epoch === p.epoch && head.offset <= p.offset)) continue;
      const first = this.oldest_(p.stream);
      if (first !== undefined && first.epoch === p.epoch && first.offset <= p.offset + 1) continue;
      const position =
        first === undefined
          ? { stream: p.stream, epoch: head.epoch, offset: head.offset }
          : { stream: p.stream, epoch: first.epoch, offset: first.offset - 1 };
      replay.push({
        ev: 'resync',
        resync: { stream: p.stream, recovered: false, reason: 'trimmed', position },
      });
    }
    for (const event of this.events_) {
      if (event.ev === 'message') {
        if (streams.has(event.message.stream)) replay.push(event);
      } else if (event.ev === 'messages') {
        const messages = event.messages.filter((m) => streams.has(m.stream));
        if (messages.length > 0) replay.push({ ev: 'messages', messages });
      } else if (streams.has(event.resync.stream)) replay.push(event);
    }
    return replay;
  }

  private oldest_(stream: string): PushMessage | undefined {
    for (const event of this.events_) {
      if (event.ev === 'message' && event.message.stream === stream) return event.message;
      if (event.ev === 'messages') {
        const m = event.messages.find((x) => x.stream === stream);
        if (m !== undefined) return m;
      }
    }
    return undefined;
  }
}
