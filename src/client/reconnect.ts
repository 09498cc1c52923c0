/**
 * The reconnect policy as a pure function: given why a connection ended, what next.
 * The client's single loss handler asks it and acts on the verdict; nothing else in the
 * client decides whether to reconnect.
 */
import { CloseCode, closeClassOf, type CloseClass, type LifelineError } from '../protocol/index.js';
import { backoffDelay, clampDelay } from '../env/index.js';
import type { ResolvedOptions } from './options.js';

/** The client's options the policy reads; a token function makes 4101 retryable. */
export type ReconnectPolicy = Pick<
  ResolvedOptions,
  'minReconnectDelayMs' | 'maxReconnectDelayMs' | 'maxReconnectAttempts' | 'random' | 'token'
>;

export interface Loss {
  /** Why: carries the close code when there is one; without one the loss is retryable. */
  readonly error: LifelineError;
  /** From a server `close` frame: do not come back sooner. */
  readonly retryAfterMs?: number | undefined;
  /** Whether the lost connection had reached `welcome` (then the attempt counter restarts). */
  readonly wasOpen: boolean;
  /** The attempt number of the connection that ended. */
  readonly attempt: number;
}

export type Verdict =
  /**
   * Wait `delayMs`, then make attempt `attempt`. A `resync`-class close retries too: the
   * positions of delivered messages stay true, and the gateway's answer to `hello.resume`
   * decides whether what was missed comes back (PROTOCOL.md §10.2).
   */
  | { readonly kind: 'retry'; readonly attempt: number; readonly delayMs: number }
  /** The gateway's close is final. */
  | { readonly kind: 'fatal' }
  /** Reconnect attempts ran out. */
  | { readonly kind: 'exhausted' };

/** The class of a loss, read from its close code through the protocol's table. */
export function lossClass(error: LifelineError, refreshableToken: boolean): CloseClass {
  const code = error.closeCode;
  if (code === undefined) return 'retry';
  if (code === CloseCode.AUTH_EXPIRED && !refreshableToken) return 'fatal';
  return closeClassOf(code);
}

export function decide(loss: Loss, policy: ReconnectPolicy): Verdict {
  const cls = lossClass(loss.error, typeof policy.token === 'function');
  if (cls === 'fatal') return { kind: 'fatal' };
  // An attempt fails when it does not reach `welcome`; an open session resets the count.
  const attempt = loss.wasOpen ? 1 : loss.attempt + 1;
  if (attempt > policy.maxReconnectAttempts) return { kind: 'exhausted' };
  const jittered = backoffDelay(attempt, {
    minDelayMs: policy.minReconnectDelayMs,
    maxDelayMs: policy.maxReconnectDelayMs,
    random: policy.random,
  });
  const delayMs = clampDelay(Math.max(jittered, loss.retryAfterMs ?? 0));
  return { kind: 'retry', attempt, delayMs };
}
