/**
 * The clock every Lifeline timer goes through, so tests can inject a fake one and
 * production code never calls `Date.now` or `setTimeout` directly.
 */

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Run `fn` once after `ms` milliseconds. Implementations clamp `ms` to
   * [0, {@link MAX_TIMER_DELAY_MS}] and must not keep a Node process alive on their own.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Largest delay a JavaScript timer honours; longer ones fire at once (2^31 − 1 ms). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export function clampDelay(ms: number): number {
  if (!Number.isFinite(ms)) return ms > 0 ? MAX_TIMER_DELAY_MS : 0;
  return Math.min(Math.max(0, Math.ceil(ms)), MAX_TIMER_DELAY_MS);
}

interface HostTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The host's clock: `Date.now` and `globalThis.setTimeout`, unref'd where the host supports it. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = (globalThis as unknown as HostTimers).setTimeout(fn, clampDelay(ms));
    // Node: a reconnect or heartbeat timer alone must not keep the process running.
    const maybe = handle as { unref?: () => void } | null;
    if (maybe !== null && typeof maybe === 'object' && typeof maybe.unref === 'function')
      maybe.unref();
    return handle;
  },
  clearTimeout(handle) {
    (globalThis as unknown as HostTimers).clearTimeout(handle);
  },
};

interface HostIntervals {
  setInterval?(fn: () => void, ms: number): unknown;
  clearInterval?(handle: unknown): void;
}

/**
 * Keep the host running until the returned function is called: an interval (ref'd, so a
 * Node process does not exit) that is released long before it would ever fire; without
 * `setInterval`, nothing. For the few waits that must end on their own even when nothing
 * else is left to keep the process alive (a gateway's shutdown waiting for sessions to
 * close): the clock's own timers deliberately do not.
 */
export function holdProcess(): () => void {
  const host = globalThis as unknown as HostIntervals;
  if (typeof host.setInterval !== 'function') return () => {};
  const handle = host.setInterval(() => {}, MAX_TIMER_DELAY_MS);
  return () => host.clearInterval?.(handle);
}
