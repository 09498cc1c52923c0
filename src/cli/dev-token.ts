/**
 * Routes that exist only under `lifeline serve --dev`, for the demo page and for trying
 * Lifeline by hand:
 *
 * - `POST /dev/token` `{ "user": "alice" }` → `{ token, expiresAt }`: an HS256 JWT for any
 *   user, signed with the server's secret (`sub` = user, one hour).
 * - `GET /dev/config` → `{ apiKey, path }`: what the demo page needs to publish and connect.
 *
 * Both hand out credentials to anyone who asks, which is the point in development and
 * why they are never mounted without `--dev`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import type { HttpHandler } from '../adapters/http-api.js';
import { readJsonBody } from '../adapters/http-body.js';
import {
  HttpError,
  HttpErrorCode,
  methodNotAllowed,
  sendHttpError,
  sendJson,
} from '../adapters/http-errors.js';
import { requestTarget } from '../adapters/http-request.js';

/** How long a dev token is valid, in seconds. */
export const DEV_TOKEN_TTL_SECONDS = 3600;
/** User names `/dev/token` accepts: letters, digits and `_ . @ -`, 1 to 64 characters. */
export const DEV_USER_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
/** Largest `/dev/token` body, in bytes. */
const DEV_BODY_BYTES = 4096;

export interface DevRoutesOptions {
  /** HS256 secret, the same string the gateway verifies tokens with. */
  readonly jwtSecret: string;
  /** API key the demo page publishes with; `undefined` when the API is disabled. */
  readonly apiKey: string | undefined;
  /** WebSocket path the page connects to. */
  readonly path: string;
  /**
   * Token lifetime, in seconds.
   * @default DEV_TOKEN_TTL_SECONDS (3600)
   */
  readonly tokenTtlSeconds?: number;
}

/** Sign a dev token for `user`. */
export async function signDevToken(
  secret: string,
  user: string,
  ttlSeconds = DEV_TOKEN_TTL_SECONDS,
): Promise<{ token: string; expiresAt: number }> {
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAtSeconds = issuedAt + ttlSeconds;
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAtSeconds)
    .sign(new TextEncoder().encode(secret));
  return { token, expiresAt: expiresAtSeconds * 1000 };
}

function userOf(body: unknown): string {
  const user =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)['user']
      : undefined;
  if (typeof user !== 'string' || !DEV_USER_PATTERN.test(user)) {
    throw new HttpError(
      400,
      HttpErrorCode.BAD_REQUEST,
      'user must be 1 to 64 letters, digits or "_ . @ -".',
      { field: 'user' },
    );
  }
  return user;
}

/** The `/dev/*` handler. */
export function createDevRoutes(options: DevRoutesOptions): HttpHandler {
  const ttl = options.tokenTtlSeconds ?? DEV_TOKEN_TTL_SECONDS;

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw methodNotAllowed(['POST']);
    const user = userOf(await readJsonBody(req, DEV_BODY_BYTES));
    sendJson(res, 200, await signDevToken(options.jwtSecret, user, ttl));
  }

  function config(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(['GET', 'HEAD']);
    sendJson(res, 200, { apiKey: options.apiKey ?? null, path: options.path });
  }

  return (req, res) => {
    const { pathname } = requestTarget(req.url);
    if (pathname !== '/dev/token' && pathname !== '/dev/config') return false;
    const run = async (): Promise<void> => {
      if (pathname === '/dev/token') await token(req, res);
      else config(req, res);
    };
    return run().then(
      () => true,
      (error: unknown) => {
        if (!(error instanceof HttpError)) throw error;
        sendHttpError(res, error);
        return true;
      },
    );
  };
}
