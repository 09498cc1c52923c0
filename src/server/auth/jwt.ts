/**
 * Built-in `authenticate`: verifies `hello.token` as a JWT with `jose`, either against a
 * shared HMAC secret or against the public keys of a JWKS URL (fetched and cached by
 * `jose`, refetched when a token names an unknown key id).
 *
 * Credentials problems become {@link AuthError} (close 4100, or 4101 when expired).
 * A JWKS endpoint that cannot be reached is the gateway's problem, not the client's: that
 * error is rethrown as is, so the session closes with 4008 and the client retries.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../env/index.js';
import { InvalidOptionError } from '../../protocol/index.js';
import { AuthError, type Authenticate, type Identity } from '../types.js';

/** Options of the built-in JWT verification. Give exactly one of `secret` and `jwksUrl`. */
export interface JwtOptions {
  /** Shared secret for HMAC-signed tokens (HS256 unless `algorithms` says otherwise). */
  readonly secret?: string | Uint8Array;
  /** URL of a JSON Web Key Set holding the public keys that sign tokens (RS256, ES256, …). */
  readonly jwksUrl?: string;
  /** Required `iss` claim (one of several, when an array). @default not checked */
  readonly issuer?: string | readonly string[];
  /** Required `aud` claim (one of several, when an array). @default not checked */
  readonly audience?: string | readonly string[];
  /**
   * Accepted `alg` header values.
   * @default ['HS256'] with `secret`; with `jwksUrl`, the algorithms the keys allow
   */
  readonly algorithms?: readonly string[];
  /** Claim holding the tenant id; a token without it has no tenant. @default 'tenant' */
  readonly tenantClaim?: string;
}

/** Default of {@link JwtOptions.tenantClaim}. */
export const DEFAULT_TENANT_CLAIM = 'tenant';

/** jose error codes that mean "the gateway could not verify", not "the token is bad". */
const INFRASTRUCTURE_ERRORS = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

type Key = Uint8Array | JWTVerifyGetKey;

function keyOf(options: JwtOptions): Key {
  const { secret, jwksUrl } = options;
  if ((secret === undefined) === (jwksUrl === undefined)) {
    throw new InvalidOptionError('jwt needs exactly one of `secret` and `jwksUrl`.');
  }
  if (secret !== undefined) {
    const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
    if (bytes.length === 0) throw new InvalidOptionError('jwt.secret must not be empty.');
    return bytes;
  }
  let url: URL;
  try {
    url = new URL(jwksUrl ?? '');
  } catch (cause) {
    throw new InvalidOptionError(`jwt.jwksUrl is not a valid URL: ${String(jwksUrl)}.`, { cause });
  }
  return createRemoteJWKSet(url);
}

function identityOf(payload: JWTPayload, tenantClaim: string): Identity {
  const { sub, exp } = payload;
  if (typeof sub !== 'string' || sub === '') throw new AuthError('token has no `sub` claim');
  const tenant = payload[tenantClaim];
  if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '')) {
    throw new AuthError(`token claim \`${tenantClaim}\` must be a non-empty string`);
  }
  return {
    userId: sub,
    ...(tenant === undefined ? {} : { tenantId: tenant }),
    // `exp` is in seconds (RFC 7519); the session is closed with 4101 when it passes.
    ...(exp === undefined ? {} : { expiresAt: exp * 1000 }),
    claims: payload,
  };
}

/** An {@link Authenticate} hook that verifies `hello.token` as a JWT. */
export function createJwtAuthenticate(options: JwtOptions, clock: Clock): Authenticate {
  const key = keyOf(options);
  const tenantClaim = options.tenantClaim ?? DEFAULT_TENANT_CLAIM;
  const algorithms = options.algorithms ?? (options.secret === undefined ? undefined : ['HS256']);
  const verifyOptions = {
    ...(options.issuer === undefined ? {} : { issuer: [options.issuer].flat() }),
    ...(options.audience === undefined ? {} : { audience: [options.audience].flat() }),
    ...(algorithms === undefined ? {} : { algorithms: [...algorithms] }),
  };

  return async ({ token }) => {
    if (token === undefined || token === '') throw new AuthError('hello carries no token');
    let payload: JWTPayload;
    try {
      // jwtVerify's overloads differ for a key and a key resolver; both are accepted here.
      ({ payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        ...verifyOptions,
        currentDate: new Date(clock.now()),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw new AuthError('token expired', { expired: true, cause: error });
      }
      if (error instanceof errors.JOSEError && !INFRASTRUCTURE_ERRORS.has(error.code)) {
        throw new AuthError(`token rejected: ${error.code}`, { cause: error });
      }
      throw error;
    }
    return identityOf(payload, tenantClaim);
  };
}
