/**
 * `lifeline serve` answers `GET /api/messages/:id` with the delivery status the gateway
 * keeps (the route itself is tested in test/http/status.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { connectRaw } from '../helpers/raw-ws.js';

describe('lifeline serve: message status', () => {
  it('reports a published message delivered to the connected user', async () => {
    await using cli = await startCli(['serve', '--dev', '--port', '0']);
    const apiKey = String(cli.listening['apiKey']);
    const auth = { authorization: `Bearer ${apiKey}` };
    const tokenRes = await fetch(`${cli.url}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice' }),
    });
    const { token } = (await tokenRes.json()) as { token: string };
    await using alice = await connectRaw(cli.wsUrl, { protocols: ['lifeline.v1'] });
    alice.send({ type: 'hello', token });
    await alice.nextOf('welcome');

    const res = await fetch(`${cli.url}/api/publish`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ to: { user: 'alice' }, data: { n: 1 } }),
    });
    assert.equal(res.status, 200);
    const { id } = (await res.json()) as { id: string };
    await alice.nextOf('push');

    const status = await fetch(`${cli.url}/api/messages/${encodeURIComponent(id)}`, {
      headers: auth,
    });
    assert.equal(status.status, 200);
    const body = (await status.json()) as { id: string; recipients: { user: string }[] };
    assert.equal(body.id, id);
    assert.ok(
      body.recipients.some((r) => r.user === 'alice'),
      JSON.stringify(body),
    );
    const unknown = await fetch(`${cli.url}/api/messages/0190f0e0-0000-7000-8000-000000000000`, {
      headers: auth,
    });
    assert.equal(unknown.status, 404);
  });
});
