/**
 * The polling requester over `wx.request` / `uni.request`, on its own: against the fake of
 * those functions, carried by a real local HTTP server.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { InvalidOptionError, UnsupportedError } from '../../src/protocol/index.js';
import {
  DEFAULT_POLL_TIMEOUT_MS,
  miniProgramRequester,
  type RequestFunction,
} from '../../src/platforms/request.js';
import type { HttpRequester } from '../../src/client/transports/http.js';
import { waitFor } from '../helpers/wait.js';
import { FakeMiniProgram } from './fake-socket-task.js';
import type { RequestQuirks } from './fake-request.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A server that answers `/frames` with JSON, `/gone` with 410, and holds `/hold`. */
async function startServer() {
  const seen: Seen[] = [];
  const held = new Set<http.ServerResponse>();
  let closedEarly = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/frames') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('[{"type":"pong","t":1},{"type":"ping"}]');
      } else if (path === '/echo') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(body);
      } else if (path === '/gone') {
        res.writeHead(410, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"unknown_session"}}');
      } else if (path === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('not json: ✓');
      } else {
        held.add(res);
        res.on('close', () => {
          if (held.delete(res)) closedEarly++;
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    seen,
    get held() {
      return held.size;
    },
    get closedEarly() {
      return closedEarly;
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function setup(
  kind: 'wx' | 'uni',
  quirks: RequestQuirks = {},
  options: { timeoutMs?: number } = {},
): { fake: FakeMiniProgram; requester: HttpRequester } {
  const fake = new FakeMiniProgram({ kind, http: quirks });
  const request = fake.api().request as RequestFunction;
  const requester = miniProgramRequester(request, {
    platform: kind,
    header: { 'X-App': 'shop' },
    ...options,
  });
  return { fake, requester };
}

for (const kind of ['wx', 'uni'] as const) {
  describe(`miniProgramRequester over ${kind}.request`, () => {
    it('gets the body as text, unparsed, with the headers and options the platform needs', async () => {
      await using server = await startServer();
      const { fake, requester } = setup(kind);
      const response = await requester({
        method: 'GET',
        url: `${server.base}/frames?sid=s1&v=1`,
        headers: {},
      }).response;
      assert.deepEqual(response, {
        status: 200,
        body: '[{"type":"pong","t":1},{"type":"ping"}]',
      });
      const call = fake.http?.calls[0];
      assert.equal(call?.method, 'GET');
      assert.equal(call?.dataType, 'text');
      assert.equal(call?.responseType, 'text');
      assert.equal(call?.timeout, DEFAULT_POLL_TIMEOUT_MS);
      assert.equal(call?.data, undefined);
      assert.equal(server.seen[0]?.url, '/frames?sid=s1&v=1');
      assert.equal(server.seen[0]?.headers['x-app'], 'shop');
    });

    it('posts the body as it is, with the content type the transport chose', async () => {
      await using server = await startServer();
      const { requester } = setup(kind);
      const body = '[{"type":"ack","positions":[]},{"type":"ping","t":2}]';
      const response = await requester({
        method: 'POST',
        url: `${server.base}/echo`,
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body,
      }).response;
      assert.deepEqual(response, { status: 200, body });
      assert.equal(server.seen[0]?.method, 'POST');
      assert.equal(server.seen[0]?.headers['content-type'], 'text/plain;charset=UTF-8');
      assert.equal(server.seen[0]?.body, body);
    });

    it('answers an HTTP error with its status (the platform calls success for it)', async () => {
      await using server = await startServer();
      const { requester } = setup(kind);
      const gone = await requester({ method: 'DELETE', url: `${server.base}/gone`, headers: {} })
        .response;
      assert.deepEqual(gone, { status: 410, body: '{"error":{"code":"unknown_session"}}' });
      const text = await requester({ method: 'GET', url: `${server.base}/text`, headers: {} })
        .response;
      assert.deepEqual(text, { status: 200, body: 'not json: ✓' });
    });

    it('abort() ends the held GET on the wire and rejects its response once', async () => {
      await using server = await startServer();
      const { fake, requester } = setup(kind);
      const exchange = requester({ method: 'GET', url: `${server.base}/hold`, headers: {} });
      await waitFor(() => assert.equal(server.held, 1));
      exchange.abort();
      exchange.abort();
      await assert.rejects(exchange.response, /request:fail abort/);
      await waitFor(() => assert.equal(server.closedEarly, 1));
      await fake.settle();
      assert.equal(fake.http?.inFlight, 0);
      assert.equal(fake.http?.calls[0]?.outcome, 'request:fail abort');
    });

    it("rejects with the platform's errMsg: timeout, refused connection, interrupted", async () => {
      await using server = await startServer();
      const { requester: quick } = setup(kind, {}, { timeoutMs: 50 });
      await assert.rejects(
        quick({ method: 'GET', url: `${server.base}/hold`, headers: {} }).response,
        /request:fail timeout/,
      );

      const { fake, requester } = setup(kind);
      const closedPort = await new Promise<number>((resolve) => {
        const s = http.createServer().listen(0, '127.0.0.1', () => {
          const { port } = s.address() as AddressInfo;
          s.close(() => resolve(port));
        });
      });
      await assert.rejects(
        requester({ method: 'GET', url: `http://127.0.0.1:${closedPort}/`, headers: {} }).response,
        /^Error: request:fail /,
      );

      const held = requester({ method: 'GET', url: `${server.base}/hold`, headers: {} });
      await waitFor(() => assert.equal(fake.http?.inFlight, 1));
      fake.http?.interruptAll();
      await assert.rejects(held.response, /request:fail interrupted/);
    });

    it('reads a body that the runtime parsed anyway, or handed over as an ArrayBuffer', async () => {
      await using server = await startServer();
      for (const quirks of [{ parsesJsonAlways: true }, { answersArrayBuffer: true }]) {
        const { requester } = setup(kind, quirks);
        const { status, body } = await requester({
          method: 'GET',
          url: `${server.base}/frames`,
          headers: {},
        }).response;
        assert.equal(status, 200);
        assert.deepEqual(JSON.parse(body), [{ type: 'pong', t: 1 }, { type: 'ping' }]);
      }
    });
  });
}

describe('miniProgramRequester options', () => {
  it('refuses a missing request function and a bad timeout with typed errors', () => {
    assert.throws(
      () => miniProgramRequester(undefined as unknown as RequestFunction, { platform: 'wx' }),
      (error: unknown) => error instanceof UnsupportedError && /wx\.request/.test(error.message),
    );
    for (const timeoutMs of [0, -1, Number.NaN, Infinity, 2 ** 31]) {
      assert.throws(
        () => miniProgramRequester(() => ({}), { platform: 'wx', timeoutMs }),
        InvalidOptionError,
      );
    }
  });

  it('settles once when a runtime throws instead of calling fail', async () => {
    const requester = miniProgramRequester(
      () => {
        throw new Error('request:fail url not in domain list');
      },
      { platform: 'wx' },
    );
    const exchange = requester({ method: 'GET', url: 'https://elsewhere.example/', headers: {} });
    await assert.rejects(exchange.response, /domain list/);
    exchange.abort(); // nothing to abort; no second settlement
  });
});
