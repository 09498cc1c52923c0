/**
 * The HTTP long-polling transport (PROTOCOL.md §11): the same frames as the WebSocket
 * endpoint, carried by a held `GET` (server → client) and a `POST` (client → server).
 *
 * | request                           | body                  | answer                               |
 * | --------------------------------- | --------------------- | ------------------------------------ |
 * | `POST {path}/poll/open?v=1`       | the `hello` frame     | `{ sid, frames }` (200), or `{ frames }` with the `close` frame (401 for 4100/4101, else 200) |
 * | `GET {path}/poll?sid=…&v=1`       | —                     | JSON array of server frames          |
 * | `POST {path}/poll?sid=…&v=1`      | JSON array of frames  | 204                                  |
 * | `DELETE {path}/poll?sid=…&v=1`    | —                     | 204: the client closed the session   |
 *
 * Each polling session is a {@link PollingSession} fed to `core.accept()`, like a
 * WebSocket in `ws-gateway.ts`; sessions are found by id in a {@link PollingSessionStore}.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Scope } from '../env/index.js';
import { CloseCode, PROTOCOL_VERSION, utf8Length } from '../protocol/index.js';
import type { GatewayCore } from '../server/gateway.js';
import { PollingSession } from '../server/polling-session.js';
import {
  createMemoryPollingSessionStore,
  type PollingSessionStore,
} from '../server/polling-store.js';
import { HttpError, sendJson } from './http-errors.js';
import { readBody } from './http-body.js';

/** Default of {@link PollingOptions.holdMs}: well under common 30–60 s proxy idle timeouts. */
export const DEFAULT_POLL_HOLD_MS = 25_000;
/** Default of {@link PollingOptions.maxBodyBytes}: 1 MiB. */
export const DEFAULT_POLL_MAX_BODY_BYTES = 1024 * 1024;
/** The query parameter that carries the protocol version. */
export const POLL_VERSION_PARAM = 'v';

export interface PollingOptions {
  /**
   * Longest time a `GET` is held when no frame is waiting; it is then answered with `[]`,
   * in ms. @default 25_000
   */
  readonly holdMs?: number;
  /** Largest `POST` body (a batch of frames), in bytes; larger ones get 413. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Where sessions are found by id. @default a store in this process's memory */
  readonly store?: PollingSessionStore<PollingSession>;
}

export interface PollingHandler {
  /** Answer a request for `{path}/poll…` and return true; return false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Polling sessions currently known (open or waiting for their close frame to be taken). */
  readonly sessions: number;
  /** Forget every session and its timers. Call after the core closed its sessions. */
  close(): void;
}

/** Error codes of polling responses (`{ error: { code, message } }`). */
export const PollErrorCode = {
  BAD_REQUEST: 'bad_request',
  UNSUPPORTED_VERSION: 'unsupported_version',
  SESSION_GONE: 'session_gone',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  FORBIDDEN: 'forbidden',
  METHOD_NOT_ALLOWED: 'method_not_allowed',
  NOT_FOUND: 'not_found',
} as const;

interface Route {
  readonly path: string;
  readonly query: URLSearchParams;
}

function routeOf(url: string | undefined): Route {
  const parsed = new URL(url ?? '/', 'http://lifeline.invalid');
  return { path: parsed.pathname, query: parsed.searchParams };
}

function fail(res: ServerResponse, status: number, code: string, message: string, headers = {}) {
  sendJson(res, status, { error: { code, message } }, headers);
}

function framesBody(frames: readonly string[]): string {
  // Frames are already serialized (a broadcast once for every session): join, do not re-encode.
  return `[${frames.join(',')}]`;
}

