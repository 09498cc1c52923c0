/**
 * React hooks over `useSyncExternalStore`: the client is the store, its `state` and
 * `message` events are the change notifications, and every snapshot stays the same object
 * until something actually changed, so components re-render only then.
 *
 * React is an optional peer dependency, imported only here.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { createClient } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import type { ConnectionState } from '../client/state.js';
import type { LifelineClient, PushMessage } from '../client/types.js';
import { InvalidOptionError, channelStream } from '../protocol/index.js';

/** Default of {@link UseMessagesOptions.max}. */
export const DEFAULT_MAX_MESSAGES = 100;

export interface UseMessagesOptions {
  /** Only messages of this stream (`user:<id>`, `channel:<name>`). @default every stream */
  readonly stream?: string;
  /** How many of the latest messages to hold. @default 100 */
  readonly max?: number;
}

export interface UseChannelOptions {
  /** How many of the channel's latest messages to hold. @default 100 */
  readonly max?: number;
}

export interface UseLifelineResult {
  /** The client, the same object for the component's whole lifetime. */
  readonly client: LifelineClient;
  /** `client.state`, re-rendering on every change. */
  readonly state: ConnectionState;
}

const EMPTY: readonly PushMessage[] = Object.freeze([]);

function maxOption(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_MESSAGES;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new InvalidOptionError(`max must be an integer ≥ 1 (got ${String(value)})`);
  return value;
}

/** The client's current state; re-renders on every transition. */
export function useLifelineState(client: LifelineClient): ConnectionState {
  const subscribe = useCallback(
    (changed: () => void) => client.on('state', () => changed()),
    [client],
  );
  const snapshot = useCallback(() => client.state, [client]);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

interface MessageStore {
  subscribe(changed: () => void): () => void;
  snapshot(): readonly PushMessage[];
}

/** Accumulates matching messages while subscribed; the list survives re-subscribing. */
function messageStore(
  client: LifelineClient,
  stream: string | undefined,
  max: number,
): MessageStore {
  let list = EMPTY;
  return {
    subscribe(changed) {
      return client.on('message', (message) => {
        if (stream !== undefined && message.stream !== stream) return;
        const kept = list.length >= max ? list.slice(list.length - max + 1) : [...list];
        kept.push(message);
        list = kept;
        changed();
      });
    },
    snapshot: () => list,
  };
}

/**
 * The latest messages received while the component is mounted, oldest first. The array is
 * replaced when a message arrives and is otherwise the same object on every render.
 * Changing `stream` or `max` starts an empty list.
 */
export function useMessages(
  client: LifelineClient,
  options: UseMessagesOptions = {},
): readonly PushMessage[] {
  const { stream } = options;
  const max = maxOption(options.max);
  const store = useMemo(() => messageStore(client, stream, max), [client, stream, max]);
  return useSyncExternalStore(store.subscribe, store.snapshot, store.snapshot);
}

/**
 * Subscribe to `channel` while mounted (unsubscribe on unmount or when `channel` changes)
 * and return its latest messages, as {@link useMessages} does.
 */
export function useChannel(
  client: LifelineClient,
  channel: string,
  options: UseChannelOptions = {},
): readonly PushMessage[] {
  // Declared first: its listener is attached before the subscribe frame goes out.
  const messages = useMessages(client, { stream: channelStream(channel), max: options.max });
  useEffect(() => {
    const subscription = client.subscribe(channel);
    return () => {
      // Nobody can await it here; a refused subscribe was already reported on `error`.
      subscription.unsubscribe().catch(() => {});
    };
  }, [client, channel]);
  return messages;
}

/**
 * Create a client once per component lifetime, connect it on mount and close it on
 * unmount; after that nothing reconnects it. `source` is read on the first render only
 * (remount with a new `key` to change it); a function is a factory such as
 * `() => createWechatClient(options)`. React may call it twice in StrictMode and keep one
 * result, which is harmless: a client starts nothing before `connect()`.
 *
 * StrictMode unmounts and remounts every effect once in development; the close is
 * deferred by a microtask and cancelled by that remount, so the client keeps its one
 * connection instead of closing and opening another.
 */
export function useLifeline(source: ClientOptions | (() => LifelineClient)): UseLifelineResult {
  const [client] = useState(() => (typeof source === 'function' ? source() : createClient(source)));
  const mounted = useRef(0);
  useEffect(() => {
    mounted.current++;
    // The outcome shows in `state`; an unmount while connecting rejects, which is expected.
    client.connect().catch(() => {});
    return () => {
      mounted.current--;
      void Promise.resolve().then(() => {
        if (mounted.current === 0) void client.close();
      });
    };
  }, [client]);
  return { client, state: useLifelineState(client) };
}
