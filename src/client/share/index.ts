/**
 * `createClient()` with `shareConnection`: all tabs of an origin that connect to the same
 * gateway URL as the same user share one connection. One tab leads (it holds a Web Lock
 * and the real client); the others send and receive through it over a BroadcastChannel;
 * when it closes or dies, the browser hands the lock to the next tab, which resumes from
 * the positions every tab had confirmed.
 *
 * Kept out of `lifeline/client` so the core bundle does not carry it.
 */
import { InvalidOptionError } from '../../protocol/index.js';
import { createClient as createOwnClient } from '../client.js';
import { DEFAULT_STORAGE_KEY_PREFIX, resolveOptions, type ClientOptions } from '../options.js';
import type { LifelineClient } from '../types.js';
import {
  defaultBroadcastChannel,
  defaultLocks,
  type BroadcastChannelConstructorLike,
  type LockManagerLike,
} from './env.js';
import { SharedTab } from './tab.js';

/** Default of {@link SharedClientOptions.shareConfirmTimeoutMs}, in ms. */
export const DEFAULT_SHARE_CONFIRM_TIMEOUT_MS = 10_000;
/** Default of {@link SharedClientOptions.shareCatchUpLimit}. */
export const DEFAULT_SHARE_CATCH_UP_LIMIT = 1_000;

export interface SharedClientOptions extends ClientOptions {
  /**
   * Share one connection among all tabs of this origin that use the same `url` and user:
   * one tab holds it, the others go through it, another takes over when it closes.
   * Needs Web Locks and BroadcastChannel; where either is missing, each tab keeps its own
   * connection, as without this option.
   * @default false
   */
  readonly shareConnection?: boolean;
  /**
   * Who the user is, for sharing: tabs share only with tabs of the same `url` and key.
   * Needed when `token` is not a JWT (whose `sub` and `tenant` claims are used otherwise).
   * @default the token's `tenant/sub`, or `''` without a token
   */
  readonly shareKey?: string;
  /**
   * A tab that has not confirmed an event within this time (frozen in the background, or
   * gone without saying so) stops holding back the checkpoint the next leader resumes
   * from, in ms. @default 10_000
   */
  readonly shareConfirmTimeoutMs?: number;
  /**
   * Messages the leading tab keeps for tabs that come back from the back/forward cache:
   * a tab that missed no more than this many gets them when it is back; one that missed
   * more gets a `resync` (`trimmed`) of each stream it cannot be caught up on.
   * @default 1_000
   */
  readonly shareCatchUpLimit?: number;
  /** The Web Locks manager electing the leader. @default navigator.locks */
  readonly locks?: LockManagerLike;
  /** The BroadcastChannel constructor carrying everything else. @default globalThis.BroadcastChannel */
  readonly BroadcastChannel?: BroadcastChannelConstructorLike;
}

/**
 * Create a client; with `shareConnection: true`, one whose tabs share a connection. Throws
 * like `createClient` from `lifeline/client` (`InvalidOptionError`, `UnsupportedError`).
 */
export function createClient(options: SharedClientOptions): LifelineClient {
  return createSharedClient(options, createOwnClient);
}

/** {@link createClient} with the factory of the real client chosen by the caller (tests). */
export function createSharedClient(
  options: SharedClientOptions,
  createReal: (options: ClientOptions) => LifelineClient,
): LifelineClient {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('options must be an object');
  const {
    shareConnection,
    shareKey,
    shareConfirmTimeoutMs,
    shareCatchUpLimit = DEFAULT_SHARE_CATCH_UP_LIMIT,
    locks: givenLocks,
    BroadcastChannel: givenChannel,
    ...client
  } = options;
  if (shareConnection !== undefined && typeof shareConnection !== 'boolean')
    throw new InvalidOptionError('shareConnection must be a boolean');
  if (shareKey !== undefined && (typeof shareKey !== 'string' || shareKey === ''))
    throw new InvalidOptionError('shareKey must be a non-empty string');
  const confirmTimeoutMs = shareConfirmTimeoutMs ?? DEFAULT_SHARE_CONFIRM_TIMEOUT_MS;
  if (typeof confirmTimeoutMs !== 'number' || !(confirmTimeoutMs > 0))
    throw new InvalidOptionError('shareConfirmTimeoutMs must be a number > 0');
  if (!Number.isSafeInteger(shareCatchUpLimit) || shareCatchUpLimit < 0)
    throw new InvalidOptionError('shareCatchUpLimit must be an integer ≥ 0');
  const resolved = resolveOptions(client);
  const locks = givenLocks ?? defaultLocks();
  const BroadcastChannel = givenChannel ?? defaultBroadcastChannel();
  // Without both, a tab cannot find or follow a leader: it connects on its own.
  if (shareConnection !== true || locks === undefined || BroadcastChannel === undefined)
    return createReal(client);
  return new SharedTab({
    url: resolved.url,
    token: resolved.token,
    shareKey,
    locks,
    BroadcastChannel,
    clock: resolved.clock,
    random: resolved.random,
    requestTimeoutMs: resolved.requestTimeoutMs,
    confirmTimeoutMs,
    catchUpLimit: shareCatchUpLimit,
    saveDelayMs: resolved.storageSaveDelayMs,
    transport: resolved.transports[0] ?? 'websocket',
    client,
    createClient: createReal,
    positionsKey: client.storageKey ?? `${DEFAULT_STORAGE_KEY_PREFIX}${resolved.url}`,
    storage: resolved.storage,
    page: resolved.page,
  });
}
