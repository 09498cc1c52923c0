/**
 * The HTTP API backends use to reach users: publish, message status, presence, disconnect
 * and a health check.
 *
 * `createHttpApi()` returns a plain Node request handler that answers its own routes and
 * returns `false` for every other path, so the `lifeline` CLI (or an application's own
 * server) can chain it with other handlers. It never throws and never crashes on input:
 * every failure becomes a JSON error response `{ error: { code, message } }`.
 *
 * | route                     | auth   | answer                                              |
 * | ------------------------- | ------ | --------------------------------------------------- |
 * | `GET /healthz`            | none   | `{ status: 'ok', sessions }`                        |
 * | `POST /api/publish`       | Bearer | `{ id, positions, delivered, duplicate, expiresAt? }` |
 * | `GET /api/messages/:id`   | Bearer | `MessageStatus` (`?limit=`), 404 for an unknown id  |
 * | `GET /api/presence/:user` | Bearer | `{ user, tenant?, sessions: [...] }`                |
 * | `POST /api/disconnect`    | Bearer | `{ disconnected }` (sessions closed with 4104)      |
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  DisconnectTarget,
  MessageStatus,
  MessageStatusOptions,
  PublishInput,
  PublishResult,
  SessionInfo,
  UserFilter,
} from '../server/types.js';
import { CloseCode, InvalidOptionError } from '../protocol/index.js';
import { PublishConflictError, PublishError } from '../server/types.js';
import { silentLogger, type Logger } from '../server/logger.js';
import { createBearerCheck } from './http-auth.js';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './http-body.js';
import { parseDisconnectBody } from './http-disconnect.js';
import {
  HttpError,
  HttpErrorCode,
  methodNotAllowed,
  sendHttpError,
  sendJson,
} from './http-errors.js';
import { MESSAGES_PREFIX, parseMessageRequest } from './http-messages.js';
import { IDEMPOTENCY_KEY_HEADER, parsePublishBody } from './http-publish.js';
import { requestTarget, type RequestTarget } from './http-request.js';

/** The part of a gateway the HTTP API uses. */
export interface HttpApiGateway {
  publish(input: PublishInput): Promise<PublishResult>;
  /**
   * Delivery status of a message, for `GET /api/messages/:id`. Without it the route
   * answers 501 `not_implemented`.
   */
  messageStatus?(id: string, options?: MessageStatusOptions): Promise<MessageStatus | undefined>;
  /** Open sessions of one user (of one tenant). */
  sessions(filter: UserFilter): readonly SessionInfo[];
  /** Close sessions with `code`; returns how many were closed. */
  disconnect(target: DisconnectTarget, code: CloseCode): number;
  /** Only `sessions`, the number of open sessions, is read. */
  stats(): { readonly sessions: number };
}

export interface HttpApiOptions {
  /**
   * The key backends send as `Authorization: Bearer <apiKey>` on `/api/*`. When it is
   * `undefined` the `/api/*` routes are disabled and answer 503 `api_disabled`
   * (`/healthz` still works).
   */
  readonly apiKey: string | undefined;
  /**
   * Largest request body accepted, in bytes; larger ones get 413 and are not read further.
   * @default DEFAULT_MAX_BODY_BYTES (1 MiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * Where unexpected errors are logged (pino-compatible).
   * @default a logger that discards everything
   */
  readonly logger?: Logger;
}

/** A Node request handler that resolves `true` when it answered the request. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

const PRESENCE_PREFIX = '/api/presence/';
const DISCONNECT_PATH = '/api/disconnect';

/** What the presence route tells about one live session. */
export interface PresenceSession {
  readonly id: string;
  readonly device: string | undefined;
  readonly connectedAt: number;
  readonly transport: 'websocket' | 'polling';
  /** The channels the session is subscribed to, sorted. */
  readonly channels: readonly string[];
}

