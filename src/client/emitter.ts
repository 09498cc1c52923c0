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
  /**
   * Per event, its listeners as an array that is replaced, never changed: delivery
   * iterates the array it started with (listeners added or removed meanwhile take effect
   * next time) without copying it for every event.
   */
  private listeners_ = new Map<keyof Events, readonly Listener<never>[]>();
  /**
   * The event delivered last and its listeners (undefined: none), found without a Map
   * lookup: nearly every event is a `message`. Cleared whenever listeners change.
   */
  private lastEvent_: keyof Events | undefined;
  private lastListeners_: readonly Listener<never>[] | undefined;
  private queue_: { event: keyof Events; payload: unknown }[] = [];
  private draining_ = false;

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    if (typeof listener !== 'function')
      throw new TypeError(DEV ? 'listener must be a function' : 'listener');
    const listeners = this.listeners_.get(event) ?? [];
    // A function added again is wrapped, so each `on` is removed by its own disposer.
    // Only then: a wrapper is one more call (and object) per event for every listener.
    const entry = (
      listeners.includes(listener as Listener<never>)
        ? (payload: Events[K]) => listener(payload)
        : listener
    ) as Listener<never>;
    this.listeners_.set(event, [...listeners, entry]);
    this.lastEvent_ = undefined;
    return () => {
      const rest = (this.listeners_.get(event) ?? []).filter((l) => l !== entry);
      if (rest.length > 0) this.listeners_.set(event, rest);
      else this.listeners_.delete(event);
      this.lastEvent_ = undefined;
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    // Emitted by a listener: after the event being delivered, in order.
    if (this.draining_) {
      this.queue_.push({ event, payload });
      return;
    }
    this.draining_ = true;
    try {
      this.deliver_(event, payload);
      for (let next = this.queue_.shift(); next !== undefined; next = this.queue_.shift()) {
        this.deliver_(next.event, next.payload);
      }
    } finally {
      this.draining_ = false;
    }
  }

  private deliver_(event: keyof Events, payload: unknown): void {
    let listeners = this.lastListeners_;
    if (event !== this.lastEvent_) {
      listeners = this.listeners_.get(event);
      this.lastEvent_ = event;
      this.lastListeners_ = listeners;
    }
    if (listeners === undefined) return;
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as Listener<unknown>)(payload);
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
