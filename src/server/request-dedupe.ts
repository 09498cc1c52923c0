/**
 * De-duplication of re-sent `request` frames (PROTOCOL.md §4). A client that lost its
 * connection before a reply arrived re-sends the request with the same id on its next
 * session; the handler must not run twice. Replies are remembered per user for a window
 * after they were produced, a bounded number per user, least recently used first out.
 *
 * A request still running is remembered as its promise, so a duplicate arriving meanwhile
 * waits for the same reply instead of starting a second run. One timer sweeps every
 * user's expired entries; it is armed only while something is remembered.
 */
import type { Disposer, Scope } from '../env/index.js';

interface Entry {
  /** The encoded `reply` frame, or the run producing it. */
  readonly reply: Promise<string>;
  /** When the entry is forgotten; `Infinity` while the run is in flight. */
  expiresAt: number;
}

export class RequestDedupe {
  readonly #scope: Scope;
  readonly #windowMs: number;
  readonly #maxEntriesPerUser: number;
  readonly #users = new Map<string, Map<string, Entry>>();
  #cancelSweep: Disposer | undefined;

  constructor(scope: Scope, options: { windowMs: number; maxEntriesPerUser: number }) {
    this.#scope = scope;
    this.#windowMs = options.windowMs;
    this.#maxEntriesPerUser = options.maxEntriesPerUser;
  }

  /** Users with at least one remembered request; for tests and monitoring. */
  get users(): number {
    return this.#users.size;
  }

  /**
   * The reply for request `key` of `user`: from `answer()` the first time within the
   * window, the remembered one afterwards. A run that fails is forgotten, so a retry
   * runs again.
   */
  run(user: string, key: string, answer: () => Promise<string>): Promise<string> {
    const now = this.#scope.clock.now();
    let entries = this.#users.get(user);
    const found = entries?.get(key);
    if (entries !== undefined && found !== undefined && found.expiresAt > now) {
      // Re-insert: Map order is the eviction order, least recently used first.
      entries.delete(key);
      entries.set(key, found);
      return found.reply;
    }
    if (entries === undefined) {
      entries = new Map();
      this.#users.set(user, entries);
    }
    const entry: Entry = { reply: answer(), expiresAt: Number.POSITIVE_INFINITY };
    entries.delete(key);
    entries.set(key, entry);
    for (const oldest of entries.keys()) {
      if (entries.size <= this.#maxEntriesPerUser) break;
      entries.delete(oldest);
    }
    entry.reply.then(
      () => {
        entry.expiresAt = this.#scope.clock.now() + this.#windowMs;
      },
      () => this.#forget(user, key, entry),
    );
    this.#armSweep();
    return entry.reply;
  }

  #forget(user: string, key: string, entry: Entry): void {
    const entries = this.#users.get(user);
    if (entries?.get(key) !== entry) return;
    entries.delete(key);
    if (entries.size === 0) this.#users.delete(user);
  }

  #armSweep(): void {
    if (this.#cancelSweep !== undefined) return;
    this.#cancelSweep = this.#scope.setTimeout(() => this.#sweep(), this.#windowMs);
  }

  #sweep(): void {
    this.#cancelSweep = undefined;
    const now = this.#scope.clock.now();
    for (const [user, entries] of this.#users) {
      for (const [key, entry] of entries) {
        if (entry.expiresAt <= now) entries.delete(key);
      }
      if (entries.size === 0) this.#users.delete(user);
    }
    if (this.#users.size > 0) this.#armSweep();
  }
}
