/**
 * Errors and JSON responses of Lifeline's HTTP endpoints. Every error body has the same
 * shape, `{ error: { code, message } }`, so API clients switch on `code` and show `message`.
 */
import type { ServerResponse } from 'node:http';

/** Stable `error.code` strings of HTTP error responses. */
export const HttpErrorCode = {
  BAD_REQUEST: 'bad_request',
  INVALID_JSON: 'invalid_json',
  UNAUTHORIZED: 'unauthorized',
  NOT_FOUND: 'not_found',
  METHOD_NOT_ALLOWED: 'method_not_allowed',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  /** An idempotency key was reused for a different publish (422). */
  IDEMPOTENCY_KEY_REUSED: 'idempotency_key_reused',
  API_DISABLED: 'api_disabled',
  /** The gateway behind the API does not offer this route (501). */
  NOT_IMPLEMENTED: 'not_implemented',
  INTERNAL: 'internal_error',
} as const;

export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** `content-type` of every JSON response. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * An error that maps onto one HTTP response. Its message is shown to the caller, so it
 * must never carry internal error text.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly code: HttpErrorCode;
  /** Extra response headers (`Allow`, `WWW-Authenticate`, …). */
  readonly headers: Readonly<Record<string, string>>;
  /** The request field the message is about, when there is one (`to.channel`). */
  readonly field: string | undefined;

  constructor(
    status: number,
    code: HttpErrorCode,
    message: string,
    options: { headers?: Record<string, string>; field?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.field = options.field;
  }
}

/** Write a JSON response, unless the response was already sent or the socket is gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': String(Buffer.byteLength(text)),
    // API answers describe live state; a cached one is wrong by definition.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** Write the error response of an {@link HttpError}. */
export function sendHttpError(res: ServerResponse, error: HttpError): void {
  const body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
    },
  };
  sendJson(res, error.status, body, error.headers);
}

/** 405 with the `Allow` header listing what the route accepts. */
export function methodNotAllowed(allowed: readonly string[]): HttpError {
  return new HttpError(
    405,
    HttpErrorCode.METHOD_NOT_ALLOWED,
    `Method not allowed; use ${allowed.join(' or ')}.`,
    { headers: { allow: allowed.join(', ') } },
  );
}

/** 404 for a path no route serves. */
export function notFound(): HttpError {
  return new HttpError(404, HttpErrorCode.NOT_FOUND, 'No such resource.');
}
