/**
 * The typed events of a shared client's tab, with the same promises as the client's own:
 * a listener that throws is reported on `error` as a `CallbackError` (one on `error`
 * itself goes nowhere, it could loop), and delivery is never re-entrant — an event emitted
 * by a listener waits until the current one has reached every listener.
 */
import { CallbackError } from '../../protocol/index.js';
import type { ClientEvents } from '../types.js';

type Listener = (payload: never) => void;

export class TabEvents {
  private readonly listeners_ = new Map<keyof ClientEvents, Set<Listener>>();
  private readonly queue_: [keyof ClientEvents, unknown][] = [];
  private busy_ = false;

  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void) {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const wrapped: Listener = (payload) => listener(payload);
    const set = this.listeners_.get(event) ?? new Set();
    this.listeners_.set(event, set);
    set.add(wrapped);
    return (): void => void set.delete(wrapped);
  }

  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    this.queue_.push([event, payload]);
    if (this.busy_) return;
    this.busy_ = true;
    try {
      for (let next = this.queue_.shift(); next !== undefined; next = this.queue_.shift()) {
        const [name, value] = next;
        for (const listener of [...(this.listeners_.get(name) ?? [])]) {
          try {
            (listener as (payload: unknown) => void)(value);
          } catch (cause) {
            if (name !== 'error')
              this.queue_.push([
                'error',
                new CallbackError(`A "${name}" listener threw.`, { cause }),
              ]);
          }
        }
      }
    } finally {
      this.busy_ = false;
    }
  }
}
