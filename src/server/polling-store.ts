/**
 * Where the gateway finds a polling session by its id. Today every session lives in the
 * memory of the node that opened it ({@link createMemoryPollingSessionStore}); the seam
 * exists so that the scale-out work can put a shared store behind it (PROTOCOL.md §11.6
 * lists what such a store has to hold).
 */

export interface PollingSessionStore<S> {
  get(id: string): S | undefined;
  set(id: string, session: S): void;
  delete(id: string): void;
  values(): Iterable<S>;
  readonly size: number;
}

/** A store in this process's memory: polling requests must reach the node that opened the session. */
export function createMemoryPollingSessionStore<S>(): PollingSessionStore<S> {
  const sessions = new Map<string, S>();
  return {
    get: (id) => sessions.get(id),
    set: (id, session) => void sessions.set(id, session),
    delete: (id) => void sessions.delete(id),
    values: () => sessions.values(),
    get size() {
      return sessions.size;
    },
  };
}
