/**
 * Typed errors shared by client and gateway. Each has a stable `code` string that
 * applications can switch on; messages are for humans and may change.
 */
import { CloseCode, closeClassOf, type CloseClass } from './codes.js';
import { DEV } from './dev.js';

export const ErrorCode = {
  /** A required environment capability (WebSocket, fetch, …) is missing. */
  UNSUPPORTED: 'LIFELINE_ERR_UNSUPPORTED',
  /** An option has an invalid value. */
  INVALID_OPTION: 'LIFELINE_ERR_INVALID_OPTION',
  /** The client could not (re)connect: attempts ran out, or a connection attempt failed. */
  CONNECT_FAILED: 'LIFELINE_ERR_CONNECT_FAILED',
  /** The gateway rejected the credentials. */
  AUTH_FAILED: 'LIFELINE_ERR_AUTH_FAILED',
  /** The credentials expired. */
  AUTH_EXPIRED: 'LIFELINE_ERR_AUTH_EXPIRED',
  /** No pong (or any other frame) arrived before the heartbeat deadline. */
  HEARTBEAT_TIMEOUT: 'LIFELINE_ERR_HEARTBEAT_TIMEOUT',
  /** The gateway or the network closed the connection. */
  CLOSED_BY_SERVER: 'LIFELINE_ERR_CLOSED_BY_SERVER',
  /** A newer session of the same user or device replaced this one. */
  REPLACED: 'LIFELINE_ERR_REPLACED',
  /** A frame broke the protocol. */
  PROTOCOL: 'LIFELINE_ERR_PROTOCOL',
  /** A frame was larger than the peer accepts. */
  FRAME_TOO_LARGE: 'LIFELINE_ERR_FRAME_TOO_LARGE',
  /** An operation did not complete in time. */
  TIMEOUT: 'LIFELINE_ERR_TIMEOUT',
  /** The client was closed while the operation was pending. */
  CLOSED: 'LIFELINE_ERR_CLOSED',
  /** The gateway answered a request with an error. */
  REQUEST_FAILED: 'LIFELINE_ERR_REQUEST_FAILED',
  /** A listener or hook supplied by the application threw. */
  CALLBACK: 'LIFELINE_ERR_CALLBACK',
  /** The client's outbox is full (by message count or by bytes); nothing was queued. */
  OUTBOX_FULL: 'LIFELINE_ERR_OUTBOX_FULL',
  /** The injected `storage` failed, or held positions that are not valid; they were ignored. */
  STORAGE: 'LIFELINE_ERR_STORAGE',
} as const;

/**
 * Codes of the gateway's SQLite store errors (`StoreError` and its subclasses in
 * `lifeline/server`). Kept apart from {@link ErrorCode} so the client bundles carry none of them.
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

/** Every code a {@link LifelineError} can carry. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode] | StoreErrorCode;

export interface LifelineErrorOptions {
  readonly cause?: unknown;
  /** The close code that produced this error, when there is one. */
  readonly closeCode?: number;
}

/** Base class of every error Lifeline throws, rejects with or emits. */
export class LifelineError extends Error {
  override readonly name: string = 'LifelineError';
  readonly code: ErrorCode;
  readonly closeCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: LifelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.closeCode = options.closeCode;
  }

  /** What a client should do after this error, when it came from a close. */
  get closeClass(): CloseClass | undefined {
    return this.closeCode === undefined ? undefined : closeClassOf(this.closeCode);
  }
}

export class UnsupportedError extends LifelineError {
  override readonly name = 'UnsupportedError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.UNSUPPORTED, message, options);
  }
}

export class InvalidOptionError extends LifelineError {
  override readonly name = 'InvalidOptionError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.INVALID_OPTION, message, options);
  }
}

export class ConnectFailedError extends LifelineError {
  override readonly name = 'ConnectFailedError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.CONNECT_FAILED, message, options);
  }
}

export class AuthFailedError extends LifelineError {
  override readonly name = 'AuthFailedError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.AUTH_FAILED, message, options);
  }
}

export class AuthExpiredError extends LifelineError {
  override readonly name = 'AuthExpiredError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.AUTH_EXPIRED, message, options);
  }
}

export class HeartbeatTimeoutError extends LifelineError {
  override readonly name = 'HeartbeatTimeoutError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.HEARTBEAT_TIMEOUT, message, options);
  }
}

export class ClosedByServerError extends LifelineError {
  override readonly name = 'ClosedByServerError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.CLOSED_BY_SERVER, message, options);
  }
}

export class ReplacedError extends LifelineError {
  override readonly name = 'ReplacedError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.REPLACED, message, options);
  }
}

export class ProtocolError extends LifelineError {
  override readonly name = 'ProtocolError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.PROTOCOL, message, options);
  }
}

export class FrameTooLargeError extends LifelineError {
  override readonly name = 'FrameTooLargeError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.FRAME_TOO_LARGE, message, options);
  }
}

export class TimeoutError extends LifelineError {
  override readonly name = 'TimeoutError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.TIMEOUT, message, options);
  }
}

export class ClientClosedError extends LifelineError {
  override readonly name = 'ClientClosedError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.CLOSED, message, options);
  }
}

export class RequestFailedError extends LifelineError {
  override readonly name = 'RequestFailedError';
  /** The `reply` error code sent by the gateway (`forbidden`, `handler_error`, …). */
  readonly replyCode: string;
  constructor(replyCode: string, message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.REQUEST_FAILED, message, options);
    this.replyCode = replyCode;
  }
}

export class CallbackError extends LifelineError {
  override readonly name = 'CallbackError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.CALLBACK, message, options);
  }
}

export class OutboxFullError extends LifelineError {
  override readonly name = 'OutboxFullError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.OUTBOX_FULL, message, options);
  }
}

export class StorageError extends LifelineError {
  override readonly name = 'StorageError';
  constructor(message: string, options?: LifelineErrorOptions) {
    super(ErrorCode.STORAGE, message, options);
  }
}

/**
 * The typed error a client reports for a close it did not ask for.
 * `reason` is the peer's close reason, kept in the message for diagnostics only; production
 * builds keep only that detail (the class and `code` say the rest).
 */
export function errorFromClose(code: number, reason: string): LifelineError {
  const detail = reason === '' ? `code ${code}` : `code ${code}: ${reason}`;
  const options = { closeCode: code };
  switch (code) {
    case CloseCode.AUTH_FAILED:
      return new AuthFailedError(
        DEV ? `The gateway rejected the credentials (${detail}).` : detail,
        options,
      );
    case CloseCode.AUTH_EXPIRED:
      return new AuthExpiredError(DEV ? `The credentials expired (${detail}).` : detail, options);
    case CloseCode.REPLACED:
      return new ReplacedError(
        DEV ? `A newer session replaced this one (${detail}).` : detail,
        options,
      );
    case CloseCode.HEARTBEAT_TIMEOUT:
      return new HeartbeatTimeoutError(DEV ? `Heartbeat lost (${detail}).` : detail, options);
    case CloseCode.PROTOCOL_ERROR:
    case CloseCode.UNSUPPORTED_VERSION:
      return new ProtocolError(
        DEV ? `The gateway reported a protocol error (${detail}).` : detail,
        options,
      );
    case CloseCode.FRAME_TOO_LARGE:
    case CloseCode.MESSAGE_TOO_BIG:
      return new FrameTooLargeError(
        DEV ? `A frame was too large for the gateway (${detail}).` : detail,
        options,
      );
    default:
      return new ClosedByServerError(
        DEV ? `The connection was closed (${detail}).` : detail,
        options,
      );
  }
}
