/**
 * What WeChat and uni-app have in common: a client over `connectSocket` (and `request`
 * for the HTTP long-polling fallback), the app's foreground/background cycle and the
 * platform's network status. `wechat.ts` and `uniapp.ts` only find their host object and
 * name it.
 *
 * Mini-program runtimes suspend a backgrounded app's JavaScript and kill its sockets, often
 * without a close event. Hiding therefore does nothing here (WeChat also reports the app
 * hidden while the image picker or the scanner is open, and the socket usually survives
 * that); coming back is when the connection is checked, see {@link appShown}.
 */
import { createClient } from '../client/client.js';
import type { ClientOptions, NetworkSource } from '../client/options.js';
import type { LifelineClient } from '../client/types.js';
import { UnsupportedError } from '../protocol/index.js';
import { miniProgramRequester, type RequestFunction } from './request.js';
import { socketTaskWebSocket, type ConnectSocket } from './socket-task.js';

/** What `onNetworkStatusChange` reports. */
export interface NetworkStatus {
  readonly isConnected: boolean;
  /** `wifi`, `2g` … `5g`, `unknown`, `none`. */
  readonly networkType?: string;
}

/**
 * The part of `wx` / `uni` Lifeline uses. Only `connectSocket` is required; without
 * `request` there is no polling fallback, without the app events call {@link appShown}
 * from `App.onShow` yourself, without the network events the client notices a lost
 * network by its heartbeat.
 */
export interface MiniProgramHost {
  connectSocket: ConnectSocket;
  request?: RequestFunction;
  onAppShow?(listener: (options: unknown) => void): void;
  offAppShow?(listener: (options: unknown) => void): void;
  onNetworkStatusChange?(listener: (status: NetworkStatus) => void): void;
  offNetworkStatusChange?(listener: (status: NetworkStatus) => void): void;
}

/** Options shared by `createWechatClient` and `createUniClient`. */
export interface MiniProgramClientOptions extends Omit<ClientOptions, 'WebSocket' | 'network'> {
  /**
   * Extra HTTP headers of the WebSocket upgrade request and of the polling requests (the
   * platforms refuse `Referer`). Credentials belong in `token`, which travels in the
   * protocol's `hello`.
   * @default none
   */
  readonly header?: Readonly<Record<string, string>>;
  /**
   * Longest wait for one polling request over `request` (its `timeout`), in ms. Must be
   * longer than the gateway holds a polling GET (`holdMs`, 25 s by default).
   * @default DEFAULT_POLL_TIMEOUT_MS (60_000)
   */
  readonly pollTimeoutMs?: number;
  /**
   * Source of `online` / `offline` events.
   * @default the platform's `onNetworkStatusChange`, when it has one
   */
  readonly network?: NetworkSource;
  /**
   * Check the connection when the app returns to the foreground (see {@link appShown}).
   * @default true
   */
  readonly checkOnAppShow?: boolean;
}

/**
 * What to do when the app returns to the foreground; wired to `onAppShow` by the
 * factories, exported for runtimes without it (call it from `App.onShow`).
 * - `open`: the socket may have died in the background without a close event, so probe
 *   it now (`checkLiveness()`): a dead one is replaced within `pongTimeoutMs`.
 * - `reconnecting`, `failed`: reconnect now instead of waiting out a backoff that the
 *   background stretched, with a fresh attempt count.
 * - `idle`, `connecting`, `closed`: nothing. Above all, a client closed on purpose (the
 *   page left, the user logged out) stays closed.
 */
export function appShown(client: LifelineClient): void {
  switch (client.state.kind) {
    case 'open':
      client.checkLiveness();
      return;
    case 'reconnecting':
    case 'failed':
      client.reconnect();
      return;
    default:
      return;
  }
}

type Listener<T> = (value: T) => void;

/**
 * A platform event subscription that can be switched on and off. Without an `off` method
 * (older runtimes) the platform listener is added once and gated instead.
 */
function hostEvent<T>(
  on: ((listener: Listener<T>) => void) | undefined,
  off: ((listener: Listener<T>) => void) | undefined,
  handle: Listener<T>,
): { attach(): void; detach(): void } | null {
  if (on === undefined) return null;
  let attached = false;
  let added = false;
  const listener: Listener<T> = (value) => {
    if (attached) handle(value);
  };
  return {
    attach() {
      if (attached) return;
      attached = true;
      if (added) return;
      on(listener);
      added = true;
    },
    detach() {
      if (!attached) return;
      attached = false;
      if (off === undefined) return;
      off(listener);
      added = false;
    },
  };
}

