/**
 * Bearer-token check for the HTTP API. The comparison takes the same time whatever the
 * token is, so response timing reveals nothing about the key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError, HttpErrorCode } from './http-errors.js';

function digest(text: string): Buffer {
  // Hashing first gives both sides the same length, which `timingSafeEqual` requires,
  // without leaking the key's length through an early length check.
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header, if it has that form. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/** A checker bound to one API key; throws 401 {@link HttpError} for anything else. */
export function createBearerCheck(apiKey: string): (header: string | undefined) => void {
  const expected = digest(apiKey);
  return (header) => {
    const token = bearerToken(header);
    const ok = token !== undefined && timingSafeEqual(digest(token), expected);
    if (!ok) {
      throw new HttpError(
        401,
        HttpErrorCode.UNAUTHORIZED,
        token === undefined
          ? 'Missing API key: send Authorization: Bearer <api key>.'
          : 'Invalid API key.',
        {
          headers: {
            'www-authenticate':
              token === undefined
                ? 'Bearer realm="lifeline"'
                : 'Bearer realm="lifeline", error="invalid_token"',
          },
        },
      );
    }
  };
}
