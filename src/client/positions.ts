/**
 * The last position of every stream, in one of two senses the client keeps apart:
 * received (what de-duplication, gap detection, `hello.resume` and `subscribe.from` use)
 * and delivered to the application (what `ack` and persisted positions carry). Without
 * batching the two are the same; with it, delivered trails received by one batch.
 */
import { MAX_POSITIONS, type StreamPosition } from '../protocol/index.js';

export class Positions {
  // Map order = least recently advanced first, so trimming keeps the freshest streams.
  private last_ = new Map<string, StreamPosition>();
  /** The stream set last: already at the end of the order, so no move is needed. */
  private newest_: string | undefined;

  of(stream: string): StreamPosition | undefined {
    return this.last_.get(stream);
  }

  /** Record `position` as the stream's newest. */
  set(position: StreamPosition): void {
    // Moving a key to the end of a Map costs a delete and an insert: skip it for the
    // stream that is already newest, the common case of a busy stream.
    if (this.newest_ !== position.stream) this.last_.delete(position.stream);
    this.newest_ = position.stream;
    this.last_.set(position.stream, {
      stream: position.stream,
      epoch: position.epoch,
      offset: position.offset,
    });
  }

  /** Move a stream to `position` (even backwards, after a resync), or forget it. */
  reset(stream: string, position: StreamPosition | undefined): void {
    if (position === undefined) {
      this.last_.delete(stream);
      if (this.newest_ === stream) this.newest_ = undefined;
    } else this.set(position);
  }

  /** The freshest positions, newest last, at most `max`. */
  latest(max = MAX_POSITIONS): StreamPosition[] {
    const all = [...this.last_.values()];
    return all.slice(Math.max(0, all.length - max));
  }
}
