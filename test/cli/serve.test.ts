/**
 * The built `lifeline` command end to end: start it on port 0, find the port in its
 * `listening` log line, and use it as a user would — tokens, a WebSocket session, a
 * publish, a graceful shutdown.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { connectRaw } from '../helpers/raw-ws.js';
import { waitFor } from '../helpers/wait.js';

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

async function devToken(cli: RunningCli, user: string): Promise<string> {
  const res = await fetch(`${cli.url}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  assert.equal(res.status, 200);
  const { token } = await json(res);
  assert.equal(typeof token, 'string');
  return token as string;
}

function publish(cli: RunningCli, apiKey: string, body: unknown): Promise<Response> {
  return fetch(`${cli.url}/api/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('lifeline serve --dev', () => {
  it('serves health, tokens, a session and a publish; SIGTERM closes sessions with 4007 and exits 0', async () => {
    await using cli = await startCli(['serve', '--dev', '--port', '0']);
    assert.ok(cli.port > 0);
    assert.equal(cli.url, `http://127.0.0.1:${cli.port}`);
    assert.equal(cli.wsUrl, `ws://127.0.0.1:${cli.port}/ws`);
    const apiKey = cli.listening['apiKey'];
    assert.equal(typeof apiKey, 'string', 'the generated API key is in the listening line');
    // The banner follows the log line on another pipe.
    await waitFor(() => assert.match(cli.stderr(), new RegExp(`API key\\s+${String(apiKey)}`)));

    const health = await fetch(`${cli.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await json(health), { status: 'ok', sessions: 0 });

    const token = await devToken(cli, 'alice');
    await using alice = await connectRaw(cli.wsUrl, { protocols: ['lifeline.v1'] });
    alice.send({ type: 'hello', token });
    const welcome = await alice.nextOf('welcome');
    assert.equal(welcome['user'], 'alice');

    const res = await publish(cli, apiKey as string, { to: { user: 'alice' }, data: { n: 1 } });
    assert.equal(res.status, 200);
    const result = await json(res);
    const push = await alice.nextOf('push');
    assert.equal(push['id'], result['id']);
    assert.deepEqual(push['data'], { n: 1 });

    const exit = await cli.stop('SIGTERM');
    const closed = await alice.closed();
    assert.equal(closed.code, 4007);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(cli.logs.some((l) => l.msg === 'shutting down'));
  });

  it('validates the /dev/token user name and serves /dev/config', async () => {
    await using cli = await startCli(['serve', '--dev', '--port', '0', '--path', '/push']);
    for (const user of ['', 'has space', 'x'.repeat(65), 42]) {
      const res = await fetch(`${cli.url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user }),
      });
      assert.equal(res.status, 400, JSON.stringify(user));
      const { error } = (await json(res)) as { error: { field: string } };
      assert.equal(error.field, 'user');
    }
    const config = await json(await fetch(`${cli.url}/dev/config`));
    assert.deepEqual(config, { apiKey: cli.listening['apiKey'], path: '/push' });
    assert.equal(cli.wsUrl, `ws://127.0.0.1:${cli.port}/push`);
  });

  it('serves the demo page and the browser client; unknown paths get a JSON 404', async () => {
    await using cli = await startCli(['serve', '--dev', '--port', '0']);
    const page = await fetch(`${cli.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<title>Lifeline demo<\/title>/);
    const bundle = await fetch(`${cli.url}/lifeline.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await bundle.text(), /createClient/);
    const missing = await fetch(`${cli.url}/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(((await json(missing)) as { error: { code: string } }).error.code, 'not_found');
  });

  it('a second signal exits at once, without waiting for sessions to close', async () => {
    await using cli = await startCli(['serve', '--dev', '--port', '0']);
    // A WebSocket peer that never answers the closing handshake holds the graceful
    // shutdown open (until the gateway's shutdown timeout): the case a second Ctrl-C is for.
    await using _stuck = await stuckWebSocket(cli.port);
    cli.child.kill('SIGINT');
    await waitFor(() => assert.ok(cli.logs.some((l) => l.msg === 'shutting down')));
    // 130 is the second signal's exit; a graceful shutdown that ran to its end exits 0.
    const exit = await cli.stop('SIGINT');
    assert.deepEqual(exit, { code: 130, signal: null });
  });
});

/** Upgrade a raw TCP socket to WebSocket by hand, then never read or answer anything. */
async function stuckWebSocket(port: number): Promise<AsyncDisposable> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const key = randomBytes(16).toString('base64');
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      'Sec-WebSocket-Protocol: lifeline.v1\r\n\r\n',
  );
  const head = await new Promise<string>((resolve, reject) => {
    socket.once('data', (chunk) => resolve(String(chunk)));
    socket.once('close', () => reject(new Error('closed before the upgrade answer')));
  });
  assert.match(head, /^HTTP\/1\.1 101/);
  socket.pause();
  return {
    async [Symbol.asyncDispose]() {
      socket.destroy();
    },
  };
}

