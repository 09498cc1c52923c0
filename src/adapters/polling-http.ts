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
 * Each polling session is a {@link PollingSession} fed to `core.accept()` on the node that
 * opened it (its owner), like a WebSocket in `ws-gateway.ts`. Its frames and in-flight
 * marks live in a {@link PollingStore}, so any node sharing the store answers any of its
 * requests: a `GET` takes the frames from the store, a `POST` to another node is forwarded
 * through the store to the owner (PROTOCOL.md §11.6).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Scope } from '../env/index.js';
import {
  CLOSE_REASON,
  CloseCode,
  InvalidOptionError,
  PROTOCOL_VERSION,
  encodeServerFrame,
  utf8Length,
  type CloseCode as CloseCodeType,
} from '../protocol/index.js';
import type { GatewayCore } from '../server/gateway.js';
import { PollingSession } from '../server/polling-session.js';
import { createMemoryPollingStore } from '../storage/memory-polling.js';
import type { PollingForward, PollingStore } from '../storage/polling.js';
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
  readonly allowOrigin: (origin: string | undefined) => boolean;
}

/** Create the polling routes of a gateway. Throws `InvalidOptionError` for bad options. */
export function createPollingHandler(deps: PollingDeps, options: PollingOptions): PollingHandler {
  const { core, allowOrigin } = deps;
  const { logger, maxFrameBytes, idleTimeoutMs, handshakeTimeoutMs, clock } = core.options;
  const holdMs = positive('polling.holdMs', options.holdMs, DEFAULT_POLL_HOLD_MS);
  const maxBodyBytes = positive(
    'polling.maxBodyBytes',
    options.maxBodyBytes,
    DEFAULT_POLL_MAX_BODY_BYTES,
  );
  const checkMs = positive(
    'polling.crossNodeCheckMs',
    options.crossNodeCheckMs,
    DEFAULT_CROSS_NODE_CHECK_MS,
  );
  const nodeTimeoutMs = positive(
    'polling.nodeTimeoutMs',
    options.nodeTimeoutMs,
    DEFAULT_NODE_TIMEOUT_MS,
  );
  if (nodeTimeoutMs <= checkMs) {
    throw new InvalidOptionError(
      'polling.nodeTimeoutMs must be larger than polling.crossNodeCheckMs.',
    );
  }
  const ownStore = options.store === undefined;
  const store = options.store ?? createMemoryPollingStore();
  const node = options.nodeId ?? randomBytes(9).toString('base64url');
  const scope = new Scope(clock);
  const base = `${deps.path.replace(/\/$/, '')}/poll`;
  const openPath = `${base}/open`;
  /** The sessions this node runs. */
  const owned = new Map<string, PollingSession>();
  /** `GET`s held on this node, by session id: call to re-check the store. */
  const held = new Map<string, () => void>();
  let closed = false;

  // ---------------------------------------------------------------- the node's heartbeat

  let lastBeat = -Infinity;
  const ready = beat();

  async function beat(): Promise<void> {
    const now = clock.now();
    lastBeat = now;
    await store.heartbeat(node, now);
    // Sessions that ended unseen, and nodes (with their sessions) long gone.
    await store.sweep(now - idleTimeoutMs, now - 3 * nodeTimeoutMs);
  }

  /** One check: frames forwarded to this node's sessions, frames for GETs held here. */
  async function tick(): Promise<void> {
    if (closed) return;
    try {
      if (clock.now() - lastBeat >= nodeTimeoutMs / 4) await beat();
      await drainForwarded();
      for (const [id, wake] of held) if (!owned.has(id)) wake();
    } catch (error) {
      logger.error({ err: error }, 'polling store check failed');
    }
  }
  function schedule(): void {
    scope.setTimeout(() => {
      void tick().finally(() => {
        if (!closed) schedule();
      });
    }, checkMs);
  }
  schedule();

  async function drainForwarded(): Promise<void> {
    for (const { id, item } of await store.takeForwarded(node)) {
      const session = owned.get(id);
      if (session !== undefined) deliver(session, item);
    }
  }

  function deliver(session: PollingSession, item: PollingForward): void {
    if (item.kind === 'end') {
      if (item.code === CloseCode.NORMAL) session.leave();
      else session.fail(item.code as CloseCodeType);
      return;
    }
    for (const text of item.frames) {
      if (session.ended) break;
      // Each frame is checked by the core as it would be on WebSocket (size 4002, shape 4000).
      session.handler.message(text, utf8Length(text));
    }
  }

  /** End a session from the transport, on whichever node runs it. */
  async function end(id: string, code: CloseCodeType): Promise<void> {
    const session = owned.get(id);
    if (session !== undefined) {
      if (code === CloseCode.NORMAL) session.leave();
      else session.fail(code);
    } else {
      await store.forward(id, { kind: 'end', code });
    }
  }

  // ---------------------------------------------------------------- waiting for frames

  /**
   * Resolve when the session may have frames (a write on this node, or the cross-node
   * check), after `ms`, or when `cancel` is called. One waiter per session on a node: the
   * store refuses a second `GET` first.
   */
  function hold(id: string, ms: number): { readonly promise: Promise<boolean>; cancel(): void } {
    let done: (woken: boolean) => void = () => {};
    const promise = new Promise<boolean>((resolve) => (done = resolve));
    const finish = (woken: boolean): void => {
      cancelTimer();
      if (held.get(id) === wake) held.delete(id);
      done(woken);
    };
    const wake = (): void => finish(true);
    const cancelTimer = scope.setTimeout(() => finish(false), ms);
    held.set(id, wake);
    return { promise, cancel: () => finish(false) };
  }

  /**
   * Wait up to `ms` for frames of session `id` (or its end), then take them. `undefined`
   * when the client went away first (`aborted`).
   */
  async function collect(
    id: string,
    ms: number,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<PollTake | undefined> {
    const deadline = clock.now() + ms;
    let gaveUp = false;
    let current: { cancel(): void } | undefined;
    const onClose = (): void => {
      if (res.writableFinished) return;
      gaveUp = true;
      current?.cancel();
    };
    req.once('close', onClose);
    try {
      for (;;) {
        // Listen before looking, so a write in between is not missed.
        const waiting = hold(id, Math.max(0, deadline - clock.now()));
        current = waiting;
        const record = await store.get(id);
        if (record === undefined || record.queued || record.ended || gaveUp) waiting.cancel();
        else if (record.node !== node && !(await ownerAlive(record.node))) {
          await store.abandon(id, goneFrame(), clock.now());
          waiting.cancel();
        }
        const woken = await waiting.promise;
        if (gaveUp || res.destroyed) {
          await store.endGet(id, clock.now());
          return undefined;
        }
        if (!woken) break;
      }
      const taken = await store.take(id, clock.now());
      owned.get(id)?.taken();
      return taken;
    } finally {
      req.off('close', onClose);
    }
  }

  const seen = new Map<string, number>();
  /** Whether `other` beat within `nodeTimeoutMs`; remembered for a check interval. */
  async function ownerAlive(other: string): Promise<boolean> {
    const now = clock.now();
    const known = seen.get(other);
    if (known !== undefined && now - known < nodeTimeoutMs - checkMs) return true;
    const at = await store.nodeSeenAt(other);
    if (at === undefined) return false;
    seen.set(other, at);
    return now - at < nodeTimeoutMs;
  }

  function goneFrame(): string {
    const code = CloseCode.SHUTTING_DOWN;
    return encodeServerFrame({ type: 'close', code, reason: CLOSE_REASON[code] });
  }

  // ---------------------------------------------------------------- requests

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

  async function newSession(req: IncomingMessage): Promise<PollingSession> {
    // 128 random bits: a session id is the only credential of the requests that follow.
    const id = randomBytes(16).toString('base64url');
    const now = clock.now();
    await store.create(id, node, now);
    // The open request waits for the first frames like a GET.
    await store.beginGet(id, now, now + handshakeTimeoutMs + GET_MARK_SLACK_MS);
    const session = new PollingSession({
      id,
      info: {
        remoteAddress: req.socket.remoteAddress,
        headers: req.headers,
        transport: 'polling',
      },
      store,
      clock,
      logger,
      scope: scope.child(),
      idleTimeoutMs,
      wrote: (sid) => held.get(sid)?.(),
      gone: (s) => {
        if (owned.get(s.id) === s) owned.delete(s.id);
      },
    });
    owned.set(id, session);
    return session;
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
        if (sid !== undefined) await end(sid, CloseCode.FRAME_TOO_LARGE);
        fail(res, 413, PollErrorCode.PAYLOAD_TOO_LARGE, `Body is larger than ${limit} bytes.`, {
          ...headers,
          connection: 'close',
        });
      } else {
        if (sid !== undefined) await end(sid, CloseCode.PROTOCOL_ERROR);
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
    await ready;
    const session = await newSession(req);
    session.handler = core.accept(session);
    const text = JSON.stringify(hello);
    session.handler.message(text, utf8Length(text));
    // Authentication is asynchronous; the core closes with 4003 at its handshake deadline.
    const taken = await collect(session.id, handshakeTimeoutMs + 1_000, req, res);
    // The client left before the welcome: nobody will poll this session (idle closes it).
    if (taken === undefined) return;
    const { frames, last } = taken;
    const closeFrame = last ? frames.at(-1) : undefined;
    const code = closeFrame === undefined ? undefined : closeCodeOf(closeFrame);
    const status = code === CloseCode.AUTH_FAILED || code === CloseCode.AUTH_EXPIRED ? 401 : 200;
    const sid = last ? '' : `"sid":${JSON.stringify(session.id)},`;
    sendFrames(res, status, `{${sid}"frames":${framesBody(frames)}}`, h);
  }

  function overlap(res: ServerResponse, h: Record<string, string>, what: string) {
    return fail(
      res,
      400,
      PollErrorCode.BAD_REQUEST,
      `Another ${what} of this session is in flight.`,
      h,
    );
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
    if (begun === 'busy') {
      await end(sid, CloseCode.PROTOCOL_ERROR);
      return overlap(res, h, 'GET');
    }
    const taken = await collect(sid, holdMs, req, res);
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
    const begun = await store.beginPost(sid, clock.now(), clock.now() + POST_MARK_MS);
    if (begun === 'gone') return gone(res, h);
    if (begun === 'busy') {
      await end(sid, CloseCode.PROTOCOL_ERROR);
      return overlap(res, h, 'POST');
    }
    try {
      const bytes = await body(req, res, maxBodyBytes, h, sid);
      if (bytes === undefined) return;
      const frames = parseJson(bytes);
      if (!Array.isArray(frames)) {
        await end(sid, CloseCode.PROTOCOL_ERROR);
        return fail(res, 400, PollErrorCode.BAD_REQUEST, 'Body must be a JSON array of frames.', h);
      }
      const texts = frames.map((frame) => JSON.stringify(frame) ?? 'null');
      let session = owned.get(sid);
      if (session !== undefined) {
        // Frames posted earlier through other nodes come first.
        await drainForwarded();
        session = owned.get(sid);
      }
      const delivered =
        session !== undefined
          ? (deliver(session, { kind: 'frames', frames: texts }), true)
          : await store.forward(sid, { kind: 'frames', frames: texts });
      if (!delivered) return gone(res, h);
      res.writeHead(204, h).end();
    } finally {
      await store.endPost(sid);
    }
  }

  function gone(res: ServerResponse, h: Record<string, string>) {
    return fail(
      res,
      410,
      PollErrorCode.SESSION_GONE,
      'No such polling session; open a new one.',
      h,
    );
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
    if (closed) {
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
      await end(sid, CloseCode.NORMAL);
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
      return owned.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      const sessions = [...owned.values()];
      for (const session of sessions) session.terminate();
      await Promise.all(sessions.map((session) => session.flushed()));
      // Held GETs take what the sessions wrote last (their close frames) and answer.
      for (const wake of [...held.values()]) wake();
      scope.dispose();
      if (ownStore) await store.close();
    },
  };
}

/** How long past its hold a `GET` mark outlives a node that died while holding it, in ms. */
const GET_MARK_SLACK_MS = 5_000;
/** How long a `POST` mark outlives a node that died while reading the body, in ms. */
const POST_MARK_MS = 30_000;

type PollTake = Awaited<ReturnType<PollingStore['take']>>;

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
