/**
 * `lifeline serve`: one HTTP server carrying the WebSocket gateway, the HTTP API, the
 * `--dev` routes and the demo page. This file only composes; each part lives in its own
 * module.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApi, type HttpHandler } from '../adapters/http-api.js';
import { HttpError, HttpErrorCode, notFound, sendHttpError } from '../adapters/http-errors.js';
import { StoreOpenError } from '../adapters/sqlite-errors.js';
import { createSqliteStore, type SqliteStore } from '../adapters/sqlite-store.js';
import { createGateway } from '../adapters/ws-gateway.js';
import type { ServeConfig, StoreConfig } from './config.js';
import { createDevRoutes } from './dev-token.js';
import type { CliLogger } from './logger.js';
import { createStaticHandler, type StaticOptions } from './static.js';

/**
 * After the gateway has closed its sessions, how long HTTP requests still in flight may
 * take before their connections are cut, in ms.
 */
export const HTTP_DRAIN_TIMEOUT_MS = 5_000;

/** A started server. */
export interface RunningServer {
  /** Base HTTP URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** WebSocket endpoint, e.g. `ws://127.0.0.1:8080/ws`. */
  readonly wsUrl: string;
  /** The port actually bound (useful with `--port 0`). */
  readonly port: number;
  /** Where messages and acks are kept. */
  readonly store: StoreConfig;
  /** Close every session (4007), then the HTTP server, then the store. Idempotent. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  // A wildcard address is not something a browser can open; loopback reaches it.
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), HTTP_DRAIN_TIMEOUT_MS);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Keep-alive connections with no request in flight would hold `close()` open.
    server.closeIdleConnections();
  });
}

/** Open the SQLite store, creating its directory; `undefined` for the memory store. */
function openStore(config: StoreConfig): SqliteStore | undefined {
  if (config.kind === 'memory') return undefined;
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (cause) {
    throw new StoreOpenError(`Cannot create the data directory ${config.dataDir}.`, { cause });
  }
  return createSqliteStore({ path: config.path });
}

/**
 * Start the server described by `config`. Rejects when the store cannot be opened or the
 * port cannot be bound.
 */
export async function startServer(
  config: ServeConfig,
  logger: CliLogger,
  statics: StaticOptions = {},
): Promise<RunningServer> {
  const store = openStore(config.store);
  try {
    return await listenWith(config, logger, statics, store);
  } catch (error) {
    await store?.close();
    throw error;
  }
}

async function listenWith(
  config: ServeConfig,
  logger: CliLogger,
  statics: StaticOptions,
  store: SqliteStore | undefined,
): Promise<RunningServer> {
  const server = createServer();
  const jwt =
    config.jwtSecret !== undefined ? { secret: config.jwtSecret } : { jwksUrl: config.jwksUrl };
  const gateway = createGateway({
    server,
    path: config.path,
    jwt,
    logger: logger.child({ component: 'gateway' }),
    // Without a store the gateway keeps both in memory, and closes them itself.
    // Polling sessions in the same file: every process serving it answers every session.
    ...(store !== undefined
      ? { messageLog: store.log, ackStore: store.acks, polling: { store: store.polling } }
      : {}),
  });

  const handlers: HttpHandler[] = [
    // The polling transport at `${path}/poll`, next to the WebSocket endpoint.
    (req, res) => gateway.handleRequest(req, res),
    createHttpApi(gateway, { apiKey: config.apiKey, logger: logger.child({ component: 'http' }) }),
  ];
  if (config.dev && config.jwtSecret !== undefined) {
    handlers.push(
      createDevRoutes({ jwtSecret: config.jwtSecret, apiKey: config.apiKey, path: config.path }),
    );
  }
  handlers.push(createStaticHandler(statics));

  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      for (const handler of handlers) {
        if (await handler(req, res)) return;
      }
      sendHttpError(res, notFound());
    } catch (error) {
      logger.error({ err: error, method: req.method, url: req.url }, 'request failed');
      sendHttpError(res, new HttpError(500, HttpErrorCode.INTERNAL, 'Internal server error.'));
    }
  };
  server.on('request', (req, res) => void dispatch(req, res));

  await listen(server, config.port, config.host);
  const { port } = server.address() as AddressInfo;
  const host = urlHost(config.host);
  const url = `http://${host}:${port}`;
  const wsUrl = `ws://${host}:${port}${config.path}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    wsUrl,
    port,
    store: config.store,
    close() {
      closing ??= (async () => {
        // Sessions first, with 4007, so clients know to come back; then plain HTTP; the
        // store last, once no publish can still be appending.
        try {
          await gateway.close();
          await closeHttp(server);
        } finally {
          await store?.close();
        }
      })();
      return closing;
    },
  };
}
