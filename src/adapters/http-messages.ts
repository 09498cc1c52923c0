/**
 * `GET /api/messages/:id`: the path and query of a message status request, validated
 * like every other route, naming the bad part.
 */
import { MAX_STATUS_LIMIT } from '../server/status.js';
import { HttpError, HttpErrorCode } from './http-errors.js';
import type { RequestTarget } from './http-request.js';

/** Path prefix of the message status route. */
export const MESSAGES_PREFIX = '/api/messages/';

/** Longest message id accepted; ids on the wire are at most 64 characters. */
const MAX_MESSAGE_ID_LENGTH = 64;

export interface MessageRequest {
  readonly id: string;
  /** `?limit=`, when given. */
  readonly limit: number | undefined;
}

/** Read the id and `?limit=` of a status request. Throws a 400 {@link HttpError}. */
export function parseMessageRequest(url: RequestTarget): MessageRequest {
  let id: string;
  try {
    id = decodeURIComponent(url.pathname.slice(MESSAGES_PREFIX.length));
  } catch {
    throw new HttpError(400, HttpErrorCode.BAD_REQUEST, 'The message id is not valid UTF-8.', {
      field: 'id',
    });
  }
  if (id === '' || id.includes('/') || id.length > MAX_MESSAGE_ID_LENGTH) {
    throw new HttpError(
      400,
      HttpErrorCode.BAD_REQUEST,
      `Use GET /api/messages/<message id> (at most ${MAX_MESSAGE_ID_LENGTH} characters).`,
      { field: 'id' },
    );
  }
  const raw = url.searchParams.get('limit');
  if (raw === null) return { id, limit: undefined };
  const limit = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_STATUS_LIMIT)) {
    throw new HttpError(
      400,
      HttpErrorCode.BAD_REQUEST,
      `limit must be an integer from 1 to ${MAX_STATUS_LIMIT}.`,
      { field: 'limit' },
    );
  }
  return { id, limit };
}
