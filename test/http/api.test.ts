/**
 * The HTTP API over real sockets, in front of a real gateway: authentication, every
 * rejection a backend can run into, and a publish that reaches a connected raw client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { API_KEY, fetchJson, helloRaw, publish, rawPost, startApi } from './fixture.js';

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

function errorOf(body: unknown): ErrorBody['error'] {
  const error = (body as Partial<ErrorBody>).error;
  assert.ok(error, `expected an error body, got ${JSON.stringify(body)}`);
  assert.equal(typeof error.code, 'string');
  assert.equal(typeof error.message, 'string');
  return error;
}

describe('HTTP API', () => {
  it('GET /healthz answers ok with the number of live sessions', async () => {
    await using api = await startApi();
    const empty = await fetchJson(`${api.url}/healthz`);
    assert.equal(empty.status, 200);
    assert.equal(empty.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(empty.body, { status: 'ok', sessions: 0 });

    await using _client = await helloRaw(api.wsUrl, await api.token('alice'));
    const one = await fetchJson(`${api.url}/healthz`);
    assert.deepEqual(one.body, { status: 'ok', sessions: 1 });
  });

  it('refuses a publish without the API key, or with a wrong one, with 401', async () => {
    await using api = await startApi();
    const body = JSON.stringify({ to: { user: 'alice' }, data: 1 });
    const missing = await fetchJson(`${api.url}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(errorOf(missing.body).code, 'unauthorized');

    const wrong = await publish(api.url, body, `${API_KEY}x`);
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer/);

    const notBearer = await fetchJson(`${api.url}/api/publish`, {
      method: 'POST',
      headers: { authorization: `Basic ${API_KEY}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(notBearer.status, 401);
  });

  it('answers 400 for malformed JSON', async () => {
    await using api = await startApi();
    const res = await publish(api.url, '{"to": {"user": "alice"}, "data": ');
    assert.equal(res.status, 400);
    assert.equal(errorOf(res.body).code, 'invalid_json');
  });

  it('answers 400 naming the field for a missing target', async () => {
    await using api = await startApi();
    const res = await publish(api.url, { data: 'hello' });
    assert.equal(res.status, 400);
    const error = errorOf(res.body);
    assert.equal(error.code, 'bad_request');
    assert.equal(error.field, 'to');
    assert.match(error.message, /\bto\b.*required/);
  });

  it('answers 400 naming the field for a bad channel name', async () => {
    await using api = await startApi();
    const res = await publish(api.url, { to: { channel: 'no spaces allowed' }, data: 1 });
    assert.equal(res.status, 400);
    const error = errorOf(res.body);
    assert.equal(error.field, 'to.channel');
    assert.match(error.message, /to\.channel/);
  });

  it('answers 400 for other invalid bodies, each naming its field', async () => {
    await using api = await startApi();
    const cases: [unknown, string][] = [
      [{ to: { user: 'alice' } }, 'data'],
      [{ to: {}, data: 1 }, 'to'],
      [{ to: { user: 'a', channel: 'b' }, data: 1 }, 'to'],
      [{ to: { users: [] }, data: 1 }, 'to.users'],
      [{ to: { users: ['a', 7] }, data: 1 }, 'to.users.1'],
      [{ to: { user: '' }, data: 1 }, 'to.user'],
      [{ to: { channel: 'news' }, tenant: 't1', data: 1 }, 'tenant'],
      [{ to: { user: 'alice' }, data: 1, priority: 'high' }, 'priority'],
    ];
    for (const [body, field] of cases) {
      const res = await publish(api.url, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(errorOf(res.body).field, field, JSON.stringify(body));
      assert.ok(errorOf(res.body).message.includes(field), JSON.stringify(res.body));
    }
    for (const body of ['[]', '"text"', 'null', '42']) {
      const res = await publish(api.url, body);
      assert.equal(res.status, 400, body);
      assert.equal(errorOf(res.body).code, 'bad_request');
    }
  });

  it('answers 413 for a declared oversized body without reading it', async () => {
    await using api = await startApi({ maxBodyBytes: 1024 });
    const body = Buffer.from(JSON.stringify({ to: { user: 'alice' }, data: 'x'.repeat(4096) }));
    const res = await rawPost(
      `${api.url}/api/publish`,
      {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        'content-length': String(body.length),
      },
      [body],
    );
    assert.equal(res.status, 413);
    assert.equal(errorOf(JSON.parse(res.body)).code, 'payload_too_large');
  });

  it('answers 413 for a streamed body that grows past the limit', async () => {
    await using api = await startApi({ maxBodyBytes: 1024 });
    // Chunked, no length: the limit must be enforced while the bytes arrive.
    const chunks = [Buffer.from('{"to":{"user":"alice"},"data":"'), Buffer.alloc(64 * 1024, 'x')];
    const res = await rawPost(
      `${api.url}/api/publish`,
      { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      chunks,
    );
    assert.equal(res.status, 413);
    assert.equal(res.headers['connection'], 'close');
    // The server is still fine afterwards.
    assert.equal((await fetchJson(`${api.url}/healthz`)).status, 200);
  });

  it('answers 415 for a body that is not declared as JSON', async () => {
    await using api = await startApi();
    const res = await fetchJson(`${api.url}/api/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ to: { user: 'alice' }, data: 1 }),
    });
    assert.equal(res.status, 415);
    assert.equal(errorOf(res.body).code, 'unsupported_media_type');
  });

  it('answers 405 with Allow for a wrong method', async () => {
    await using api = await startApi();
    const get = await fetchJson(`${api.url}/api/publish`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const post = await fetchJson(`${api.url}/healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('publishes to a user: 200 with id and positions, and the push reaches the session', async () => {
    await using api = await startApi();
    await using alice = await helloRaw(api.wsUrl, await api.token('alice'));
    const res = await publish(api.url, { to: { user: 'alice' }, data: { text: 'hi' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const result = res.body as {
      id: string;
      positions: { stream: string; epoch: string; offset: number }[];
      delivered: number;
    };
    assert.equal(typeof result.id, 'string');
    assert.equal(result.positions.length, 1);
    assert.equal(result.positions[0]?.stream, 'user:alice');
    assert.equal(result.delivered, 1);

    const push = await alice.nextOf('push');
    assert.equal(push['id'], result.id);
    assert.equal(push['stream'], 'user:alice');
    assert.equal(push['offset'], result.positions[0]?.offset);
    assert.deepEqual(push['data'], { text: 'hi' });
  });

  it('publishes to a channel the session subscribed to', async () => {
    await using api = await startApi();
    await using bob = await helloRaw(api.wsUrl, await api.token('bob'));
    bob.send({ type: 'subscribe', id: 's1', channel: 'news' });
    const reply = await bob.nextOf('reply');
    assert.equal(reply['ok'], true);
    const res = await publish(api.url, { to: { channel: 'news' }, data: 'extra!' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const push = await bob.nextOf('push');
    assert.equal(push['stream'], 'channel:news');
    assert.equal(push['data'], 'extra!');
  });

  it('GET /api/presence/:user lists the live sessions of a user', async () => {
    await using api = await startApi();
    const headers = { authorization: `Bearer ${API_KEY}` };
    await using alice = await helloRaw(api.wsUrl, await api.token('alice'));
    for (const [id, channel] of [
      ['s1', 'sports'],
      ['s2', 'news'],
    ] as const) {
      alice.send({ type: 'subscribe', id, channel });
      await alice.nextOf('reply');
    }
    const res = await fetchJson(`${api.url}/api/presence/alice`, { headers });
    assert.equal(res.status, 200);
    const body = res.body as { user: string; sessions: Record<string, unknown>[] };
    assert.equal(body.user, 'alice');
    assert.equal(body.sessions.length, 1);
    const [session] = body.sessions;
    assert.equal(typeof session?.['id'], 'string');
    assert.equal(typeof session?.['connectedAt'], 'number');
    assert.equal(session?.['transport'], 'websocket');
    assert.deepEqual(session?.['channels'], ['news', 'sports']);

    const nobody = await fetchJson(`${api.url}/api/presence/carol`, { headers });
    assert.deepEqual((nobody.body as { sessions: unknown[] }).sessions, []);
    const unauthorized = await fetchJson(`${api.url}/api/presence/alice`);
    assert.equal(unauthorized.status, 401);
  });

  it('leaves other paths to the next handler', async () => {
    await using api = await startApi();
    const res = await fetch(`${api.url}/api`);
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  });

  it('survives a burst of garbage requests', async () => {
    await using api = await startApi({ maxBodyBytes: 256 });
    const bodies = ['', '{', '\u0000\u0001', '{"to":', '{"to":{"user":{"$gt":""}},"data":1}'];
    const answers = await Promise.all(
      bodies.map((body) =>
        rawPost(
          `${api.url}/api/publish`,
          { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          [Buffer.from(body)],
        ),
      ),
    );
    for (const answer of answers) assert.equal(answer.status, 400, answer.body);
    // Invalid UTF-8 is not JSON either.
    const latin = await rawPost(
      `${api.url}/api/publish`,
      { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      [Buffer.from([0x7b, 0xff, 0x7d])],
    );
    assert.equal(latin.status, 400);
    await waitFor(async () => assert.equal((await fetchJson(`${api.url}/healthz`)).status, 200));
  });
});
