/**
 * One benchmark client per peer, behind the same small interface, so the load generator
 * counts, times and checks deliveries the same way for all of them.
 */
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { createNodeClient } from '../../src/entries/node.js';
import { WS_PATH, type BenchData, type PeerName } from '../protocol.js';

export interface ClientEvents {
  data(index: number, data: BenchData): void;
  /** The client became ready (authenticated, subscribed) or stopped being ready. */
  state(index: number, open: boolean): void;
}

export interface LoadClient {
  /** Settles when the first session is ready; rejects if the client gives up. */
  readonly ready: Promise<void>;
  close(): void;
}

export interface ClientSpec {
  readonly peer: PeerName;
  readonly port: number;
  readonly index: number;
  readonly token: string;
  readonly channel: string | undefined;
}

/** Reconnect delays of the raw `ws` client: the same full-jitter policy as Lifeline's. */
const WS_MIN_RECONNECT_DELAY_MS = 1_000;
const WS_MAX_RECONNECT_DELAY_MS = 30_000;

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: Error): void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {}); // callers may never await a client that was closed early
  return { promise, resolve, reject };
}

/** Raw `ws`: no protocol; reconnects by itself with full jitter, like Lifeline does. */
function openWs(spec: ClientSpec, events: ClientEvents): LoadClient {
  const url = `ws://127.0.0.1:${spec.port}${WS_PATH}?token=${encodeURIComponent(spec.token)}`;
  const first = deferred();
  let closed = false;
  let attempt = 0;
  let socket: WebSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  const connect = (): void => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    socket = ws;
    let open = false;
    ws.on('open', () => {
      open = true;
      attempt = 0;
      events.state(spec.index, true);
      first.resolve();
    });
    ws.on('message', (raw) => events.data(spec.index, JSON.parse(String(raw)) as BenchData));
    ws.on('error', () => {}); // followed by 'close', which decides what happens next
    ws.on('close', () => {
      if (open) events.state(spec.index, false);
      if (closed) return;
      attempt++;
      const ceiling = Math.min(
        WS_MAX_RECONNECT_DELAY_MS,
        WS_MIN_RECONNECT_DELAY_MS * 2 ** (attempt - 1),
      );
      timer = setTimeout(connect, Math.random() * ceiling);
    });
  };
  connect();
  return {
    ready: first.promise,
    close() {
      closed = true;
      clearTimeout(timer);
      socket?.terminate();
      first.reject(new Error('closed'));
    },
  };
}

/** Socket.IO client, WebSocket transport only, its own reconnect defaults. */
function openSocketIo(spec: ClientSpec, events: ClientEvents): LoadClient {
  const first = deferred();
  const socket = io(`http://127.0.0.1:${spec.port}`, {
    transports: ['websocket'],
    auth: { token: spec.token },
    forceNew: true, // one connection per client, not one shared Manager
  });
  socket.on('m', (data: BenchData) => events.data(spec.index, data));
  socket.on('connect', () => {
    const ready = (): void => {
      events.state(spec.index, true);
      first.resolve();
    };
    // Rooms do not survive a reconnect: join the channel again every time.
    if (spec.channel === undefined) ready();
    else socket.emit('sub', spec.channel, ready);
  });
  socket.on('disconnect', () => events.state(spec.index, false));
  return {
    ready: first.promise,
    close() {
      socket.disconnect();
      first.reject(new Error('closed'));
    },
  };
}

/** Lifeline's Node client with its default options. */
function openLifeline(spec: ClientSpec, events: ClientEvents): LoadClient {
  const client = createNodeClient({
    url: `ws://127.0.0.1:${spec.port}${WS_PATH}`,
    token: spec.token,
  });
  client.on('message', (m) => events.data(spec.index, m.data as BenchData));
  let open = false;
  client.on('state', ({ to }) => {
    if ((to.kind === 'open') === open) return;
    open = !open;
    events.state(spec.index, open);
  });
  if (spec.channel !== undefined) client.subscribe(spec.channel);
  return {
    ready: client.connect(),
    close() {
      void client.close();
    },
  };
}

export function openClient(spec: ClientSpec, events: ClientEvents): LoadClient {
  switch (spec.peer) {
    case 'ws':
      return openWs(spec, events);
    case 'socketio':
      return openSocketIo(spec, events);
    case 'lifeline':
      return openLifeline(spec, events);
  }
}
