/**
 * Which tabs are still alive, from Web Locks. Every tab holds a lock of its own, named
 * after the share and the tab, for as long as it takes part. The browser releases it when
 * the tab closes or its renderer crashes, but not while the tab is frozen in the
 * background, so a held lock means "may come back". The leader asks
 * `navigator.locks.query()` which of them are held, and lets go of what it holds for tabs
 * that died without a goodbye (their channel subscriptions, their place in the gate).
 */
import type { LockManagerLike } from './env.js';

function presenceLock(share: string, tab: string): string {
  return `${share} tab ${tab}`;
}

/**
 * Hold `tab`'s presence lock until the returned release is called, or `signal` aborts
 * the wait. Resolves once the lock is held (at once: no other tab asks for that name).
 */
export function holdPresence(
  locks: LockManagerLike,
  share: string,
  tab: string,
  signal: AbortSignal,
): Promise<() => void> {
  return new Promise((held, failed) => {
    locks
      .request(
        presenceLock(share, tab),
        { signal },
        () => new Promise<void>((release) => held(release)),
      )
      .catch(failed);
  });
}

/** The tabs whose presence lock is held; undefined where the host cannot tell. */
export async function presentTabs(
  locks: LockManagerLike,
  share: string,
): Promise<ReadonlySet<string> | undefined> {
  if (typeof locks.query !== 'function') return undefined;
  const { held = [] } = await locks.query();
  const prefix = presenceLock(share, '');
  const tabs = new Set<string>();
  for (const { name } of held)
    if (typeof name === 'string' && name.startsWith(prefix)) tabs.add(name.slice(prefix.length));
  return tabs;
}