/** Create the HTTP API handler for a gateway. Throws `InvalidOptionError` for bad options. */
export function createHttpApi(gateway: HttpApiGateway, options: HttpApiOptions): HttpHandler {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new InvalidOptionError(`maxBodyBytes must be a positive integer (got ${maxBodyBytes})`);
  }
  if (options.apiKey === '') throw new InvalidOptionError('apiKey must not be empty');
  const logger = options.logger ?? silentLogger;
  const checkBearer = options.apiKey === undefined ? undefined : createBearerCheck(options.apiKey);

  function authorize(req: IncomingMessage): void {
    if (checkBearer === undefined) {
      throw new HttpError(
        503,
        HttpErrorCode.API_DISABLED,
        'The API is disabled: the server was started without an API key.',
      );
    }
    checkBearer(req.headers.authorization);
  }

  function healthz(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(['GET', 'HEAD']);
    sendJson(res, 200, { status: 'ok', sessions: gateway.stats().sessions });
  }

  async function publish(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw methodNotAllowed(['POST']);
    authorize(req);
    const header = req.headers[IDEMPOTENCY_KEY_HEADER];
    const input = parsePublishBody(
      await readJsonBody(req, maxBodyBytes),
      Array.isArray(header) ? header.join(', ') : header,
    );
    let result: PublishResult;
    try {
      result = await gateway.publish(input);
    } catch (error) {
      if (error instanceof PublishConflictError) {
        throw new HttpError(422, HttpErrorCode.IDEMPOTENCY_KEY_REUSED, error.message, {
          field: 'idempotencyKey',
          cause: error,
        });
      }
      if (error instanceof PublishError) {
        throw new HttpError(400, HttpErrorCode.BAD_REQUEST, error.message, {
          ...(error.field === undefined ? {} : { field: error.field }),
          cause: error,
        });
      }
      throw error;
    }
    logger.debug(
      { id: result.id, delivered: result.delivered, duplicate: result.duplicate },
      'published',
    );
    sendJson(res, 200, {
      id: result.id,
      positions: result.positions,
      delivered: result.delivered,
      duplicate: result.duplicate,
      ...(result.expiresAt === undefined ? {} : { expiresAt: result.expiresAt }),
    });
  }

  async function message(
    req: IncomingMessage,
    res: ServerResponse,
    url: RequestTarget,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(['GET', 'HEAD']);
    authorize(req);
    const { id, limit } = parseMessageRequest(url);
    if (gateway.messageStatus === undefined) {
      throw new HttpError(
        501,
        HttpErrorCode.NOT_IMPLEMENTED,
        'This gateway does not report message status.',
      );
    }
    const status = await gateway.messageStatus(id, limit === undefined ? {} : { limit });
    if (status === undefined) {
      throw new HttpError(
        404,
        HttpErrorCode.NOT_FOUND,
        'No message with this id: unknown, or older than the gateway keeps records.',
      );
    }
    sendJson(res, 200, status);
  }

  function presence(req: IncomingMessage, res: ServerResponse, url: RequestTarget): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(['GET', 'HEAD']);
    authorize(req);
    let user: string;
    try {
      user = decodeURIComponent(url.pathname.slice(PRESENCE_PREFIX.length));
    } catch {
      throw new HttpError(400, HttpErrorCode.BAD_REQUEST, 'The user id is not valid UTF-8.', {
        field: 'user',
      });
    }
    if (user === '' || user.includes('/')) {
      throw new HttpError(400, HttpErrorCode.BAD_REQUEST, 'Use GET /api/presence/<user id>.', {
        field: 'user',
      });
    }
    const tenant = url.searchParams.get('tenant') ?? undefined;
    const sessions: PresenceSession[] = gateway
      .sessions(tenant === undefined ? { user } : { user, tenant })
      .map((s) => ({
        id: s.id,
        device: s.device,
        connectedAt: s.connectedAt,
        transport: s.transport,
        channels: [...s.channels].sort(),
      }));
    sendJson(res, 200, { user, ...(tenant === undefined ? {} : { tenant }), sessions });
  }

  async function disconnect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw methodNotAllowed(['POST']);
    authorize(req);
    const { user, tenant, session } = parseDisconnectBody(await readJsonBody(req, maxBodyBytes));
    const filter: UserFilter = tenant === undefined ? { user } : { user, tenant };
    let disconnected: number;
    if (session === undefined) {
      disconnected = gateway.disconnect(filter, CloseCode.KICKED);
    } else {
      // A session id alone would do; requiring its owner keeps a typo in one field
      // from ending somebody else's session.
      const owned = gateway.sessions(filter).some((s) => s.id === session);
      disconnected = owned ? gateway.disconnect({ session }, CloseCode.KICKED) : 0;
    }
    logger.debug({ user, tenant, session, disconnected }, 'disconnected');
    sendJson(res, 200, { disconnected });
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    url: RequestTarget,
  ): Promise<void> {
    if (url.pathname === '/healthz') healthz(req, res);
    else if (url.pathname === '/api/publish') await publish(req, res);
    else if (url.pathname === DISCONNECT_PATH) await disconnect(req, res);
    else if (url.pathname.startsWith(MESSAGES_PREFIX)) await message(req, res, url);
    else presence(req, res, url);
  }

  function fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (error instanceof HttpError) {
      // The caller's mistake (or the API being off): worth a trace, not an alert.
      logger.debug({ status: error.status, code: error.code, url: req.url }, error.message);
      sendHttpError(res, error);
      return;
    }
    // Anything else is a bug or an outage: log it whole, answer without its text.
    logger.error({ err: error, method: req.method, url: req.url }, 'http api request failed');
    sendHttpError(
      res,
      new HttpError(500, HttpErrorCode.INTERNAL, 'Internal server error.', { cause: error }),
    );
  }

  return (req, res) => {
    const url = requestTarget(req.url);
    const path = url.pathname;
    const ours =
      path === '/healthz' ||
      path === '/api/publish' ||
      path === DISCONNECT_PATH ||
      path.startsWith(MESSAGES_PREFIX) ||
      path.startsWith(PRESENCE_PREFIX);
    if (!ours) {
      return false;
    }
    return route(req, res, url).then(
      () => true,
      (error: unknown) => {
        fail(req, res, error);
        return true;
      },
    );
  };
}
