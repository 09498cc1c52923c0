/**
 * The WebSocket transport. It needs only the small {@link WebSocketLike} shape, which the
 * browser's WebSocket, the `ws` package and the mini-program adapters all provide, so no
 * DOM or Node types leak into the client.
 */
import { CloseCode, SUBPROTOCOL } from '../../protocol/index.js';
import { DEV } from '../../env/index.js';
import type { Transport, TransportFactory, TransportHandlers } from './transport.js';

export interface MessageEventLike {
  readonly data: unknown;
}

export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/**
 * An event-handler property. Declared method-shaped because method parameters are
 * bivariant: the DOM's and `ws`'s handlers take richer event types and must still fit.
 */
export type EventHandlerLike<E> = { handle(event: E): void }['handle'];

/** The part of the WebSocket API Lifeline uses. */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed (RFC 6455 / WHATWG). */
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: EventHandlerLike<unknown> | null;
  onmessage: EventHandlerLike<MessageEventLike> | null;
  onclose: EventHandlerLike<CloseEventLike> | null;
  onerror: EventHandlerLike<unknown> | null;
}

export type WebSocketConstructorLike = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

const CLOSED = 3;

function ignore(): void {}

/**
 * Stop hearing a socket we are done with. Some hosts turn an `error` event nobody listens
 * to into an uncaught exception (`ws` in Node emits one when a connecting socket is
 * closed), so a no-op error sink stays until the socket reports its end, and then goes too.
 */
function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  if (socket.readyState === CLOSED) {
    socket.onerror = null;
    socket.onclose = null;
    return;
  }
  socket.onerror = ignore;
  socket.onclose = () => {
    socket.onerror = null;
    socket.onclose = null;
  };
}

/** Close codes an application may send; anything else would make `close()` throw. */
function sendableCode(code: number): number {
  return code === CloseCode.NORMAL || (code >= 3000 && code <= 4999) ? code : CloseCode.NORMAL;
}

/** A {@link TransportFactory} that opens one `WebSocket` per connection attempt. */
export function webSocketTransport(WebSocket: WebSocketConstructorLike): TransportFactory {
  return (url: string, handlers: TransportHandlers): Transport => {
    const socket = new WebSocket(url, SUBPROTOCOL);
    let done = false;

    const finish = (): boolean => {
      if (done) return false;
      done = true;
      detach(socket);
      return true;
    };

    socket.onopen = () => {
      if (!done) handlers.opened();
    };
    socket.onmessage = (event) => {
      if (done) return;
      if (typeof event.data === 'string') handlers.received(event.data);
      else handlers.malformed(DEV ? 'binary frames are not part of the protocol' : 'binary');
    };
    socket.onclose = (event) => {
      if (finish()) handlers.closed(event.code, event.reason);
    };
    // Hosts disagree on whether `close` follows `error` (older mini-program runtimes do not),
    // so an error ends the link here and a later `close` is not waited for.
    socket.onerror = () => {
      if (!finish()) return;
      closeQuietly(socket, CloseCode.NORMAL, '');
      handlers.closed(CloseCode.ABNORMAL, 'socket error');
    };

    return {
      kind: 'websocket',
      send(text) {
        socket.send(text);
      },
      close(code, reason) {
        if (finish()) closeQuietly(socket, code, reason);
      },
    };
  };
}

function closeQuietly(socket: WebSocketLike, code: number, reason: string): void {
  if (socket.readyState === CLOSED) return;
  try {
    socket.close(sendableCode(code), reason);
  } catch {
    // A socket that refuses to close is already unusable; it has no listeners left.
  }
}
