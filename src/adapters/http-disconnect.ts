/**
 * The body of `POST /api/disconnect`, validated with zod like the publish body: every
 * rejection names the field it is about.
 */
import { z } from 'zod';
import { MAX_NAME_LENGTH } from '../protocol/index.js';
import { HttpError, HttpErrorCode } from './http-errors.js';
import { describeIssue } from './http-publish.js';

const name = (what: string) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? 'is required' : `must be a ${what} string`),
    })
    .min(1, 'must not be empty')
    .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);

/** `POST /api/disconnect` request body. */
export const disconnectBodySchema = z.strictObject(
  {
    user: name('user id'),
    tenant: name('tenant id').optional(),
    session: name('session id').optional(),
  },
  {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a JSON object'),
  },
);

export type DisconnectBody = z.infer<typeof disconnectBodySchema>;

/**
 * Validate an untrusted JSON value as a disconnect request. Throws a 400
 * {@link HttpError} whose message names the first bad field (`field` holds its path).
 */
export function parseDisconnectBody(value: unknown): DisconnectBody {
  const result = disconnectBodySchema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const { field, text } =
    first === undefined ? { field: undefined, text: 'body is invalid' } : describeIssue(first);
  throw new HttpError(400, HttpErrorCode.BAD_REQUEST, `Invalid disconnect request: ${text}.`, {
    ...(field === undefined ? {} : { field }),
  });
}
