/**
 * Reconnect delays: exponential growth with full jitter (AWS architecture blog,
 * "Exponential Backoff And Jitter"): the delay is uniform in [0, min(max, base·2^attempt)],
 * so a fleet of clients that lost the same gateway spreads its reconnects instead of
 * arriving in lock-step.
 */
import { clampDelay } from './clock.js';

export interface BackoffOptions {
  /** Base delay, in ms; the ceiling of the first retry's window. */
  readonly minDelayMs: number;
  /** Cap of the window, in ms. */
  readonly maxDelayMs: number;
  /** Uniform random number in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/**
 * Delay before retry number `attempt` (1 for the first retry): uniform in
 * [0, min(maxDelayMs, minDelayMs · 2^(attempt − 1))].
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const exp = Math.min(Math.max(0, attempt - 1), 30);
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** exp);
  return clampDelay(random() * ceiling);
}
