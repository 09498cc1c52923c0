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
 * Each polling session runs on the node that opened it (its owner), fed to `core.accept()`
 * like a WebSocket in `ws-gateway.ts`. Its frames and in-flight marks live in a
 * {@link PollingStore}, so any node sharing the store answers any of its requests: a `GET`
 * takes the frames from the store, a `POST` to another node is forwarded through the store
 * to the owner (PROTOCOL.md §11.6). What a node does with the store is `PollingNode`'s
 * (`src/server/polling-node.ts`); this file is HTTP only.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode, InvalidOptionError, PROTOCOL_VERSION } from '../protocol/index.js';
import type { GatewayCore } from '../server/gateway.js';
import { GET_MARK_SLACK_MS, PollingNode } from '../server/polling-node.js';
import { createMemoryPollingStore } from '../storage/memory-polling.js';
import type { PollingStore } from '../storage/polling.js';
import { HttpError, sendJson } from './http-errors.js';
import { readBody } from './http-body.js';

/** Default of {@link PollingOptions.holdMs}: well under common 30–60 s proxy idle timeouts. */
export const DEFAULT_POLL_HOLD_MS = 25_000;
/** Default of {@link PollingOptions.maxBodyBytes}: 1 MiB. */
export const DEFAULT_POLL_MAX_BODY_BYTES = 1024 * 1024;
/** Default of {@link PollingOptions.crossNodeCheckMs}. */
export const DEFAULT_CROSS_NODE_CHECK_MS = 100;
/** Default of {@link PollingOptions.nodeTimeoutMs}. */
export const DEFAULT_NODE_TIMEOUT_MS = 10_000;
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
  /**
   * Where sessions, their waiting frames and their in-flight marks live. Nodes that share
   * a store answer each other's sessions: `createSqlitePollingStore` shares one file
   * between the gateway processes of a machine. The gateway does not close a store it was
   * given. @default a store in this process's memory
   */
  readonly store?: PollingStore;
  /** This node's name in the store; unique per running gateway. @default random */
  readonly nodeId?: string;
  /**
   * How often this node looks in the store for frames posted to its sessions through other
   * nodes, and for frames other nodes wrote to sessions whose `GET` it holds, in ms.
   * @default 100
   */
  readonly crossNodeCheckMs?: number;
  /**
   * A node silent in the store for this long is gone: the first node that serves a request
   * of one of its sessions ends the session with 4007, and the client resumes on a new one.
   * Each node records that it is alive every quarter of this, in ms. @default 10_000
   */
  readonly nodeTimeoutMs?: number;
}

export interface PollingHandler {
  /** Answer a request for `{path}/poll…` and return true; return false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Polling sessions this node runs. */
  readonly sessions: number;
  /**
   * Answer held `GET`s, end this node's sessions and stop its timers. Call after the core
   * closed its sessions. Does not close a store it was given.
   */
  close(): Promise<void>;
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
  SHUTTING_DOWN: 'shutting_down',
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
  /** Whether a browser origin may use the gateway; never throws. */
  readonly allowOrigin: (origin: string | undefined) => boolean;
}

