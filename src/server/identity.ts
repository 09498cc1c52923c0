/**
 * Rules for user and tenant ids, shared by authentication and publishing so that every
 * id a session can have is an id a backend can publish to, and the reverse.
 *
 * A user's inbox is the stream `user:<tenant>/<user>`, which is also the user's routing
 * key. A `/` in a tenant id would make two different (tenant, user) pairs share one
 * inbox, so tenant ids may not contain it. Stream names are capped like every name on
 * the wire (PROTOCOL.md §4–5).
 */
import { MAX_NAME_LENGTH, userStream } from '../protocol/index.js';
import type { Identity } from './types.js';

/** Why a user id (and tenant id) cannot be used, or `undefined` when they can. */
export function userProblem(user: unknown, tenant: unknown): string | undefined {
  if (typeof user !== 'string' || user === '' || user.length > MAX_NAME_LENGTH) {
    return `user id must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`;
  }
  if (tenant !== undefined) {
    if (typeof tenant !== 'string' || tenant === '' || tenant.includes('/')) {
      return 'tenant id must be a non-empty string without "/"';
    }
  }
  if (userStream(user, tenant as string | undefined).length > MAX_NAME_LENGTH) {
    return `the inbox stream name "user:<tenant>/<user>" must be at most ${MAX_NAME_LENGTH} characters`;
  }
  return undefined;
}

/** Why an identity returned by `authenticate` cannot be used, or `undefined`. */
export function identityProblem(identity: Identity): string | undefined {
  if (typeof identity !== 'object' || identity === null) return 'identity must be an object';
  const problem = userProblem(identity.userId, identity.tenantId);
  if (problem !== undefined) return problem;
  if (identity.expiresAt !== undefined && !Number.isFinite(identity.expiresAt)) {
    return 'expiresAt must be a number of ms since the epoch';
  }
  if (
    identity.claims !== undefined &&
    (typeof identity.claims !== 'object' || identity.claims === null)
  ) {
    return 'claims must be an object';
  }
  return undefined;
}
