/**
 * Routing index of open sessions: which sessions receive which stream. A session is
 * listed under its user's inbox stream and under the stream of every channel it
 * subscribed to, so publishing to any stream is one map lookup.
 *
 * The stream name doubles as the user key (`user:<tenant>/<user>`), which is why tenant
 * ids may not contain `/` (see publish validation).
 *
 * A stream with one receiver (the usual user inbox: one device online) maps straight to
 * that session; a Set is made only for the second receiver, since an idle gateway holds
 * one inbox per connection and memory per connection is what it scales by.
 */
import { USER_STREAM_PREFIX } from '../protocol/index.js';

export class Registry<S extends { readonly id: string }> {
  readonly #sessions = new Map<string, S>();
  readonly #streams = new Map<string, S | Set<S>>();
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
    const entry = this.#streams.get(stream);
    if (entry === undefined) {
      this.#streams.set(stream, session);
      if (stream.startsWith(USER_STREAM_PREFIX)) this.#userStreams++;
      return true;
    }
    if (entry === session) return false;
    if (!(entry instanceof Set)) {
      this.#streams.set(stream, new Set([entry, session]));
      return true;
    }
    if (entry.has(session)) return false;
    entry.add(session);
    return true;
  }

  unlisten(session: S, stream: string): void {
    const entry = this.#streams.get(stream);
    if (entry === undefined) return;
    if (entry instanceof Set) {
      if (!entry.delete(session) || entry.size > 0) return;
    } else if (entry !== session) {
      return;
    }
    // Empty entries are dropped at once: a gateway that saw a million users once must
    // not keep a million keys.
    this.#streams.delete(stream);
    if (stream.startsWith(USER_STREAM_PREFIX)) this.#userStreams--;
  }

  /** True when at least one session receives the stream. */
  has(stream: string): boolean {
    return this.#streams.has(stream);
  }

  /**
   * The sessions receiving a stream as the index holds them: the one session, a Set of
   * several, or `undefined`. Fan-out reads this to skip a lookup and an array per push;
   * iterating the Set while receivers are removed is safe, as with {@link receivers}.
   */
  route(stream: string): S | ReadonlySet<S> | undefined {
    return this.#streams.get(stream);
  }

  /**
   * The sessions receiving a stream. Removing receivers while iterating is safe (a set
   * skips deleted entries; a single receiver is a one-element array of its own), which
   * fan-out relies on when it closes a slow consumer in the middle of a broadcast.
   */
  receivers(stream: string): Iterable<S> {
    const entry = this.#streams.get(stream);
    if (entry === undefined) return EMPTY;
    return entry instanceof Set ? entry : [entry];
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

const EMPTY: readonly never[] = [];
