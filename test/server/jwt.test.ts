import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AuthError,
  CloseCode,
  InvalidOptionError,
  createJwtAuthenticate,
} from '../../src/entries/server.js';
import { systemClock } from '../../src/env/index.js';
import { signHs256, startJwksServer } from '../helpers/jwt.js';
import { assertClosedWith, startGateway } from './fixtures.js';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const connection = { remoteAddress: undefined, headers: {}, transport: 'websocket' as const };

test('HS256: the sub claim becomes the user id', async () => {
  await using fx = await startGateway({ jwt: { secret: SECRET } });
  const token = await signHs256(SECRET, { sub: 'alice' });
  const { welcome } = await fx.open(token);
  assert.equal(welcome['user'], 'alice');
  const [session] = fx.gateway.sessions({ user: 'alice' });
  assert.equal(session?.userId, 'alice');
  assert.equal(session?.claims['sub'], 'alice');
});

test('HS256: the tenant claim scopes the user', async () => {
  await using fx = await startGateway({ jwt: { secret: SECRET } });
  await fx.open(await signHs256(SECRET, { sub: 'alice', tenant: 'acme' }));
  assert.equal(fx.gateway.sessions({ user: 'alice' }).length, 0);
  assert.equal(fx.gateway.sessions({ user: 'alice', tenant: 'acme' }).length, 1);
});

test('a JWT signed with another secret closes with 4100', async () => {
  await using fx = await startGateway({ jwt: { secret: SECRET } });
  const client = await fx.connect();
  client.send({
    type: 'hello',
    token: await signHs256('another-secret-another-secret-xx', { sub: 'a' }),
  });
  await assertClosedWith(client, CloseCode.AUTH_FAILED);
});

test('a JWT without sub, or no token at all, closes with 4100', async () => {
  await using fx = await startGateway({ jwt: { secret: SECRET } });
  const noSub = await fx.connect();
  noSub.send({ type: 'hello', token: await signHs256(SECRET, {}) });
  await assertClosedWith(noSub, CloseCode.AUTH_FAILED);
  const noToken = await fx.connect();
  noToken.send({ type: 'hello' });
  await assertClosedWith(noToken, CloseCode.AUTH_FAILED);
});

test('an expired JWT closes with 4101', async () => {
  await using fx = await startGateway({ jwt: { secret: SECRET } });
  const client = await fx.connect();
  client.send({
    type: 'hello',
    token: await signHs256(SECRET, { sub: 'a' }, { exp: nowSeconds() - 10 }),
  });
  await assertClosedWith(client, CloseCode.AUTH_EXPIRED);
});

test('issuer and audience are enforced when configured', async () => {
  await using fx = await startGateway({
    jwt: { secret: SECRET, issuer: 'lifeline-test', audience: 'push' },
  });
  const wrong = await fx.connect();
  wrong.send({
    type: 'hello',
    token: await signHs256(SECRET, { sub: 'a', iss: 'other', aud: 'push' }),
  });
  await assertClosedWith(wrong, CloseCode.AUTH_FAILED);
  await fx.open(await signHs256(SECRET, { sub: 'a', iss: 'lifeline-test', aud: 'push' }));
});

test('the JWT exp becomes the session expiry', async () => {
  const authenticate = createJwtAuthenticate({ secret: SECRET }, systemClock);
  const exp = nowSeconds() + 120;
  const identity = await authenticate({
    token: await signHs256(SECRET, { sub: 'alice', tenant: 'acme' }, { exp }),
    device: undefined,
    connection,
  });
  assert.equal(identity.userId, 'alice');
  assert.equal(identity.tenantId, 'acme');
  assert.equal(identity.expiresAt, exp * 1000);
});

test('the JWT verifier reads time from the injected clock', async () => {
  const exp = nowSeconds() + 60;
  const token = await signHs256(SECRET, { sub: 'a' }, { exp });
  const later = { ...systemClock, now: () => (exp + 5) * 1000 };
  const authenticate = createJwtAuthenticate({ secret: SECRET }, later);
  await assert.rejects(
    Promise.resolve(authenticate({ token, device: undefined, connection })),
    (error) => error instanceof AuthError && error.expired,
  );
});

for (const alg of ['RS256', 'ES256'] as const) {
  test(`JWKS URL: ${alg} tokens verify against keys fetched from the URL`, async () => {
    await using jwks = await startJwksServer(alg);
    await using fx = await startGateway({ jwt: { jwksUrl: jwks.url } });
    const { welcome } = await fx.open(await jwks.sign({ sub: `user-${alg}` }));
    assert.equal(welcome['user'], `user-${alg}`);
    assert.ok(jwks.fetches >= 1);
    // An HS256 token must not pass against a key set of public keys.
    const forged = await fx.connect();
    forged.send({ type: 'hello', token: await signHs256(SECRET, { sub: 'mallory' }) });
    await assertClosedWith(forged, CloseCode.AUTH_FAILED);
  });
}

test('an unreachable JWKS URL is the gateway’s failure (4008), not the client’s', async () => {
  let url: string;
  let token: string;
  {
    await using jwks = await startJwksServer('ES256');
    url = jwks.url;
    token = await jwks.sign({ sub: 'a' });
  }
  await using fx = await startGateway({ jwt: { jwksUrl: url } });
  const client = await fx.connect();
  client.send({ type: 'hello', token });
  await assertClosedWith(client, CloseCode.SERVER_ERROR);
});

test('jwt options are validated', () => {
  assert.throws(() => createJwtAuthenticate({}, systemClock), InvalidOptionError);
  assert.throws(
    () => createJwtAuthenticate({ secret: 's', jwksUrl: 'http://x' }, systemClock),
    InvalidOptionError,
  );
  assert.throws(
    () => createJwtAuthenticate({ jwksUrl: 'not a url' }, systemClock),
    InvalidOptionError,
  );
  assert.throws(() => createJwtAuthenticate({ secret: '' }, systemClock), InvalidOptionError);
});