function sendFrames(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(utf8.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

export interface PollingDeps {
  readonly core: GatewayCore;
  /** The WebSocket endpoint's path; polling lives at `{path}/poll`. */
  readonly path: string;
  readonly allowOrigin: (origin: string | undefined) => boolean;
}

/** Create the polling routes of a gateway. Throws `InvalidOptionError` for bad options. */
export function createPollingHandler(deps: PollingDeps, options: PollingOptions): PollingHandler {
  const { core, allowOrigin } = deps;
  const { logger, maxFrameBytes, idleTimeoutMs, handshakeTimeoutMs, clock } = core.options;
  const holdMs = options.holdMs ?? DEFAULT_POLL_HOLD_MS;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_POLL_MAX_BODY_BYTES;
  const store = options.store ?? createMemoryPollingSessionStore<PollingSession>();
  const scope = new Scope(clock);
  const base = `${deps.path.replace(/\/$/, '')}/poll`;
  const openPath = `${base}/open`;

  function corsHeaders(req: IncomingMessage): Record<string, string> | undefined {
    const origin = req.headers.origin;
    let allowed: boolean;
    try {
      allowed = allowOrigin(origin);
    } catch (error) {
      logger.error({ err: error }, 'allowedOrigins threw');
      allowed = false;
    }
    if (!allowed) return undefined;
    return origin === undefined ? {} : { 'access-control-allow-origin': origin, vary: 'origin' };
  }

  function versionProblem(query: URLSearchParams): string | undefined {
    const v = query.get(POLL_VERSION_PARAM);
    if (v === null)
      return `Missing the protocol version: add ?${POLL_VERSION_PARAM}=${PROTOCOL_VERSION}.`;
    if (v !== String(PROTOCOL_VERSION))
      return `Unsupported protocol version ${JSON.stringify(v.slice(0, 20))}; this gateway speaks ${PROTOCOL_VERSION}.`;
    return undefined;
  }

  function newSession(req: IncomingMessage): PollingSession {
    // 128 random bits: a session id is the only credential of the requests that follow.
    const id = randomBytes(16).toString('base64url');
    const session = new PollingSession({
      id,
      info: {
        remoteAddress: req.socket.remoteAddress,
        headers: req.headers,
        transport: 'polling',
      },
      scope: scope.child(),
      idleTimeoutMs,
      gone: (s) => {
        if (store.get(s.id) === s) store.delete(s.id);
      },
    });
    store.set(id, session);
    return session;
  }

  /** Read a body; 413 (and the session, if any, closed with 4002) past `limit`. */
  async function body(
    req: IncomingMessage,
    res: ServerResponse,
    limit: number,
    headers: Record<string, string>,
    session?: PollingSession,
  ): Promise<Buffer | undefined> {
    try {
      return await readBody(req, limit);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 400;
      if (status === 413) {
        session?.fail(CloseCode.FRAME_TOO_LARGE);
        fail(res, 413, PollErrorCode.PAYLOAD_TOO_LARGE, `Body is larger than ${limit} bytes.`, {
          ...headers,
          connection: 'close',
        });
      } else {
        session?.fail(CloseCode.PROTOCOL_ERROR);
        fail(res, 400, PollErrorCode.BAD_REQUEST, 'The request body could not be read.', headers);
      }
      return undefined;
    }
  }

  async function open(req: IncomingMessage, res: ServerResponse, h: Record<string, string>) {
    // `hello` is one frame: the per-frame limit applies (twice it, as on WebSocket, is 413).
    const bytes = await body(req, res, 2 * maxFrameBytes, h);
    if (bytes === undefined) return;
    const hello = parseJson(bytes);
    if (typeof hello !== 'object' || hello === null || Array.isArray(hello)) {
      return fail(res, 400, PollErrorCode.BAD_REQUEST, 'Body must be the hello frame.', h);
    }
    const session = newSession(req);
    session.getting = true; // the open request waits like a GET
    session.handler = core.accept(session);
    const text = JSON.stringify(hello);
    session.handler.message(text, utf8Length(text));
    // Authentication is asynchronous; the core closes with 4003 at its handshake deadline.
    const waiting = session.wait(handshakeTimeoutMs + 1_000);
    req.once('close', () => {
      if (!res.writableFinished) waiting.cancel();
    });
    await waiting.promise;
    if (res.destroyed) {
      // The client left before the welcome: nobody will poll this session.
      session.polled();
      return;
    }
    const { frames, last } = session.take();
    session.polled();
    const closeFrame = last ? frames.at(-1) : undefined;
    const code = closeFrame === undefined ? undefined : closeCodeOf(closeFrame);
    const status = code === CloseCode.AUTH_FAILED || code === CloseCode.AUTH_EXPIRED ? 401 : 200;
    const sid = last ? '' : `"sid":${JSON.stringify(session.id)},`;
    sendFrames(res, status, `{${sid}"frames":${framesBody(frames)}}`, h);
  }

  async function get(
    req: IncomingMessage,
    res: ServerResponse,
    session: PollingSession,
    h: Record<string, string>,
  ) {
    if (session.getting) {
      session.fail(CloseCode.PROTOCOL_ERROR);
      return fail(
        res,
        400,
        PollErrorCode.BAD_REQUEST,
        'Another GET of this session is in flight.',
        h,
      );
    }
    session.polling();
    const waiting = session.wait(holdMs);
    const onClose = (): void => {
      if (!res.writableFinished) waiting.cancel();
    };
    req.once('close', onClose);
    await waiting.promise;
    req.off('close', onClose);
    if (res.destroyed) {
      // The client gave up on this GET: its frames stay queued for the next one.
      session.polled();
      return;
    }
    const { frames } = session.take();
    session.polled();
    sendFrames(res, 200, framesBody(frames), h);
  }

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    session: PollingSession,
    h: Record<string, string>,
  ) {
    if (session.posting) {
      session.fail(CloseCode.PROTOCOL_ERROR);
      return fail(
        res,
        400,
        PollErrorCode.BAD_REQUEST,
        'Another POST of this session is in flight.',
        h,
      );
    }
    session.posting = true;
    try {
      const bytes = await body(req, res, maxBodyBytes, h, session);
      if (bytes === undefined) return;
      const frames = parseJson(bytes);
      if (!Array.isArray(frames)) {
        session.fail(CloseCode.PROTOCOL_ERROR);
        return fail(res, 400, PollErrorCode.BAD_REQUEST, 'Body must be a JSON array of frames.', h);
      }
      for (const frame of frames) {
        if (session.ended) break;
        // Each frame is checked by the core as it would be on WebSocket (size 4002, shape 4000).
        const text = JSON.stringify(frame) ?? 'null';
        session.handler.message(text, utf8Length(text));
      }
      res.writeHead(204, h).end();
    } finally {
      session.posting = false;
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const h = corsHeaders(req);
    if (h === undefined) {
      return fail(res, 403, PollErrorCode.FORBIDDEN, 'Origin not allowed.');
    }
    if (req.method === 'OPTIONS') {
      res
        .writeHead(204, {
          ...h,
          'access-control-allow-methods': 'GET, POST, DELETE',
          'access-control-allow-headers': 'content-type',
          'access-control-max-age': '600',
        })
        .end();
      return;
    }
    const problem = versionProblem(route.query);
    if (problem !== undefined) {
      return fail(res, 400, PollErrorCode.UNSUPPORTED_VERSION, problem, h);
    }
    if (route.path === openPath) {
      if (req.method !== 'POST') {
        return fail(res, 405, PollErrorCode.METHOD_NOT_ALLOWED, 'Use POST.', {
          ...h,
          allow: 'POST',
        });
      }
      return open(req, res, h);
    }
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'DELETE') {
      return fail(res, 405, PollErrorCode.METHOD_NOT_ALLOWED, 'Use GET, POST or DELETE.', {
        ...h,
        allow: 'GET, POST, DELETE',
      });
    }
    const sid = route.query.get('sid');
    const session = sid === null ? undefined : store.get(sid);
    if (session === undefined || (session.ended && !(req.method === 'GET' && session.ready))) {
      return fail(
        res,
        410,
        PollErrorCode.SESSION_GONE,
        'No such polling session; open a new one.',
        h,
      );
    }
    if (req.method === 'DELETE') {
      session.leave();
      res.writeHead(204, h).end();
      return;
    }
    return req.method === 'GET' ? get(req, res, session, h) : post(req, res, session, h);
  }

  return {
    handle(req, res) {
      const route = routeOf(req.url);
      if (route.path !== base && route.path !== openPath) return false;
      serve(req, res, route).catch((error: unknown) => {
        logger.error({ err: error }, 'polling request failed');
        fail(res, 500, 'internal_error', 'Internal server error.');
      });
      return true;
    },
    get sessions() {
      return store.size;
    },
    close() {
      for (const session of [...store.values()]) session.terminate();
      scope.dispose();
    },
  };
}

function closeCodeOf(text: string): number | undefined {
  const frame = JSON.parse(text) as { type?: unknown; code?: unknown };
  return frame.type === 'close' && typeof frame.code === 'number' ? frame.code : undefined;
}