/** Create the polling routes of a gateway. Throws `InvalidOptionError` for bad options. */
export function createPollingHandler(deps: PollingDeps, options: PollingOptions): PollingHandler {
  const { core, allowOrigin } = deps;
  const { logger, maxFrameBytes, handshakeTimeoutMs, clock } = core.options;
  const holdMs = positive('polling.holdMs', options.holdMs, DEFAULT_POLL_HOLD_MS);
  const maxBodyBytes = positive(
    'polling.maxBodyBytes',
    options.maxBodyBytes,
    DEFAULT_POLL_MAX_BODY_BYTES,
  );
  const crossNodeCheckMs = positive(
    'polling.crossNodeCheckMs',
    options.crossNodeCheckMs,
    DEFAULT_CROSS_NODE_CHECK_MS,
  );
  const nodeTimeoutMs = positive(
    'polling.nodeTimeoutMs',
    options.nodeTimeoutMs,
    DEFAULT_NODE_TIMEOUT_MS,
  );
  if (nodeTimeoutMs <= crossNodeCheckMs) {
    throw new InvalidOptionError(
      'polling.nodeTimeoutMs must be larger than polling.crossNodeCheckMs.',
    );
  }
  const node = new PollingNode(core, {
    store: options.store ?? createMemoryPollingStore(),
    ownStore: options.store === undefined,
    id: options.nodeId ?? randomBytes(9).toString('base64url'),
    crossNodeCheckMs,
    nodeTimeoutMs,
  });
  const { store } = node;
  const base = `${deps.path.replace(/\/$/, '')}/poll`;
  const openPath = `${base}/open`;

  function corsHeaders(req: IncomingMessage): Record<string, string> | undefined {
    const origin = req.headers.origin;
    if (!allowOrigin(origin)) return undefined;
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

  /** Aborts when the client goes away before its answer was written. */
  function abandoned(req: IncomingMessage, res: ServerResponse): AbortSignal {
    const controller = new AbortController();
    req.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    return controller.signal;
  }

  /** Read a body; 413 (and the session, if any, closed with 4002) past `limit`. */
  async function body(
    req: IncomingMessage,
    res: ServerResponse,
    limit: number,
    headers: Record<string, string>,
    sid?: string,
  ): Promise<Buffer | undefined> {
    try {
      return await readBody(req, limit);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 400;
      if (status === 413) {
        if (sid !== undefined) await node.end(sid, CloseCode.FRAME_TOO_LARGE);
        fail(res, 413, PollErrorCode.PAYLOAD_TOO_LARGE, `Body is larger than ${limit} bytes.`, {
          ...headers,
          connection: 'close',
        });
      } else {
        if (sid !== undefined) await node.end(sid, CloseCode.PROTOCOL_ERROR);
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
    // 128 random bits: a session id is the only credential of the requests that follow.
    const sid = randomBytes(16).toString('base64url');
    const info = { remoteAddress: req.socket.remoteAddress, headers: req.headers } as const;
    await node.open(sid, { ...info, transport: 'polling' }, JSON.stringify(hello));
    // Authentication is asynchronous; the core closes with 4003 at its handshake deadline.
    const taken = await node.collect(sid, handshakeTimeoutMs + 1_000, abandoned(req, res));
    // The client left before the welcome: nobody will poll this session (idle closes it).
    if (taken === undefined) return;
    const { frames, last } = taken;
    const closeFrame = last ? frames.at(-1) : undefined;
    const code = closeFrame === undefined ? undefined : closeCodeOf(closeFrame);
    const status = code === CloseCode.AUTH_FAILED || code === CloseCode.AUTH_EXPIRED ? 401 : 200;
    const answer = last ? '' : `"sid":${JSON.stringify(sid)},`;
    sendFrames(res, status, `{${answer}"frames":${framesBody(frames)}}`, h);
  }

  async function overlap(
    res: ServerResponse,
    h: Record<string, string>,
    sid: string,
    what: string,
  ) {
    await node.end(sid, CloseCode.PROTOCOL_ERROR);
    fail(res, 400, PollErrorCode.BAD_REQUEST, `Another ${what} of this session is in flight.`, h);
  }

  function gone(res: ServerResponse, h: Record<string, string>) {
    fail(res, 410, PollErrorCode.SESSION_GONE, 'No such polling session; open a new one.', h);
  }

  async function get(
    req: IncomingMessage,
    res: ServerResponse,
    sid: string,
    h: Record<string, string>,
  ) {
    const now = clock.now();
    const begun = await store.beginGet(sid, now, now + holdMs + GET_MARK_SLACK_MS);
    if (begun === 'gone') return gone(res, h);
    if (begun === 'busy') return overlap(res, h, sid, 'GET');
    const taken = await node.collect(sid, holdMs, abandoned(req, res));
    // The client gave up on this GET: its frames stay queued for the next one.
    if (taken === undefined) return;
    sendFrames(res, 200, framesBody(taken.frames), h);
  }

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    sid: string,
    h: Record<string, string>,
  ) {
    const now = clock.now();
    const begun = await store.beginPost(sid, now, now + POST_MARK_MS);
    if (begun === 'gone') return gone(res, h);
    if (begun === 'busy') return overlap(res, h, sid, 'POST');
    try {
      const bytes = await body(req, res, maxBodyBytes, h, sid);
      if (bytes === undefined) return;
      const frames = parseJson(bytes);
      if (!Array.isArray(frames)) {
        await node.end(sid, CloseCode.PROTOCOL_ERROR);
        return fail(res, 400, PollErrorCode.BAD_REQUEST, 'Body must be a JSON array of frames.', h);
      }
      const texts = frames.map((frame) => JSON.stringify(frame) ?? 'null');
      if (!(await node.post(sid, texts))) return gone(res, h);
      res.writeHead(204, h).end();
    } finally {
      await store.endPost(sid);
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
    if (node.closed) {
      return fail(res, 503, PollErrorCode.SHUTTING_DOWN, 'The gateway is shutting down.', {
        ...h,
        'retry-after': '1',
      });
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
    if (sid === null || sid.length === 0 || sid.length > 64) return gone(res, h);
    if (req.method === 'DELETE') {
      const record = await store.get(sid);
      if (record === undefined || record.ended) return gone(res, h);
      await node.end(sid, CloseCode.NORMAL);
      res.writeHead(204, h).end();
      return;
    }
    return req.method === 'GET' ? get(req, res, sid, h) : post(req, res, sid, h);
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
      return node.sessions;
    },
    close: () => node.close(),
  };
}

/** How long a `POST` mark outlives a node that died while reading the body, in ms. */
const POST_MARK_MS = 30_000;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(`${name} must be a positive integer, got ${String(value)}.`);
  }
  return value;
}

function closeCodeOf(text: string): number | undefined {
  const frame = JSON.parse(text) as { type?: unknown; code?: unknown };
  return frame.type === 'close' && typeof frame.code === 'number' ? frame.code : undefined;
}
