/**
 * Typed errors of the SQLite store. Each has a stable `code` to switch on; the message
 * names the database file and says what to do, the `cause` keeps SQLite's own error.
 */

export const StoreErrorCode = {
  /** The database could not be opened: missing directory, no permission, not a database, a newer schema. */
  OPEN: 'LIFELINE_ERR_STORE_OPEN',
  /** The store was used after `close()`. */
  CLOSED: 'LIFELINE_ERR_STORE_CLOSED',
  /** A commit failed; nothing of the batch was stored. */
  WRITE: 'LIFELINE_ERR_STORE_WRITE',
  /** A read, or the retention it applies, failed. */
  QUERY: 'LIFELINE_ERR_STORE_QUERY',
} as const;

export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** Base class of the SQLite store's errors. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
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