describe('lifeline serve (production settings)', () => {
  it('takes secrets from the environment, keeps them out of the logs, and has no /dev routes', async () => {
    await using cli = await startCli(['serve', '--port', '0'], {
      env: { LIFELINE_JWT_SECRET: 'env-secret-0123456789abcdef', LIFELINE_API_KEY: 'env-key-123' },
    });
    assert.equal(cli.listening['apiKey'], undefined);
    assert.ok(!cli.logs.some((l) => JSON.stringify(l).includes('env-key-123')));
    assert.equal(cli.stderr(), '', 'no dev banner');
    assert.equal((await fetch(`${cli.url}/dev/token`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${cli.url}/dev/config`)).status, 404);
    const wrong = await publish(cli, 'nope', { to: { user: 'a' }, data: 1 });
    assert.equal(wrong.status, 401);
    const ok = await publish(cli, 'env-key-123', { to: { user: 'a' }, data: 1 });
    assert.equal(ok.status, 200);
  });

  it('runs without an API key with a warning; /api/* answers 503', async () => {
    await using cli = await startCli(['serve', '--port', '0', '--jwt-secret', 'abcdefabcdef']);
    assert.ok(cli.logs.some((l) => l.msg?.includes('no API key') === true));
    const res = await publish(cli, 'anything', { to: { user: 'a' }, data: 1 });
    assert.equal(res.status, 503);
  });

  it('exits with code 2 and says why without a way to verify tokens', async () => {
    const result = await runCli(['serve', '--port', '0']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--jwt-secret/);
    assert.match(result.stderr, /--jwks-url/);
  });

  it('exits with code 2 for bad flags', async () => {
    for (const args of [
      ['serve', '--port', '70000'],
      ['serve', '--dev', '--log-level', 'loud'],
      ['serve', '--dev', '--path', 'ws'],
      ['serve', '--jwt-secret', 's', '--jwks-url', 'https://example.test/jwks'],
      ['serve', '--no-such-flag'],
    ]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /error/i);
    }
  });

  it('exits with code 1 when the port is taken', async () => {
    await using first = await startCli(['serve', '--dev', '--port', '0']);
    const second = await runCli(['serve', '--dev', '--port', String(first.port)]);
    assert.equal(second.code, 1);
    assert.match(second.stdout, /could not start/);
  });
});

describe('lifeline --help', () => {
  it('documents the command and its flags', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /serve/);
    const serve = await runCli(['serve', '--help']);
    assert.equal(serve.code, 0);
    for (const flag of [
      '--port',
      '--host',
      '--path',
      '--api-key',
      '--jwt-secret',
      '--jwks-url',
      '--dev',
      '--log-level',
      'LIFELINE_API_KEY',
      'LIFELINE_JWT_SECRET',
    ]) {
      assert.ok(serve.stdout.includes(flag), `help mentions ${flag}`);
    }
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });
});
