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
import { DEV } from '../env/index.js';

type Listener<T> = (payload: T) => void;

export class Emitter<Events extends { error: unknown }> {
  private listeners_ = new Map<keyof Events, Set<Listener<never>>>();
  private queue_: { event: keyof Events; payload: unknown }[] = [];
  private draining_ = false;

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    if (typeof listener !== 'function')
      throw new TypeError(DEV ? 'listener must be a function' : 'listener');
    let set = this.listeners_.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners_.set(event, set);
    }
    // Wrapped so the same function can be added twice and removed once per `on`.
    const entry: Listener<Events[K]> = (payload) => listener(payload);
    set.add(entry as Listener<never>);
    return () => {
      set.delete(entry as Listener<never>);
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    this.queue_.push({ event, payload });
    if (this.draining_) return;
    this.draining_ = true;
    try {
      for (let next = this.queue_.shift(); next !== undefined; next = this.queue_.shift()) {
        this.deliver_(next.event, next.payload);
      }
    } finally {
      this.draining_ = false;
    }
  }

  private deliver_(event: keyof Events, payload: unknown): void {
    const set = this.listeners_.get(event);
    if (set === undefined) return;
    // A snapshot: listeners added or removed during delivery take effect next time.
    for (const listener of [...set]) {
      try {
        (listener as Listener<unknown>)(payload);
      } catch (cause) {
        if (event === 'error') reportToHost(cause);
        else {
          const error = new CallbackError(
            DEV ? `A "${String(event)}" listener threw.` : String(event),
            { cause },
          );
          this.queue_.push({ event: 'error', payload: error });
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
