/**
 * The two browser facilities a shared connection stands on, as the small interfaces it
 * uses: Web Locks elect the leader (a lock is released by the browser when its tab closes
 * or crashes, so the next waiting tab takes over), a BroadcastChannel carries everything
 * else. Both are same-origin, which is the boundary a shared connection must not cross.
 * Tests inject fakes; browsers pass nothing and get `navigator.locks` and
 * `globalThis.BroadcastChannel`.
 */

/** The part of the Web Locks `LockManager` (`navigator.locks`) a shared client uses. */
export interface LockManagerLike {
  /**
   * Run `callback` once the exclusive lock `name` is granted, and hold the lock until the
   * promise it returns settles. Rejects (an `AbortError`) when `signal` aborts first.
   */
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<void>;
  /**
   * The locks held and waited for. Optional: without it, the leader cannot tell a tab that
   * crashed from one that is frozen, and keeps what it holds for either until it hands over.
   */
  query?(): Promise<{ readonly held?: readonly { readonly name?: string }[] }>;
}

/** One end of a BroadcastChannel: other ends of the same name get what it posts. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
}

export type BroadcastChannelConstructorLike = new (name: string) => BroadcastChannelLike;

/** `navigator.locks`, when the host has it. */
export function defaultLocks(): LockManagerLike | undefined {
  const host = globalThis as { navigator?: { locks?: LockManagerLike } };
  const locks = host.navigator?.locks;
  return typeof locks?.request === 'function' ? locks : undefined;
}

/** `globalThis.BroadcastChannel`, when the host has it. */
export function defaultBroadcastChannel(): BroadcastChannelConstructorLike | undefined {
  const host = globalThis as unknown as { BroadcastChannel?: BroadcastChannelConstructorLike };
  return typeof host.BroadcastChannel === 'function' ? host.BroadcastChannel : undefined;
}
