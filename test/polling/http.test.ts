// Raw HTTP tests of the polling transport (PROTOCOL.md §11): no Lifeline client, exact
// bodies and statuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import {
  CloseCode,
  createMemoryPollingStore,
  type PollingStore,
} from '../../src/entries/server.js';
import { framesOf, startPolling } from './fixture.js';

test('open answers the welcome and an unguessable session id', async () => {
  await using fx = await startPolling();
  const { sid, frames } = await fx.open('alice');
  assert.match(sid, /^[A-Za-z0-9_-]{22,}$/);
  assert.equal(frames.length, 1);
  assert.equal(frames[0]?.['type'], 'welcome');
  assert.equal(frames[0]?.['user'], 'alice');
  assert.equal(fx.gateway.sessions()[0]?.transport, 'polling');
  const other = await fx.open('alice');
  assert.notEqual(other.sid, sid);
});

test('a missing or unsupported version parameter is refused with 400', async () => {
  await using fx = await startPolling();
  const hello = JSON.stringify({ type: 'hello', token: await fx.token('alice') });
  for (const query of ['', '?v=2', '?v=']) {
    const answer = await fx.request('POST', `/ws/poll/open${query}`, hello);
    assert.equal(answer.status, 400, query);
    assert.equal((answer.body as { error: { code: string } }).error.code, 'unsupported_version');
  }
  const { sid } = await fx.open('alice');
  const get = await fx.request('GET', `/ws/poll?sid=${sid}`);
  assert.equal(get.status, 400);
  assert.equal(fx.gateway.sessions().length, 1, 'a bad version does not touch the session');
});

test('bad credentials: 401 with the close frame 4100 and no session', async () => {
  await using fx = await startPolling();
  const answer = await fx.request(
    'POST',
    '/ws/poll/open?v=1',
    JSON.stringify({ type: 'hello', token: 'not-a-jwt' }),
  );
  assert.equal(answer.status, 401);
  const body = answer.body as { sid?: string; frames: Record<string, unknown>[] };
  assert.equal(body.sid, undefined);
  assert.deepEqual(
    body.frames.map((f) => [f['type'], f['code']]),
    [['close', CloseCode.AUTH_FAILED]],
  );
});

test('a malformed or oversized hello is refused without a session', async () => {
  await using fx = await startPolling({ maxFrameBytes: 1024 });
  const notJson = await fx.request('POST', '/ws/poll/open?v=1', '{nope');
  assert.equal(notJson.status, 400);
  const notHello = await fx.request('POST', '/ws/poll/open?v=1', '{"type":"ping"}');
  assert.equal(notHello.status, 200);
  assert.deepEqual(
    (notHello.body as { frames: Record<string, unknown>[] }).frames.map((f) => f['code']),
    [CloseCode.PROTOCOL_ERROR],
  );
  const huge = JSON.stringify({ type: 'hello', token: 'x'.repeat(3000) });
  assert.equal((await fx.request('POST', '/ws/poll/open?v=1', huge)).status, 413);
  assert.equal(fx.gateway.stats().connections, 0);
});

test('an unknown session is 410 for GET and POST', async () => {
  await using fx = await startPolling();
  assert.equal((await fx.poll('nope')).status, 410);
  assert.equal((await fx.post('nope', [{ type: 'ping' }])).status, 410);
  assert.equal((await fx.request('GET', '/ws/poll?v=1')).status, 410);
});

test('a failing polling store answers 500 and leaves the gateway running', async () => {
  const broken = new Error('disk gone');
  const memory = createMemoryPollingStore();
  const store: PollingStore = {
    ...memory,
    heartbeat: () => Promise.reject(broken),
    create: () => Promise.reject(broken),
  };
  await using fx = await startPolling({ polling: { store } });
  const hello = JSON.stringify({ type: 'hello', token: await fx.token('alice') });
  const answer = await fx.request('POST', '/ws/poll/open?v=1', hello);
  assert.equal(answer.status, 500);
  assert.deepEqual(answer.body, {
    error: { code: 'internal_error', message: 'Internal server error.' },
  });
  assert.equal((await fx.poll('nope')).status, 410, 'the gateway still answers');
});

