/**
 * Typed errors of the SQLite store. Each has a stable `code` to switch on; the message
 * names the database file and says what to do, the `cause` keeps SQLite's own error.
 */

import { LifelineError, StoreErrorCode } from '../protocol/index.js';

export { StoreErrorCode };

/**
 * Base class of the SQLite store's errors: a {@link LifelineError} (no close code), so one
 * `instanceof LifelineError` covers what the gateway and its store throw.
 */
export class StoreError extends LifelineError {
  override readonly name: string = 'StoreError';

  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** The database could not be opened or prepared. Thrown by the factories. */
export class StoreOpenError extends StoreError {
  override readonly name = 'StoreOpenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(StoreErrorCode.OPEN, message, options);
  }
}

/** A method was called after `close()`. */
export class StoreClosedError extends StoreError {
  override readonly name = 'StoreClosedError';
  constructor(message: string) {
    super(StoreErrorCode.CLOSED, message);
  }
}

/** A group commit failed and was rolled back: every write in it rejects with this. */
export class StoreWriteError extends StoreError {
  override readonly name = 'StoreWriteError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(StoreErrorCode.WRITE, message, options);
  }
}

/** `read`, `head`, `trim` or `acked` failed in SQLite. */
export class StoreQueryError extends StoreError {
  override readonly name = 'StoreQueryError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(StoreErrorCode.QUERY, message, options);
  }
}

/**
 * Run a synchronous query as a promise: SQLite's exceptions become a rejected
 * {@link StoreQueryError}, errors that are already typed pass through.
 */
export function query<T>(what: string, run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (cause) {
    if (cause instanceof StoreError) return Promise.reject(cause);
    return Promise.reject(new StoreQueryError(`${what} failed: ${String(cause)}`, { cause }));
  }
}
