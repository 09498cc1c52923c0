/**
 * Vue 3 composables. The component (or effect scope) that calls {@link useLifeline} owns
 * the connection: when it goes away the client is closed and stays closed — seed 002's
 * "leave flag", so a page that was left or a user who logged out never gets pushes again
 * from a connection nobody looks at.
 *
 * Vue is an optional peer dependency, imported only here.
 */
import {
  getCurrentScope,
  onScopeDispose,
  shallowReadonly,
  shallowRef,
  toValue,
  watch,
  type MaybeRefOrGetter,
  type ShallowRef,
} from 'vue';
import { createClient } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import type { ConnectionState } from '../client/state.js';
import type { LifelineClient, PushMessage } from '../client/types.js';
import {
  ClientClosedError,
  InvalidOptionError,
  UnsupportedError,
  channelStream,
} from '../protocol/index.js';

/** Default of {@link UseLifelineOptions.maxMessages} and {@link UseChannelOptions.max}. */
export const DEFAULT_MAX_MESSAGES = 100;

export interface UseLifelineOptions {
  /** Call `connect()` at once. @default true */
  readonly connect?: boolean;
  /** How many of the latest messages (inbox and channels) `messages` holds; 0 keeps none. @default 100 */
  readonly maxMessages?: number;
}

export interface UseLifelineResult {
  /** The client, owned by the calling scope. */
  readonly client: LifelineClient;
  /** `client.state`, reactive. The value is the client's own state object, not a proxy. */
  readonly state: Readonly<ShallowRef<ConnectionState>>;
  /** The latest messages received while the scope lived, oldest first; a new array per change. */
  readonly messages: Readonly<ShallowRef<readonly PushMessage[]>>;
  /**
   * Connect (again, after `close()`: logging in after logging out). Rejects with
   * `ClientClosedError` once the owning scope is gone: it never revives the client.
   */
  connect(): Promise<void>;
  /** Close on purpose (logging out): no reconnect until `connect()`. */
  close(): Promise<void>;
}

export interface UseChannelOptions {
  /** How many of the channel's latest messages to hold. @default 100 */
  readonly max?: number;
}

function requireScope(name: string): void {
  if (getCurrentScope() === undefined) {
    throw new UnsupportedError(
      `${name}() must be called inside a component's setup() or an effectScope(): ` +
        'Lifeline releases what it holds when that scope ends.',
    );
  }
}

function countOption(name: string, value: unknown, min: number): number {
  if (value === undefined) return DEFAULT_MAX_MESSAGES;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw new InvalidOptionError(`${name} must be an integer ≥ ${min} (got ${String(value)})`);
  return value;
}

function isClient(value: ClientOptions | LifelineClient): value is LifelineClient {
  const candidate = value as Partial<LifelineClient>;
  return typeof candidate.connect === 'function' && typeof candidate.on === 'function';
}

/** `list` plus `message`, trimmed to the last `max`: a new array, as a shallow ref needs. */
function keepLast(
  list: readonly PushMessage[],
  message: PushMessage,
  max: number,
): readonly PushMessage[] {
  const kept = list.length >= max ? list.slice(list.length - max + 1) : [...list];
  kept.push(message);
  return kept;
}

/**
 * `client.state` as a read-only shallow ref, for a client the calling scope does not own
 * (one provided app-wide, say). Stops listening when the scope ends; never closes.
 */
export function useLifelineState(client: LifelineClient): Readonly<ShallowRef<ConnectionState>> {
  requireScope('useLifelineState');
  const state = shallowRef(client.state);
  onScopeDispose(
    client.on('state', ({ to }) => {
      state.value = to;
    }),
  );
  return shallowReadonly(state);
}

/**
 * Create a client from `options` (or adopt `client`), connect it, and close it when the
 * calling component unmounts or its effect scope stops. After that nothing reconnects it.
 */
export function useLifeline(
  source: ClientOptions | LifelineClient,
  options: UseLifelineOptions = {},
): UseLifelineResult {
  requireScope('useLifeline');
  const max = countOption('maxMessages', options.maxMessages, 0);
  const client = isClient(source) ? source : createClient(source);

  let left = false;
  // Registered first so it runs first: the state ref still sees the client close.
  onScopeDispose(() => {
    left = true;
    void client.close();
  });
  const state = useLifelineState(client);
  const messages = shallowRef<readonly PushMessage[]>([]);
  if (max > 0) {
    onScopeDispose(
      client.on('message', (message) => {
        messages.value = keepLast(messages.value, message, max);
      }),
    );
  }

  const connect = (): Promise<void> =>
    left
      ? Promise.reject(new ClientClosedError('The scope that owned this client has ended.'))
      : client.connect();
  // The outcome shows in `state`; an unmount while connecting rejects, which is expected.
  if (options.connect !== false) connect().catch(() => {});

  return {
    client,
    state,
    messages: shallowReadonly(messages),
    connect,
    close: () => client.close(),
  };
}

/**
 * Subscribe `client` to `channel` for as long as the calling scope lives, and hold the
 * channel's latest messages. `channel` may be a ref or a getter: when it changes, the old
 * channel is unsubscribed, the list emptied and the new one subscribed.
 */
export function useChannel(
  client: LifelineClient,
  channel: MaybeRefOrGetter<string>,
  options: UseChannelOptions = {},
): Readonly<ShallowRef<readonly PushMessage[]>> {
  requireScope('useChannel');
  const max = countOption('max', options.max, 1);
  const messages = shallowRef<readonly PushMessage[]>([]);
  let stream = '';
  onScopeDispose(
    client.on('message', (message) => {
      if (message.stream === stream) messages.value = keepLast(messages.value, message, max);
    }),
  );
  // Synchronous, so no message of the new channel can slip in before the list is reset.
  watch(
    () => toValue(channel),
    (name, _previous, onCleanup) => {
      stream = channelStream(name);
      if (messages.value.length > 0) messages.value = [];
      const subscription = client.subscribe(name);
      onCleanup(() => {
        // Nobody can await it here; a refused subscribe was already reported on `error`.
        subscription.unsubscribe().catch(() => {});
      });
    },
    { immediate: true, flush: 'sync' },
  );
  return shallowReadonly(messages);
}
