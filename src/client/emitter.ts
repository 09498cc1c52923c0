/**
 * Typed events for application listeners.
 *
 * Two guarantees the engine relies on:
 * - A listener that throws never unwinds into the engine: the error is reported on `error`
 *   as a {@link CallbackError}. An `error` listener that throws is not reported on `error`
 *   again (that could loop forever); it goes to the host's `reportError` when there is one.
 * - Delivery is never re-entrant. An event emitted while listeners run (a `state` listener
 *   calling `close()`, say) is queued and delivered after the current one, so every
 *   listener sees events in the order they happened.
 */
import { CallbackError } from '../protocol/index.js';

type Listener<T> = (payload: T) => void;

export class Emitter<Events extends { error: unknown }> {
  #listeners = new Map<keyof Events, Set<Listener<never>>>();
  #queue: { event: keyof Events; payload: unknown }[] = [];
  #draining = false;

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    // Wrapped so the same function can be added twice and removed once per `on`.
    const entry: Listener<Events[K]> = (payload) => listener(payload);
    set.add(entry as Listener<never>);
    return () => {
      set.delete(entry as Listener<never>);
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    this.#queue.push({ event, payload });
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
        this.#deliver(next.event, next.payload);
      }
    } finally {
      this.#draining = false;
    }
  }

  #deliver(event: keyof Events, payload: unknown): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    // A snapshot: listeners added or removed during delivery take effect next time.
    for (const listener of [...set]) {
      try {
        (listener as Listener<unknown>)(payload);
      } catch (cause) {
        if (event === 'error') reportToHost(cause);
        else {
          const error = new CallbackError(`A "${String(event)}" listener threw.`, { cause });
          this.#queue.push({ event: 'error', payload: error });
        }
      }
    }
  }
}

function reportToHost(error: unknown): void {
  const host = globalThis as { reportError?: (error: unknown) => void };
  if (typeof host.reportError !== 'function') return;
  try {
    host.reportError(error);
  } catch {
    // Nothing is left to tell.
  }
}
