/**
 * A gateway and the HTTP API on one real HTTP server on port 0, as the CLI composes them,
 * plus small request helpers.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApi, type HttpApiGateway } from '../../src/adapters/http-api.js';
import { createGateway, type GatewayOptions } from '../../src/adapters/ws-gateway.js';
import { signDevToken } from '../../src/cli/dev-token.js';
import { connectRaw, type RawClient } from '../helpers/raw-ws.js';

export const API_KEY = 'test-api-key-0123456789';
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef';

export interface ApiFixture extends AsyncDisposable {
  readonly url: string;
  readonly wsUrl: string;
  token(user: string): Promise<string>;
}

type GatewayLike = HttpApiGateway & { close?(): Promise<void> };

export interface ApiFixtureOptions {
  /** @default 1 MiB (the API's default) */
  readonly maxBodyBytes?: number;
  /** `undefined` disables `/api/*`. @default API_KEY */
  readonly apiKey?: string | undefined;
  /** More options of the real gateway (`startApi` only). */
  readonly gateway?: Partial<GatewayOptions>;
}

async function serve(
  makeGateway: (server: Server) => GatewayLike,
  options: ApiFixtureOptions,
): Promise<ApiFixture> {
  const server = createServer();
  const gateway = makeGateway(server);
  const api = createHttpApi(gateway, {
    apiKey: 'apiKey' in options ? options.apiKey : API_KEY,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  });
  server.on('request', (req, res) => {
    void (async () => {
      if (await api(req, res)) return;
      res.writeHead(404).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    token: async (user) => (await signDevToken(JWT_SECRET, user)).token,
    async [Symbol.asyncDispose]() {
      await gateway.close?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The real gateway behind the HTTP API. */
export function startApi(options: ApiFixtureOptions = {}): Promise<ApiFixture> {
  return serve(
    (server) =>
      createGateway({ ...options.gateway, server, path: '/ws', jwt: { secret: JWT_SECRET } }),
    options,
  );
}

/** The HTTP API in front of a stand-in gateway, for failures a real one cannot be made to produce. */
export function startApiWith(
  gateway: HttpApiGateway,
  options: ApiFixtureOptions = {},
): Promise<ApiFixture> {
  return serve(() => gateway, options);
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** `fetch` and parse the JSON answer (every API answer is JSON). */
export async function fetchJson(url: string, init: RequestInit = {}): Promise<JsonResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${res.status} answer is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, body };
}

/** POST a disconnect request with the test API key. */
export function disconnect(base: string, body: unknown, key = API_KEY): Promise<JsonResponse> {
  return fetchJson(`${base}/api/disconnect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** POST a publish request with the test API key (and any extra headers). */
export function publish(
  base: string,
  body: unknown,
  key = API_KEY,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  return fetchJson(`${base}/api/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * Send a body with node:http (fetch cannot stream a body without a length in every
 * version) and resolve with the status once the answer's head arrives. A server that
 * stops reading may reset the connection while the body is still being written; that
 * error is ignored once the answer is in.
 */
export function rawPost(
  url: string,
  headers: Record<string, string>,
  chunks: readonly Buffer[],
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: 'POST', headers }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** A raw `lifeline.v1` socket that has said `hello` with `token` and got `welcome`. */
export async function helloRaw(
  wsUrl: string,
  token: string,
  hello: Record<string, unknown> = {},
): Promise<RawClient> {
  const client = await connectRaw(wsUrl);
  client.send({ type: 'hello', token, client: 'lifeline-test/raw', ...hello });
  await client.nextOf('welcome');
  return client;
}
