/**
 * Gateway failures behind the HTTP API, with a stand-in gateway: a `PublishError` is the
 * caller's mistake (400, its message shown); anything else is ours (500, nothing leaked).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PublishError } from '../../src/server/types.js';
import { fetchJson, publish, startApiWith } from './fixture.js';

describe('HTTP API gateway failures', () => {
  it('turns a PublishError into 400 with its message', async () => {
    await using api = await startApiWith({
      publish: () => Promise.reject(new PublishError('data is larger than maxFrameBytes')),
      sessions: () => [],
      disconnect: () => 0,
      stats: () => ({ sessions: 0 }),
    });
    const res = await publish(api.url, { to: { user: 'alice' }, data: 1 });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: { code: 'bad_request', message: 'data is larger than maxFrameBytes' },
    });
  });

  it('answers any other failure with a generic 500 that leaks nothing', async () => {
    await using api = await startApiWith({
      publish: () => Promise.reject(new Error('redis://admin:hunter2@10.0.0.7 refused')),
      sessions: () => [],
      disconnect: () => 0,
      stats: () => ({ sessions: 0 }),
    });
    const res = await publish(api.url, { to: { user: 'alice' }, data: 1 });
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, {
      error: { code: 'internal_error', message: 'Internal server error.' },
    });
  });

  it('answers 503 on /api/* when no API key is configured, and still serves /healthz', async () => {
    await using api = await startApiWith(
      {
        publish: () => Promise.reject(new Error('unreachable')),
        sessions: () => [],
        disconnect: () => 0,
        stats: () => ({ sessions: 0 }),
      },
      { apiKey: undefined },
    );
    const res = await publish(api.url, { to: { user: 'alice' }, data: 1 });
    assert.equal(res.status, 503);
    assert.equal((res.body as { error: { code: string } }).error.code, 'api_disabled');
    assert.equal((await fetchJson(`${api.url}/healthz`)).status, 200);
  });
});
