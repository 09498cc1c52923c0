/**
 * JWT test helpers: HS256 tokens from a shared secret, and a local JWKS endpoint serving
 * the public half of a freshly generated key pair (RS256 or ES256).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';

export interface TokenOptions {
  /** `exp` claim, in seconds since the epoch. @default one hour from now */
  readonly exp?: number;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Sign `claims` with HS256. */
export function signHs256(
  secret: string,
  claims: JWTPayload,
  options: TokenOptions = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.exp ?? nowSeconds() + 3600)
    .sign(new TextEncoder().encode(secret));
}

export interface JwksServer extends AsyncDisposable {
  /** URL of the key set. */
  readonly url: string;
  /** How many times the key set was fetched. */
  readonly fetches: number;
  sign(claims: JWTPayload, options?: TokenOptions): Promise<string>;
}

/** Serve a one-key JWKS on 127.0.0.1 and sign tokens with the matching private key. */
export async function startJwksServer(alg: 'RS256' | 'ES256' = 'RS256'): Promise<JwksServer> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const kid = `test-${alg.toLowerCase()}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  let fetches = 0;
  const server = http.createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    sign: (claims, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg, kid })
        .setIssuedAt()
        .setExpirationTime(options.exp ?? nowSeconds() + 3600)
        .sign(privateKey),
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