test('an allowedOrigins predicate that throws refuses the origin on both transports', async () => {
  await using fx = await startPolling({
    allowedOrigins: () => {
      throw new Error('bug in the predicate');
    },
  });
  const headers = { origin: 'https://app.example' };
  const hello = JSON.stringify({ type: 'hello', token: await fx.token('alice') });
  const answer = await fx.request('POST', '/ws/poll/open?v=1', hello, { headers });
  assert.equal(answer.status, 403);
  const ws = new WebSocket(`${fx.origin.replace('http', 'ws')}/ws`, ['lifeline.v1'], headers);
  const status = await new Promise<number | undefined>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
    ws.once('open', () => resolve(101));
    ws.once('error', () => resolve(undefined));
  });
  ws.terminate();
  assert.equal(status, 403);
  assert.equal(fx.gateway.stats().connections, 0);
});

test('a held GET is answered at once when a publish arrives', async () => {
  await using fx = await startPolling({ polling: { holdMs: 10_000 } });
  const { sid } = await fx.open('alice');
  const held = fx.poll(sid);
  // The GET is held: nothing is waiting yet.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await fx.gateway.publish({ to: { user: 'alice' }, data: { n: 1 } });
  const frames = framesOf(await held);
  assert.deepEqual(
    frames.map((f) => [f['type'], f['offset'], f['data']]),
    [['push', 1, { n: 1 }]],
  );
});

test('frames waiting are answered at once; an empty hold ends with []', async () => {
  await using fx = await startPolling({ polling: { holdMs: 100 } });
  const { sid } = await fx.open('alice');
  await fx.gateway.publish({ to: { user: 'alice' }, data: 1 });
  await fx.gateway.publish({ to: { user: 'alice' }, data: 2 });
  assert.deepEqual(
    framesOf(await fx.poll(sid)).map((f) => f['data']),
    [1, 2],
  );
  assert.deepEqual(framesOf(await fx.poll(sid)), []);
});

test('pings travel by POST, pongs by GET; requests get replies', async () => {
  await using fx = await startPolling({
    polling: { holdMs: 5_000 },
    onMessage: (_s, data) => ({ echo: data }),
  });
  const { sid } = await fx.open('alice');
  const posted = await fx.post(sid, [
    { type: 'ping', t: 7 },
    { type: 'request', id: 'r1', data: 'hi' },
  ]);
  assert.equal(posted.status, 204);
  const seen: Record<string, unknown>[] = [];
  while (seen.length < 2) seen.push(...framesOf(await fx.poll(sid)));
  assert.deepEqual(seen[0], { type: 'pong', t: 7 });
  assert.deepEqual(seen[1], { type: 'reply', id: 'r1', ok: true, data: { echo: 'hi' } });
});

test('overlapping GETs: 400, and the session is closed (4000), then 410', async () => {
  await using fx = await startPolling({ polling: { holdMs: 10_000 } });
  const { sid } = await fx.open('alice');
  const first = fx.poll(sid);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const second = await fx.poll(sid);
  assert.equal(second.status, 400);
  const frames = framesOf(await first);
  assert.deepEqual(frames.at(-1), {
    type: 'close',
    code: CloseCode.PROTOCOL_ERROR,
    reason: 'protocol error',
  });
  assert.equal((await fx.poll(sid)).status, 410);
  assert.equal(fx.gateway.sessions().length, 0);
});

