/**
 * The last position of every stream, in one of two senses the client keeps apart:
 * received (what de-duplication, gap detection, `hello.resume` and `subscribe.from` use)
 * and delivered to the application (what `ack` and persisted positions carry). Without
 * batching the two are the same; with it, delivered trails received by one batch.
 */
import { MAX_POSITIONS, type StreamPosition } from '../protocol/index.js';

/** A stream's entry: updated in place as the stream advances, never handed out. */
interface Entry {
  stream: string;
  epoch: string;
  offset: number;
}

export class Positions {
  // Map order = least recently advanced first, so trimming keeps the freshest streams.
  private last_ = new Map<string, Entry>();
  /**
   * The entry of the stream set last: already at the end of the order, so no move is
   * needed, and found without a Map lookup. A client of one busy stream reads and writes
   * only this entry per message; the Map's table stays out of the CPU cache, which counts
   * when one process holds thousands of clients.
   */
  private newest_: Entry | undefined;

  /**
   * The stream's position. Read it at once: it is the live entry, which the next `set`
   * of the stream overwrites (no object is allocated per pushed message).
   */
  of(stream: string): StreamPosition | undefined {
    const newest = this.newest_;
    return newest !== undefined && newest.stream === stream ? newest : this.last_.get(stream);
  }

  /** Record `position` as the stream's newest. */
  set(position: StreamPosition): void {
    const { stream, epoch, offset } = position;
    // Moving a key to the end of a Map costs a delete and an insert: skip it for the
    // stream that is already newest, the common case of a busy stream.
    const newest = this.newest_;
    if (newest !== undefined && newest.stream === stream) {
      // The epoch is nearly always the one already held: keep that string rather than
      // point the (old) entry at each message's new copy, which the next young-generation
      // GC would then have to keep alive and copy, for every client in the process.
      if (newest.epoch !== epoch) newest.epoch = epoch;
      newest.offset = offset;
      return;
    }
    const entry = { stream, epoch, offset };
    this.last_.delete(stream);
    this.last_.set(stream, entry);
    this.newest_ = entry;
  }

  /** Move a stream to `position` (even backwards, after a resync), or forget it. */
  reset(stream: string, position: StreamPosition | undefined): void {
    if (position === undefined) {
      this.last_.delete(stream);
      if (this.newest_?.stream === stream) this.newest_ = undefined;
    } else this.set(position);
  }

  /** Copies of the freshest positions, newest last, at most `max`. */
  latest(max = MAX_POSITIONS): StreamPosition[] {
    const all = [...this.last_.values()];
    return all.slice(Math.max(0, all.length - max)).map((p) => ({ ...p }));
  }
}
