/**
 * A scripted WebSocket for client unit tests. The test plays the gateway: it opens the
 * socket, delivers frames, closes with any code, or stays silent (a half-open
 * connection: no frame, no close event). The registry counts live sockets and attached
 * listeners, so leaks are assertions.
 */
import {
  SUBPROTOCOL,
  decodeClientFrame,
  type ClientFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '../../src/protocol/index.js';
import type {
  CloseEventLike,
  EventHandlerLike,
  MessageEventLike,
  WebSocketConstructorLike,
  WebSocketLike,
} from '../../src/client/transports/websocket.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

export const WELCOME: WelcomeFrame = {
  type: 'welcome',
  protocol: 1,
  session: 's-1',
  user: 'u-1',
  serverTime: 1_700_000_000_000,
  pingIntervalMs: 25_000,
  idleTimeoutMs: 60_000,
  maxFrameBytes: 65_536,
};

export class FakeSocket implements WebSocketLike {
  readyState = CONNECTING;
  onopen: EventHandlerLike<unknown> | null = null;
  onmessage: EventHandlerLike<MessageEventLike> | null = null;
  onclose: EventHandlerLike<CloseEventLike> | null = null;
  onerror: EventHandlerLike<unknown> | null = null;
  /** Raw text of every frame the client sent. */
  readonly sent: string[] = [];
  /** Every `close(code, reason)` call the client made. */
  readonly closeCalls: { code: number | undefined; reason: string | undefined }[] = [];
  /** When set, a `close()` by the client never completes (the network is gone). */
  unresponsive = false;

  constructor(
    readonly url: string,
    readonly protocols: string | string[] | undefined,
  ) {}

  // ------------------------------------------------------------- WebSocket API (client side)

  send(data: string): void {
    if (this.readyState === CONNECTING) throw new Error('InvalidStateError: still connecting');
    if (this.readyState !== OPEN) return; // browsers drop sends on a closing socket
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push({ code, reason });
    if (this.readyState === CLOSING || this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    if (this.unresponsive) return;
    // Like a browser: the close event comes later, not inside close().
    queueMicrotask(() => this.finishClose(code ?? 1005, reason ?? ''));
  }

  // ------------------------------------------------------------- test controls (gateway side)

  /** The upgrade succeeded. */
  open(): void {
    this.readyState = OPEN;
    this.onopen?.({ type: 'open' });
  }

  /** Deliver one frame (an object is serialized; a string is sent as is). */
  deliver(frame: ServerFrame | Record<string, unknown> | string): void {
    if (this.readyState !== OPEN) throw new Error('cannot deliver on a socket that is not open');
    const data = typeof frame === 'string' ? frame : JSON.stringify(frame);
    this.onmessage?.({ data });
  }

  /** Deliver a binary message. */
  deliverBinary(): void {
    this.onmessage?.({ data: new ArrayBuffer(4) });
  }

  /** Open and answer `hello` with `welcome`. */
  handshake(overrides: Partial<WelcomeFrame> = {}): void {
    if (this.readyState === CONNECTING) this.open();
    this.deliver({ ...WELCOME, ...overrides });
  }

  /** The connection ended with `code` (the gateway closed, or the network with 1006). */
  finishClose(code: number, reason = ''): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onclose?.({ code, reason });
  }

  /** The socket failed (as browsers do, an error event followed by close 1006). */
  fail(): void {
    this.onerror?.({ type: 'error' });
    this.finishClose(1006);
  }

  /** Frames the client sent, decoded and validated as client frames. */
  get frames(): ClientFrame[] {
    return this.sent.map((text) => decodeClientFrame(text));
  }

  framesOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }

  /** Event handlers currently attached. */
  get listenerCount(): number {
    return [this.onopen, this.onmessage, this.onclose, this.onerror].filter((h) => h !== null)
      .length;
  }
}

export interface FakeWebSocketRegistry {
  /** The constructor to inject as `options.WebSocket`. */
  readonly WebSocket: WebSocketConstructorLike;
  /** Every socket created, oldest first. */
  readonly sockets: FakeSocket[];
  /** The newest socket; throws when none was created. */
  last(): FakeSocket;
  /** Sockets connecting or open right now. */
  readonly live: number;
  /** Most sockets ever connecting or open at the same time. */
  readonly maxLive: number;
  /** Handlers attached across every socket ever created. */
  readonly listenerCount: number;
}

export function fakeWebSocket(): FakeWebSocketRegistry {
  const sockets: FakeSocket[] = [];
  let maxLive = 0;
  const liveCount = (): number =>
    sockets.filter((s) => s.readyState === CONNECTING || s.readyState === OPEN).length;

  class FakeWebSocket extends FakeSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      if (
        protocols !== SUBPROTOCOL &&
        !(Array.isArray(protocols) && protocols.includes(SUBPROTOCOL))
      )
        throw new Error(`client must offer ${SUBPROTOCOL}`);
      sockets.push(this);
      maxLive = Math.max(maxLive, liveCount());
    }
  }

  return {
    WebSocket: FakeWebSocket,
    sockets,
    last() {
      const s = sockets.at(-1);
      if (s === undefined) throw new Error('no socket was created');
      return s;
    },
    get live() {
      return liveCount();
    },
    get maxLive() {
      return maxLive;
    },
    get listenerCount() {
      return sockets.reduce((n, s) => n + s.listenerCount, 0);
    },
  };
}
