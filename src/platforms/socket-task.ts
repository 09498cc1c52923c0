/**
 * The WebSocket API over a mini-program `SocketTask` (`wx.connectSocket`, `uni.connectSocket`),
 * so the client's WebSocket transport runs on WeChat and uni-app unchanged.
 *
 * What the platforms document, and what this adapter makes of it:
 * - `connectSocket` returns the task at once; `onOpen`, `onMessage({ data })`,
 *   `onClose({ code, reason })` and `onError({ errMsg })` come later. uni-app returns a
 *   Promise instead of the task unless a `success`, `fail` or `complete` callback is given,
 *   so a `fail` callback is always passed (it also reports a socket that could not be
 *   created at all: a domain missing from the allow-list, too many sockets).
 * - `send({ data, success, fail })` and `close({ code, reason, success, fail })` report
 *   through callbacks, never by throwing. A failed send means the socket is unusable: it is
 *   turned into the WebSocket `error` + `close` (1006) pair, the way browsers end a broken
 *   connection.
 * - Runtimes disagree on whether `onClose` follows `onError`. Here it always does, exactly
 *   once: an error ends the socket, releases the task and emits `close` 1006 itself; a
 *   platform `onClose` arriving later is ignored.
 * - A task has no reliable `readyState` on every runtime, so the WHATWG one is emulated:
 *   0 connecting, 1 open, 2 closing, 3 closed.
 * - Text frames only: the protocol has no binary frames. A binary message is passed on as
 *   is, and the transport treats it as the protocol error it is.
 */
import type {
  CloseEventLike,
  EventHandlerLike,
  MessageEventLike,
  WebSocketConstructorLike,
  WebSocketLike,
} from '../client/transports/websocket.js';
import { CloseCode, UnsupportedError } from '../protocol/index.js';

/** What the platforms pass to every `fail` callback. */
export interface PlatformError {
  readonly errMsg?: string;
}

/** Argument of `SocketTask.send`. */
export interface SocketTaskSendOptions {
  readonly data: string;
  success?(result: unknown): void;
  fail?(error: PlatformError): void;
}

/** Argument of `SocketTask.close`. */
export interface SocketTaskCloseOptions {
  /** 1000 or 3000–4999; the platforms default to 1000. */
  readonly code?: number;
  /** At most 123 UTF-8 bytes. */
  readonly reason?: string;
  success?(result: unknown): void;
  fail?(error: PlatformError): void;
}

/**
 * The part of a `SocketTask` Lifeline uses. Members are method-shaped so that the
 * platforms' own typings (whose callbacks take richer objects) fit.
 */
export interface SocketTaskLike {
  send(options: SocketTaskSendOptions): void;
  close(options: SocketTaskCloseOptions): void;
  onOpen(listener: (result: unknown) => void): void;
  onMessage(listener: (result: { readonly data: unknown }) => void): void;
  onClose(listener: (result: { readonly code?: number; readonly reason?: string }) => void): void;
  onError(listener: (error: PlatformError) => void): void;
}

/** Argument of `connectSocket`. */
export interface ConnectSocketOptions {
  readonly url: string;
  /** HTTP headers of the upgrade request (the platforms refuse `Referer`). */
  readonly header?: Record<string, string>;
  /** Offered subprotocols. */
  readonly protocols?: string[];
  success?(result: unknown): void;
  fail?(error: PlatformError): void;
}

/** `wx.connectSocket` / `uni.connectSocket`. Returns a {@link SocketTaskLike}. */
export type ConnectSocket = (options: ConnectSocketOptions) => unknown;

