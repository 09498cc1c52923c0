/**
 * The last delivered position of every stream. It de-duplicates pushes (a message can
 * arrive twice: replayed after a resume and pushed live) and is what `hello.resume`,
 * `subscribe.from` and `ack` carry.
 */
import { MAX_POSITIONS, type StreamPosition } from '../protocol/index.js';

export class Positions {
  // Map order = least recently advanced first, so trimming keeps the freshest streams.
  #last = new Map<string, StreamPosition>();

  /**
   * Record `position` if it is new. Returns false for a duplicate: at or below the last
   * delivered offset of the same epoch. A different epoch means the stream's history was
   * reset; its offsets start over and are accepted.
   */
  advance(position: StreamPosition): boolean {
    const last = this.#last.get(position.stream);
    if (last !== undefined && last.epoch === position.epoch && position.offset <= last.offset) {
      return false;
    }
    this.#last.delete(position.stream);
    this.#last.set(position.stream, {
      stream: position.stream,
      epoch: position.epoch,
      offset: position.offset,
    });
    return true;
  }

  of(stream: string): StreamPosition | undefined {
    return this.#last.get(stream);
  }

  /** Forget everything: after a `resync` close the positions can no longer be trusted. */
  clear(): void {
    this.#last.clear();
  }

  get size(): number {
    return this.#last.size;
  }

  /** The freshest positions, newest last, at most `max`. */
  latest(max = MAX_POSITIONS): StreamPosition[] {
    const all = [...this.#last.values()];
    return all.slice(Math.max(0, all.length - max));
  }
}