test('a malformed POST body: 400 and the session is closed with 4000', async () => {
  await using fx = await startPolling();
  for (const body of ['{not json', '{"type":"ping"}']) {
    const { sid } = await fx.open('alice');
    const answer = await fx.post(sid, body);
    assert.equal(answer.status, 400, body);
    assert.equal(framesOf(await fx.poll(sid)).at(-1)?.['code'], CloseCode.PROTOCOL_ERROR);
    assert.equal((await fx.poll(sid)).status, 410);
  }
  // A well-formed array with a bad frame closes the session as on WebSocket.
  const { sid } = await fx.open('alice');
  assert.equal((await fx.post(sid, [{ type: 'nonsense' }])).status, 204);
  assert.equal(framesOf(await fx.poll(sid)).at(-1)?.['code'], CloseCode.PROTOCOL_ERROR);
});

test('too large: a body over maxBodyBytes is 413; a frame over maxFrameBytes closes 4002', async () => {
  await using fx = await startPolling({ maxFrameBytes: 1024, polling: { maxBodyBytes: 4096 } });
  const a = await fx.open('alice');
  const big = Array.from({ length: 10 }, (_, i) => ({
    type: 'request',
    id: `r${i}`,
    data: 'x'.repeat(500),
  }));
  assert.equal((await fx.post(a.sid, big)).status, 413);
  assert.equal(framesOf(await fx.poll(a.sid)).at(-1)?.['code'], CloseCode.FRAME_TOO_LARGE);
  const b = await fx.open('alice');
  const frame = { type: 'request', id: 'big', data: 'x'.repeat(2000) };
  assert.equal((await fx.post(b.sid, [frame])).status, 204);
  assert.equal(framesOf(await fx.poll(b.sid)).at(-1)?.['code'], CloseCode.FRAME_TOO_LARGE);
  assert.equal((await fx.poll(b.sid)).status, 410);
});

test('a session nobody polls is closed with 4004 after idleTimeoutMs', async () => {
  await using fx = await startPolling({ pingIntervalMs: 100, idleTimeoutMs: 300 });
  const { sid } = await fx.open('alice');
  const closed = new Promise<number>((resolve) =>
    fx.gateway.on('closed', ({ code }) => resolve(code)),
  );
  assert.equal(await closed, CloseCode.HEARTBEAT_TIMEOUT);
  assert.equal(framesOf(await fx.poll(sid)).at(-1)?.['code'], CloseCode.HEARTBEAT_TIMEOUT);
  assert.equal((await fx.poll(sid)).status, 410);
});

test('a kicked session ends with the close frame as the last frame of a GET', async () => {
  await using fx = await startPolling({ polling: { holdMs: 10_000 } });
  const { sid } = await fx.open('alice');
  const held = fx.poll(sid);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(fx.gateway.disconnect({ user: 'alice' }), 1);
  assert.deepEqual(framesOf(await held).at(-1), {
    type: 'close',
    code: CloseCode.KICKED,
    reason: 'disconnected by the server',
  });
  assert.equal((await fx.poll(sid)).status, 410);
});

test('gateway shutdown answers held GETs with 4007', async () => {
  const fx = await startPolling({ polling: { holdMs: 10_000 } });
  const { sid } = await fx.open('alice');
  const held = fx.poll(sid);
  await new Promise((resolve) => setTimeout(resolve, 30));
  const closing = fx.gateway.close();
  assert.equal(framesOf(await held).at(-1)?.['code'], CloseCode.SHUTTING_DOWN);
  await closing;
  await fx[Symbol.asyncDispose]();
});

test('other paths are left to the next handler', async () => {
  await using fx = await startPolling();
  assert.equal((await fx.request('GET', '/ws/pollx?v=1')).status, 404);
  assert.equal((await fx.request('GET', '/elsewhere')).status, 404);
});

test('DELETE closes the session at once (1000); later requests get 410', async () => {
  await using fx = await startPolling();
  const { sid } = await fx.open('alice');
  const closed = new Promise<number>((resolve) =>
    fx.gateway.on('closed', ({ code }) => resolve(code)),
  );
  assert.equal((await fx.request('DELETE', `/ws/poll?sid=${sid}&v=1`)).status, 204);
  assert.equal(await closed, CloseCode.NORMAL);
  assert.equal(fx.gateway.sessions().length, 0);
  assert.equal((await fx.poll(sid)).status, 410);
});
