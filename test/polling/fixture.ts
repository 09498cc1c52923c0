/**
 * A gateway with its polling routes on a real HTTP server on port 0, and a small client
 * for raw polling requests: exact bodies, exact statuses, no Lifeline client involved.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/entries/server.js';
import { signHs256 } from '../helpers/jwt.js';

export const SECRET = 'polling-secret-that-is-long-enough-for-hs256';

export interface PollAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

export interface PollFixture extends AsyncDisposable {
  readonly gateway: Gateway;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `{origin}/ws/poll` */
  readonly base: string;
  token(user: string): Promise<string>;
  request(
    method: string,
    pathAndQuery: string,
    body?: string,
    init?: { signal?: AbortSignal; headers?: Record<string, string> },
  ): Promise<PollAnswer>;
  /** Open a session for `user`; returns its id and the frames of the open answer. */
  open(user: string): Promise<{ sid: string; frames: Record<string, unknown>[] }>;
  /** One `GET` of a session's frames. */
  poll(sid: string, signal?: AbortSignal): Promise<PollAnswer>;
  /** One `POST` of frames. */
  post(sid: string, frames: unknown): Promise<PollAnswer>;
}

export async function startPolling(options: Partial<GatewayOptions> = {}): Promise<PollFixture> {
  const server = http.createServer();
  const gateway = createGateway({ server, jwt: { secret: SECRET }, ...options });
  server.on('request', (req, res) => {
    if (!gateway.handleRequest(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const controllers = new Set<AbortController>();

  const fixture: PollFixture = {
    gateway,
    origin,
    base: `${origin}/ws/poll`,
    token: (user) => signHs256(SECRET, { sub: user }),
    async request(method, pathAndQuery, body, init = {}) {
      const controller = new AbortController();
      controllers.add(controller);
      init.signal?.addEventListener('abort', () => controller.abort());
      try {
        const res = await fetch(`${origin}${pathAndQuery}`, {
          method,
          ...(body === undefined ? {} : { body }),
          headers: { 'content-type': 'application/json', ...init.headers },
          signal: controller.signal,
        });
        const text = await res.text();
        let parsed: unknown = text;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        return { status: res.status, body: parsed, headers: res.headers };
      } finally {
        controllers.delete(controller);
      }
    },
    async open(user) {
      const hello = { type: 'hello', token: await fixture.token(user) };
      const answer = await fixture.request('POST', '/ws/poll/open?v=1', JSON.stringify(hello));
      const body = answer.body as { sid?: string; frames: Record<string, unknown>[] };
      if (answer.status !== 200 || body.sid === undefined) {
        throw new Error(`open failed: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
      return { sid: body.sid, frames: body.frames };
    },
    poll(sid, signal) {
      return fixture.request('GET', `/ws/poll?sid=${sid}&v=1`, undefined, {
        ...(signal === undefined ? {} : { signal }),
      });
    },
    post(sid, frames) {
      const body = typeof frames === 'string' ? frames : JSON.stringify(frames);
      return fixture.request('POST', `/ws/poll?sid=${sid}&v=1`, body);
    },
    async [Symbol.asyncDispose]() {
      for (const c of controllers) c.abort();
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fixture;
}

/** The frames of a `GET` answer, parsed. */
export function framesOf(answer: PollAnswer): Record<string, unknown>[] {
  if (answer.status !== 200 || !Array.isArray(answer.body)) {
    throw new Error(`not a frames answer: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body as Record<string, unknown>[];
}
