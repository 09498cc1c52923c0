/**
 * The session routes of the HTTP API over real sockets: presence lists who is connected
 * and how, and `POST /api/disconnect` ends sessions with 4104.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from '../../src/protocol/index.js';
import { waitFor } from '../helpers/wait.js';
import { assertClosedWith } from '../server/fixtures.js';
import { API_KEY, disconnect, fetchJson, helloRaw, startApi } from './fixture.js';

const headers = { authorization: `Bearer ${API_KEY}` };

interface PresenceBody {
  user: string;
  sessions: { id: string; device?: string; transport: string; connectedAt: number }[];
}

async function presence(base: string, user: string): Promise<PresenceBody> {
  const res = await fetchJson(`${base}/api/presence/${encodeURIComponent(user)}`, { headers });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as PresenceBody;
}

describe('GET /api/presence/:user', () => {
  it('lists each session with its device and transport', async () => {
    await using api = await startApi();
    await using _phone = await helloRaw(api.wsUrl, await api.token('alice'), { device: 'phone' });
    await using _bare = await helloRaw(api.wsUrl, await api.token('alice'));
    const body = await presence(api.url, 'alice');
    assert.equal(body.sessions.length, 2);
    const phone = body.sessions.find((s) => s.device === 'phone');
    assert.ok(phone, JSON.stringify(body));
    assert.equal(phone.transport, 'websocket');
    const bare = body.sessions.find((s) => s !== phone);
    assert.equal(bare?.device, undefined);
    assert.equal(bare?.transport, 'websocket');
  });
});

describe('POST /api/disconnect', () => {
  it('answers 401 without the API key or with a wrong one', async () => {
    await using api = await startApi();
    const none = await fetchJson(`${api.url}/api/disconnect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice' }),
    });
    assert.equal(none.status, 401);
    const wrong = await disconnect(api.url, { user: 'alice' }, 'not-the-key');
    assert.equal(wrong.status, 401);
  });

  it('answers 400 naming the field for invalid bodies', async () => {
    await using api = await startApi();
    const cases: [unknown, string | undefined][] = [
      [{}, 'user'],
      [{ user: '' }, 'user'],
      [{ user: 42 }, 'user'],
      [{ user: 'alice', tenant: 7 }, 'tenant'],
      [{ user: 'alice', session: '' }, 'session'],
      [{ user: 'alice', extra: true }, 'extra'],
      [[], undefined],
      [null, undefined],
    ];
    for (const [body, field] of cases) {
      const res = await disconnect(api.url, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = (res.body as { error: { code: string; message: string; field?: string } })
        .error;
      assert.equal(error.code, 'bad_request');
      assert.equal(error.field, field, `${JSON.stringify(body)}: ${error.message}`);
    }
  });

  it('answers 405 for GET', async () => {
    await using api = await startApi();
    const res = await fetchJson(`${api.url}/api/disconnect`, { headers });
    assert.equal(res.status, 405);
  });

  it("ends every session of a user with 4104 and leaves other users' alone", async () => {
    await using api = await startApi();
    await using a1 = await helloRaw(api.wsUrl, await api.token('alice'));
    await using a2 = await helloRaw(api.wsUrl, await api.token('alice'), { device: 'phone' });
    await using bob = await helloRaw(api.wsUrl, await api.token('bob'));
    const res = await disconnect(api.url, { user: 'alice' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { disconnected: 2 });
    await assertClosedWith(a1, CloseCode.KICKED);
    await assertClosedWith(a2, CloseCode.KICKED);
    await waitFor(async () => assert.equal((await presence(api.url, 'alice')).sessions.length, 0));
    assert.equal((await presence(api.url, 'bob')).sessions.length, 1);
    bob.send({ type: 'ping', t: 1 });
    assert.deepEqual(await bob.nextOf('pong'), { type: 'pong', t: 1 });
    assert.deepEqual((await disconnect(api.url, { user: 'alice' })).body, { disconnected: 0 });
  });

  it("ends one session by id, and only when it is that user's", async () => {
    await using api = await startApi();
    await using a1 = await helloRaw(api.wsUrl, await api.token('alice'));
    await using a2 = await helloRaw(api.wsUrl, await api.token('alice'));
    const [first] = (await presence(api.url, 'alice')).sessions;
    assert.ok(first);
    const foreign = await disconnect(api.url, { user: 'bob', session: first.id });
    assert.deepEqual(foreign.body, { disconnected: 0 });
    const res = await disconnect(api.url, { user: 'alice', session: first.id });
    assert.deepEqual(res.body, { disconnected: 1 });
    const left = await presence(api.url, 'alice');
    assert.equal(left.sessions.length, 1);
    assert.notEqual(left.sessions[0]?.id, first.id);
    // Presence lists sessions in the order they opened: `first` is a1.
    await assertClosedWith(a1, CloseCode.KICKED);
    a2.send({ type: 'ping', t: 1 });
    assert.deepEqual(await a2.nextOf('pong'), { type: 'pong', t: 1 });
  });
});