/** `online` / `offline` listeners, fed from `onNetworkStatusChange`. */
class PlatformNetwork implements NetworkSource {
  readonly #listeners = {
    online: new Set<Listener<unknown>>(),
    offline: new Set<Listener<unknown>>(),
  };

  addEventListener(type: 'online' | 'offline', listener: Listener<unknown>): void {
    this.#listeners[type].add(listener);
  }

  removeEventListener(type: 'online' | 'offline', listener: Listener<unknown>): void {
    this.#listeners[type].delete(listener);
  }

  emit(type: 'online' | 'offline'): void {
    for (const listener of [...this.#listeners[type]]) listener({ type });
  }
}

function bound<F>(host: object, name: string): F | undefined {
  const fn = (host as Record<string, unknown>)[name];
  return typeof fn === 'function' ? (fn.bind(host) as F) : undefined;
}

/** Where a host object comes from, for the message when it is missing. */
export interface HostLookup {
  /** Its global name: `wx`, `uni`. */
  readonly name: string;
  /** Where it exists: "a WeChat mini-program". */
  readonly runtime: string;
}

/** Check that `host` is usable, and say how to fix it when it is not. */
export function requireHost(host: unknown, lookup: HostLookup): MiniProgramHost {
  const connectSocket =
    typeof host === 'object' && host !== null
      ? (host as Partial<MiniProgramHost>).connectSocket
      : undefined;
  if (typeof connectSocket !== 'function') {
    throw new UnsupportedError(
      `Lifeline could not find \`${lookup.name}.connectSocket\`: run this in ${lookup.runtime}, ` +
        `or pass the API object as the \`${lookup.name}\` option.`,
    );
  }
  return host as MiniProgramHost;
}

/**
 * `createClient` over the host's `connectSocket`, with HTTP long-polling over its
 * `request` as the fallback (unless the options bring their own `request` or `fetch`),
 * and the app's return to the foreground and the platform's network status wired to the
 * client. The platform listeners are added when the client starts connecting and removed
 * when it is closed, so a page that creates a client per visit leaves nothing registered
 * with the platform.
 */
export function createMiniProgramClient(
  host: MiniProgramHost,
  name: string,
  options: MiniProgramClientOptions,
): LifelineClient {
  const {
    header,
    pollTimeoutMs,
    network: givenNetwork,
    checkOnAppShow = true,
    ...clientOptions
  } = options;
  const WebSocket = socketTaskWebSocket(host.connectSocket.bind(host), {
    platform: name,
    ...(header === undefined ? {} : { header }),
  });
  const hostRequest = bound<RequestFunction>(host, 'request');
  const request =
    clientOptions.request !== undefined ||
    clientOptions.fetch !== undefined ||
    hostRequest === undefined
      ? undefined
      : miniProgramRequester(hostRequest, {
          platform: name,
          ...(header === undefined ? {} : { header }),
          ...(pollTimeoutMs === undefined ? {} : { timeoutMs: pollTimeoutMs }),
        });

  let client: LifelineClient | null = null;
  let platformNetwork: PlatformNetwork | null = null;
  let lastType: string | undefined;
  let lastOnline: boolean | undefined;
  const statusChanged = (status: NetworkStatus): void => {
    const online = status?.isConnected !== false && status?.networkType !== 'none';
    // Wi-Fi → cellular keeps `isConnected` but changes the address: the socket is likely dead.
    const moved = lastType !== undefined && status?.networkType !== lastType;
    const wasOnline = lastOnline;
    lastType = status?.networkType;
    lastOnline = online;
    const open = client?.state.kind === 'open';
    // Like a browser's events, `online` and `offline` mark changes of connectivity only
    // (the client probes an open connection on `online`). The first report is a baseline:
    // it ends a reconnect wait, and leaves an open connection alone.
    if (!online) {
      if (wasOnline !== false) platformNetwork?.emit('offline');
    } else if (wasOnline === false || (wasOnline === undefined && !open)) {
      platformNetwork?.emit('online');
    } else if (moved && open) {
      client?.checkLiveness();
    }
  };
  const statusEvent =
    givenNetwork === undefined
      ? hostEvent<NetworkStatus>(
          bound(host, 'onNetworkStatusChange'),
          bound(host, 'offNetworkStatusChange'),
          statusChanged,
        )
      : null;
  if (statusEvent !== null) platformNetwork = new PlatformNetwork();
  const network = givenNetwork ?? platformNetwork ?? undefined;

  const created = createClient({
    ...clientOptions,
    WebSocket,
    ...(request === undefined ? {} : { request }),
    ...(network === undefined ? {} : { network }),
  });
  client = created;

  const showEvent = checkOnAppShow
    ? hostEvent<unknown>(bound(host, 'onAppShow'), bound(host, 'offAppShow'), () =>
        appShown(created),
      )
    : null;
  created.on('state', ({ to }) => {
    if (to.kind === 'closed') {
      showEvent?.detach();
      statusEvent?.detach();
      lastType = undefined;
      lastOnline = undefined;
    } else if (to.kind !== 'idle') {
      showEvent?.attach();
      statusEvent?.attach();
    }
  });
  return created;
}
