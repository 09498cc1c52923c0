/**
 * `createGateway()`: the gateway core behind a `ws` WebSocketServer in `noServer` mode.
 * This file is the only place the gateway touches `ws` and `node:http`; it translates
 * upgrades, subprotocols and messages into the core's {@link Connection} seam. The HTTP
 * long-polling transport (`polling-http.ts`) is served next to it, at `{path}/poll`.
 */
import {
  STATUS_CODES,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type PerMessageDeflateOptions, type RawData } from 'ws';
import { CloseCode, SUBPROTOCOL, SUBPROTOCOL_PREFIX } from '../protocol/index.js';
import { createGatewayCore, type GatewayCore } from '../server/gateway.js';
import type { Logger } from '../server/logger.js';
import type { GatewayCoreOptions } from '../server/options.js';
import type {
  Connection,
  ConnectionHandler,
  ConnectionInfo,
  GatewayEvents,
} from '../server/types.js';
import { createPollingHandler, type PollingOptions } from './polling-http.js';

/** Default of {@link GatewayOptions.path}. */
export const DEFAULT_PATH = '/ws';

export interface GatewayOptions extends GatewayCoreOptions {
  /**
   * An HTTP(S) server whose `upgrade` requests for `path` the gateway takes. Without it,
   * route upgrades yourself with {@link Gateway.handleUpgrade}.
   * @default none
   */
  readonly server?: HttpServer | HttpsServer;
  /**
   * URL path served on `server` (the query string is ignored). Upgrades for other paths
   * are left to the server's other `upgrade` listeners, or answered 404 when there are none.
   * @default '/ws'
   */
  readonly path?: string;
  /**
   * Browser origins allowed to connect: exact `Origin` values (`https://app.example.com`),
   * or a function deciding per request. Refused upgrades get HTTP 403. With a list,
   * requests without an `Origin` header (non-browser clients) are allowed.
   * @default every origin is allowed
   */
  readonly allowedOrigins?: readonly string[] | ((origin: string | undefined) => boolean);
  /**
   * WebSocket compression (RFC 7692). Off by default: it costs memory per connection and
   * CPU per frame, and small JSON frames barely shrink.
   * @default false
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * The HTTP long-polling fallback at `{path}/poll` (PROTOCOL.md §11), answered by
   * {@link Gateway.handleRequest}; `false` turns it off (those requests then get 404 from
   * whatever handles them next).
   * @default { holdMs: 25_000, maxBodyBytes: 1_048_576 }
   */
  readonly polling?: false | PollingOptions;
}

/** A running gateway. */
export interface Gateway extends AsyncDisposable {
  publish: GatewayCore['publish'];
  sessions: GatewayCore['sessions'];
  disconnect: GatewayCore['disconnect'];
  stats: GatewayCore['stats'];
  /** Delivery status of one message per recipient (`GET /api/messages/:id`). */
  messageStatus: GatewayCore['messageStatus'];
  on<K extends keyof GatewayEvents>(event: K, listener: GatewayEvents[K]): () => void;
  /** Take one HTTP upgrade (for custom routing instead of `server` + `path`). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Answer an HTTP request for the polling transport (`{path}/poll…`) and return true;
   * return false for any other request, so the caller's own routes can take it. Put it
   * first in the server's `request` handler: the gateway does not listen for requests on
   * `server` itself, since a server answers each request from one handler.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /**
   * Stop accepting, close every session with 4007 and wait until all are closed
   * (dropping stragglers after `shutdownTimeoutMs`). Idempotent. Does not close `server`.
   */
  close(): Promise<void>;
}