export interface SocketTaskWebSocketOptions {
  /** Extra HTTP headers sent with every upgrade request. Credentials belong in `token`. */
  readonly header?: Readonly<Record<string, string>>;
  /** The host object's name (`wx`, `uni`), for error messages. */
  readonly platform: string;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
/** RFC 6455 §5.5: a close frame's body is at most 125 bytes, two of them the code. */
const MAX_REASON_BYTES = 123;

/** Run `fn` after the current call stack, without a timer (microtask, any ES2015 host). */
function later(fn: () => void): void {
  void Promise.resolve().then(fn);
}

function isSocketTask(value: unknown): value is SocketTaskLike {
  if (typeof value !== 'object' || value === null) return false;
  const task = value as Record<string, unknown>;
  return ['send', 'close', 'onOpen', 'onMessage', 'onClose', 'onError'].every(
    (name) => typeof task[name] === 'function',
  );
}

function messageOf(error: PlatformError | undefined, fallback: string): string {
  return typeof error?.errMsg === 'string' && error.errMsg !== '' ? error.errMsg : fallback;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** An error named like the DOM exception a browser's WebSocket throws in the same case. */
function domError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

class SocketTaskWebSocket implements WebSocketLike {
  onopen: EventHandlerLike<unknown> | null = null;
  onmessage: EventHandlerLike<MessageEventLike> | null = null;
  onclose: EventHandlerLike<CloseEventLike> | null = null;
  onerror: EventHandlerLike<unknown> | null = null;

  #readyState = CONNECTING;
  #task: SocketTaskLike | null = null;
  /** The platform reported `onOpen` (whatever we made of it). */
  #taskOpened = false;
  /** `close()` was called while connecting: close the task once it opens. */
  #closeWanted: { code: number | undefined; reason: string | undefined } | null = null;

  constructor(
    connectSocket: ConnectSocket,
    url: string,
    protocols: string | string[] | undefined,
    options: SocketTaskWebSocketOptions,
  ) {
    const offered =
      protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols;
    const task = connectSocket({
      url,
      ...(options.header === undefined ? {} : { header: { ...options.header } }),
      ...(offered.length === 0 ? {} : { protocols: [...offered] }),
      // Events must not reach handlers the transport has not attached yet: defer.
      fail: (error) => later(() => this.#fail(messageOf(error, 'connectSocket failed'))),
    });
    if (!isSocketTask(task)) {
      throw new UnsupportedError(
        `${options.platform}.connectSocket did not return a SocketTask (onOpen, onMessage, ` +
          `onClose, onError, send, close): this runtime is too old for Lifeline, or ` +
          `${options.platform} is not the platform's API object.`,
      );
    }
    this.#task = task;
    task.onOpen(() => this.#opened());
    task.onMessage((result) => this.#received(result?.data));
    task.onClose((result) => this.#closed(result?.code, result?.reason));
    task.onError((error) => this.#fail(messageOf(error, 'socket error')));
  }

  get readyState(): number {
    return this.#readyState;
  }

  send(data: string): void {
    if (typeof data !== 'string') throw new TypeError('Lifeline sends text frames only.');
    if (this.#readyState === CONNECTING)
      throw domError('InvalidStateError', 'The socket is still connecting.');
    // Like browsers: data sent on a closing or closed socket is dropped.
    if (this.#readyState !== OPEN || this.#task === null) return;
    this.#task.send({
      data,
      // Deferred: a runtime that fails synchronously must not re-enter the sender.
      fail: (error) => later(() => this.#fail(messageOf(error, 'send failed'))),
    });
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== CloseCode.NORMAL && !(code >= 3000 && code <= 4999))
      throw domError('InvalidAccessError', `Close code ${code} is not 1000 or 3000–4999.`);
    if (reason !== undefined && utf8Length(reason) > MAX_REASON_BYTES)
      throw domError('SyntaxError', `A close reason is at most ${MAX_REASON_BYTES} UTF-8 bytes.`);
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    this.#readyState = CLOSING;
    this.#closeWanted = { code, reason };
    this.#closeTask();
  }

  #closeTask(): void {
    const task = this.#task;
    const wanted = this.#closeWanted;
    if (task === null || wanted === null) return;
    const { code, reason } = wanted;
    task.close({
      ...(code === undefined ? {} : { code }),
      ...(reason === undefined ? {} : { reason }),
      fail: (error) => later(() => this.#closeFailed(messageOf(error, 'close failed'))),
    });
  }

  /**
   * Some runtimes refuse to close a task that has not opened yet; it is closed again when
   * it opens. An open task that cannot be closed is unusable: report the socket closed.
   */
  #closeFailed(message: string): void {
    if (this.#readyState !== CLOSING || !this.#taskOpened) return;
    this.#finish(CloseCode.ABNORMAL, message);
  }

  #opened(): void {
    this.#taskOpened = true;
    if (this.#readyState === CONNECTING) {
      this.#readyState = OPEN;
      this.onopen?.({ type: 'open' });
    } else if (this.#readyState === CLOSING) {
      this.#closeTask(); // close() came first
    } else {
      this.#release(); // failed before it opened
    }
  }

  #received(data: unknown): void {
    if (this.#readyState !== OPEN) return;
    this.onmessage?.({ data });
  }

  #closed(code: number | undefined, reason: string | undefined): void {
    if (this.#readyState === CLOSED) return;
    this.#finish(
      typeof code === 'number' ? code : CloseCode.ABNORMAL,
      typeof reason === 'string' ? reason : '',
    );
  }

  /** The socket broke: `error`, then `close` 1006, once; the task is let go. */
  #fail(message: string): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#release();
    this.onerror?.({ type: 'error', message });
    this.onclose?.({ code: CloseCode.ABNORMAL, reason: message });
  }

  #finish(code: number, reason: string): void {
    this.#readyState = CLOSED;
    this.onclose?.({ code, reason });
  }

  /** Close the platform task quietly; it counts against the platform's socket limit. */
  #release(): void {
    const task = this.#task;
    if (task === null) return;
    try {
      task.close({ fail: () => {} });
    } catch {
      // A task that refuses to close is already gone.
    }
  }
}

/**
 * A WebSocket constructor (for `ClientOptions.WebSocket`) whose sockets are SocketTasks
 * opened with `connectSocket`. Each `new` opens one task; `protocols` are passed on.
 */
export function socketTaskWebSocket(
  connectSocket: ConnectSocket,
  options: SocketTaskWebSocketOptions,
): WebSocketConstructorLike {
  if (typeof connectSocket !== 'function')
    throw new UnsupportedError(
      `${options.platform}.connectSocket is missing: pass the platform's API object.`,
    );
  return class extends SocketTaskWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(connectSocket, url, protocols, options);
    }
  };
}
