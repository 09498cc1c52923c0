/**
 * Routing index of open sessions: which sessions receive which stream. A session is
 * listed under its user's inbox stream and under the stream of every channel it
 * subscribed to, so publishing to any stream is one map lookup.
 *
 * The stream name doubles as the user key (`user:<tenant>/<user>`), which is why tenant
 * ids may not contain `/` (see publish validation).
 */
import { USER_STREAM_PREFIX } from '../protocol/index.js';

export class Registry<S extends { readonly id: string }> {
  readonly #sessions = new Map<string, S>();
  readonly #streams = new Map<string, Set<S>>();
  #userStreams = 0;

  /** Register an open session under its id and its user stream. */
  add(session: S, userStream: string): void {
    this.#sessions.set(session.id, session);
    this.listen(session, userStream);
  }

  /** Forget a session, given every stream it is listed under. */
  remove(session: S, streams: Iterable<string>): void {
    this.#sessions.delete(session.id);
    for (const stream of streams) this.unlisten(session, stream);
  }

  /** List a session as a receiver of a stream. Returns false if it already was one. */
  listen(session: S, stream: string): boolean {
    let set = this.#streams.get(stream);
    if (set === undefined) {
      set = new Set();
      this.#streams.set(stream, set);
      if (stream.startsWith(USER_STREAM_PREFIX)) this.#userStreams++;
    }
    if (set.has(session)) return false;
    set.add(session);
    return true;
  }

  unlisten(session: S, stream: string): void {
    const set = this.#streams.get(stream);
    if (set === undefined || !set.delete(session)) return;
    if (set.size === 0) {
      // Empty sets are dropped at once: a gateway that saw a million users once must
      // not keep a million keys.
      this.#streams.delete(stream);
      if (stream.startsWith(USER_STREAM_PREFIX)) this.#userStreams--;
    }
  }

  /**
   * The sessions receiving a stream. A live view: deleting while iterating is safe
   * (JavaScript sets skip deleted entries), which fan-out relies on when it closes a slow
   * consumer in the middle of a broadcast.
   */
  receivers(stream: string): ReadonlySet<S> {
    return this.#streams.get(stream) ?? EMPTY;
  }

  get(id: string): S | undefined {
    return this.#sessions.get(id);
  }

  all(): IterableIterator<S> {
    return this.#sessions.values();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Users with at least one open session. */
  get users(): number {
    return this.#userStreams;
  }

  /** Channels with at least one subscriber. */
  get channels(): number {
    return this.#streams.size - this.#userStreams;
  }
}

const EMPTY: ReadonlySet<never> = new Set<never>();