/** Answer an upgrade request with a plain HTTP error and drop the socket. */
function rejectUpgrade(socket: Duplex, status: number): void {
  const text = STATUS_CODES[status] ?? 'Error';
  socket.on('error', () => {}); // the peer may already be gone; nothing to report
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

function originCheck(
  allowed: GatewayOptions['allowedOrigins'],
  logger: Logger,
): (origin: string | undefined) => boolean {
  if (allowed === undefined) return () => true;
  if (typeof allowed !== 'function') {
    const set = new Set(allowed.map((o) => o.toLowerCase()));
    return (origin) => origin === undefined || set.has(origin.toLowerCase());
  }
  // The application's predicate: one that throws refuses the origin, for WebSocket and
  // polling alike.
  return (origin) => {
    try {
      return allowed(origin);
    } catch (error) {
      logger.error({ err: error }, 'allowedOrigins threw');
      return false;
    }
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/**
 * PROTOCOL.md §2: select `lifeline.v1`; when only other `lifeline.v<N>` are offered, echo
 * the first so browsers complete the handshake and can read the 4001 close; with no
 * Lifeline subprotocol at all, accept without one (and close with 4001 as well).
 */
function selectProtocol(offered: Set<string>): string | false {
  if (offered.has(SUBPROTOCOL)) return SUBPROTOCOL;
  for (const p of offered) if (p.startsWith(SUBPROTOCOL_PREFIX)) return p;
  return false;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

const NO_HEADERS: ConnectionInfo['headers'] = Object.freeze({});

/**
 * The frame of the text written last, one per gateway: a push goes out as the very same
 * string to every session receiving its stream, so a broadcast is encoded and framed once.
 */
class LastFrame {
  #text = '';
  #frame = Buffer.alloc(0);
  #headerBytes = 0;

  /**
   * The whole WebSocket frame of `text` (RFC 6455 §5.2): FIN, the text opcode, the
   * payload length, no mask (a server never masks), then the UTF-8 bytes. Never changed
   * once made, so sockets can share it.
   */
  frameOf(text: string): Buffer {
    if (text !== this.#text) {
      const length = Buffer.byteLength(text, 'utf8');
      const header = length < 126 ? 2 : length < 0x1_0000 ? 4 : 10;
      const frame = Buffer.allocUnsafe(header + length);
      frame[0] = 0x81; // FIN + text
      if (header === 2) frame[1] = length;
      else if (header === 4) {
        frame[1] = 126;
        frame.writeUInt16BE(length, 2);
      } else {
        frame[1] = 127;
        frame.writeBigUInt64BE(BigInt(length), 2);
      }
      frame.write(text, header, 'utf8');
      this.#text = text;
      this.#frame = frame;
      this.#headerBytes = header;
    }
    return this.#frame;
  }

  /** The UTF-8 bytes of `text`: the payload of its frame. */
  bytesOf(text: string): Buffer {
    return this.frameOf(text).subarray(this.#headerBytes);
  }
}

/** Bytes sent as a text frame, as the protocol requires. */
const TEXT_FRAME = { binary: false } as const;

/**
 * The {@link Connection} of one WebSocket. Methods live on the prototype rather than in
 * closures per connection: an idle gateway's memory is mostly per-connection objects.
 */
class WsConnection implements Connection {
  readonly #ws: WebSocket;
  readonly #frames: LastFrame;
  /**
   * The socket under `#ws`, when frames may be written to it directly: no extension was
   * negotiated, so `ws` itself writes every frame (its pings, pongs and close included)
   * at once and whole, never holding one back to compress it, and a frame written here
   * cannot land between two parts of one of its own. A frame written directly skips the
   * per-frame header buffer, cork and two-part write of `ws`: about a fifth of the CPU
   * of a socket write. `null`: every frame goes through `ws`.
   */
  readonly #socket: Duplex | null;
  #info: ConnectionInfo;
  handler: ConnectionHandler | undefined;

  constructor(ws: WebSocket, socket: Duplex, info: ConnectionInfo, frames: LastFrame) {
    this.#ws = ws;
    this.#socket = ws.extensions === '' ? socket : null;
    this.#info = info;
    this.#frames = frames;
  }

  get info(): ConnectionInfo {
    return this.#info;
  }

  send(text: string): void {
    const ws = this.#ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    const socket = this.#socket;
    if (socket !== null) socket.write(this.#frames.frameOf(text));
    // Bytes rather than the string: `ws` writes a string by encoding it again for each
    // socket.
    else ws.send(this.#frames.bytesOf(text), TEXT_FRAME);
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  opened(): void {
    const { remoteAddress, transport } = this.#info;
    this.#info = { remoteAddress, headers: NO_HEADERS, transport };
  }
}

/** Where the shared `ws` listeners find a socket's connection (no closures per socket). */
const CONNECTION = Symbol('lifeline.connection');
type TrackedSocket = WebSocket & { [CONNECTION]?: WsConnection };

function onMessage(this: TrackedSocket, data: RawData, isBinary: boolean): void {
  const handler = this[CONNECTION]?.handler;
  if (handler === undefined) return;
  const bytes = toBuffer(data);
  if (isBinary) handler.binary(bytes.length);
  else handler.message(bytes.toString('utf8'), bytes.length);
}

function onClose(this: TrackedSocket, code: number, reason: Buffer): void {
  this[CONNECTION]?.handler?.closed(code, reason.toString('utf8'));
}

/** Create a WebSocket gateway. Throws `InvalidOptionError` for bad options. */
export function createGateway(options: GatewayOptions): Gateway {
  const core = createGatewayCore(options);
  const { logger, maxFrameBytes } = core.options;
  const allowOrigin = originCheck(options.allowedOrigins, logger);
  const path = options.path ?? DEFAULT_PATH;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false, // the core tracks sessions
    // ws refuses frames over twice the limit with 1009 before buffering them; between
    // the limit and twice it, the core answers 4002 (PROTOCOL.md §2).
    maxPayload: 2 * maxFrameBytes,
    perMessageDeflate: options.perMessageDeflate ?? false,
    handleProtocols: selectProtocol,
  });

  const polling =
    options.polling === false
      ? undefined
      : createPollingHandler({ core, path, allowOrigin }, options.polling ?? {});

  const onError = (error: Error): void => logger.debug({ err: error }, 'websocket error');
  const frames = new LastFrame();

  function connected(ws: TrackedSocket, request: IncomingMessage, socket: Duplex): void {
    ws.on('error', onError);
    const info: ConnectionInfo = {
      remoteAddress: request.socket.remoteAddress,
      headers: request.headers,
      transport: 'websocket',
    };
    const connection = new WsConnection(ws, socket, info, frames);
    if (ws.protocol !== SUBPROTOCOL) {
      core.refuse(connection, CloseCode.UNSUPPORTED_VERSION);
      return;
    }
    ws[CONNECTION] = connection;
    connection.handler = core.accept(connection);
    ws.on('message', onMessage);
    ws.on('close', onClose);
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (core.closing) return rejectUpgrade(socket, 503);
    const origin = request.headers.origin;
    if (!allowOrigin(origin)) {
      logger.info({ origin }, 'upgrade refused: origin not allowed');
      return rejectUpgrade(socket, 403);
    }
    wss.handleUpgrade(request, socket, head, (ws) => connected(ws, request, socket));
  }

  const server = options.server;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathOf(request.url) === path) return handleUpgrade(request, socket, head);
    // Another listener may serve this path; only a lone gateway answers 404.
    if (server?.listenerCount('upgrade') === 1) rejectUpgrade(socket, 404);
  };
  server?.on('upgrade', onUpgrade);

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    server?.off('upgrade', onUpgrade);
    await core.close();
    await polling?.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
  const close = (): Promise<void> => (closing ??= shutdown());

  return {
    publish: core.publish,
    sessions: core.sessions,
    disconnect: core.disconnect,
    stats: core.stats,
    messageStatus: core.messageStatus,
    on: core.on,
    handleUpgrade,
    handleRequest: (request, response) => polling?.handle(request, response) ?? false,
    close,
    [Symbol.asyncDispose]: close,
  };
}
