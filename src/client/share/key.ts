/**
 * Which tabs may share a connection: those of one origin (the lock and the channel are
 * per origin already) talking to the same gateway URL as the same user. The user comes
 * from an explicit `shareKey`, or else from the token — the `sub` (and tenant) claims of
 * a JWT, read without verifying it: the key only keeps users apart, the gateway still
 * checks the token the leader sends.
 */
import { InvalidOptionError } from '../../protocol/index.js';
import type { TokenSource } from '../options.js';

/**
 * Prefix of the lock and channel names; the gateway URL and the user follow it. It names
 * the version of the messages tabs exchange (wire.ts): after a deploy, an old tab and a
 * new one do not understand each other, so they do not share (each version elects its own
 * leader) until the old tabs are reloaded.
 */
export const SHARE_NAME_PREFIX = 'lifeline:share:1:';

/** Claim read as the tenant, as the gateway's default `tenantClaim`. */
const TENANT_CLAIM = 'tenant';

/** The user a JWT names (`tenant/sub`, or `sub`), or undefined for anything else. */
export function userOfToken(token: string): string | undefined {
  const parts = token.split('.');
  const payload = parts.length === 3 ? parts[1] : undefined;
  if (payload === undefined || payload === '') return undefined;
  let claims: unknown;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null) return undefined;
  const { sub, [TENANT_CLAIM]: tenant } = claims as Record<string, unknown>;
  if (typeof sub !== 'string' || sub === '') return undefined;
  return typeof tenant === 'string' && tenant !== '' ? `${tenant}/${sub}` : sub;
}

/**
 * The name of the lock and the channel for `url` and this user. Rejects with
 * `InvalidOptionError` when the token is not a JWT and no `shareKey` says who the user is.
 */
export async function shareName(
  url: string,
  token: TokenSource | undefined,
  shareKey: string | undefined,
): Promise<string> {
  if (shareKey !== undefined) return `${SHARE_NAME_PREFIX}${url}#${shareKey}`;
  if (token === undefined) return `${SHARE_NAME_PREFIX}${url}#`;
  const value = typeof token === 'function' ? await token() : token;
  const user = typeof value === 'string' ? userOfToken(value) : undefined;
  if (user === undefined)
    throw new InvalidOptionError(
      'shareConnection needs to know the user: pass `shareKey`, or a JWT token with a `sub` claim.',
    );
  return `${SHARE_NAME_PREFIX}${url}#${user}`;
}
