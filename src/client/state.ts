/**
 * The connection state: one discriminated union (the cell that holds the current value is
 * in `state-cell.ts`).
 */
import { ClientClosedError, type LifelineError } from '../protocol/index.js';
import { DEV } from '../env/index.js';
import type { TransportKind } from './transports/transport.js';

/** What the gateway said in `welcome`. */
export interface SessionInfo {
  /** Session id, unique per connection. */
  readonly id: string;
  /** The authenticated user id. */
  readonly user: string;
  /** Gateway clock when `welcome` was written, in ms since the Unix epoch. */
  readonly serverTime: number;
  /** The longest ping interval the gateway accepts, in ms. */
  readonly pingIntervalMs: number;
  /** The gateway closes a session it hears nothing from for this long, in ms. */
  readonly idleTimeoutMs: number;
  /** The largest frame the gateway accepts, in UTF-8 bytes. */
  readonly maxFrameBytes: number;
}

/** Why a client is `closed`: its own `close()`, or a close the gateway made final. */
export type CloseReason =
  | { readonly initiator: 'client' }
  | { readonly initiator: 'server'; readonly code: number; readonly error: LifelineError };

export type ConnectionState =
  /** Created, `connect()` not called yet. */
  | { readonly kind: 'idle' }
  /**
   * A connection attempt is under way: token, socket, `hello`, waiting for `welcome`.
   * `attempt` is 0 for the first attempt after `connect()` / `reconnect()` and n for the
   * n-th reconnect attempt since the last open session.
   */
  | { readonly kind: 'connecting'; readonly attempt: number; readonly transport: TransportKind }
  /** `welcome` arrived: the session is ready. A merely connected socket is not `open`. */
  | { readonly kind: 'open'; readonly session: SessionInfo; readonly transport: TransportKind }
  /** Waiting until `retryAt` (ms since the epoch) before reconnect attempt `attempt`. */
  | {
      readonly kind: 'reconnecting';
      readonly attempt: number;
      readonly retryAt: number;
      readonly lastError: LifelineError;
    }
  /**
   * The page went away (`pagehide`: unloaded, or into the back/forward cache). The
   * connection was closed cleanly (1000) after pending acks were sent; the outbox,
   * subscriptions and positions are kept. `pageshow` from the cache, `connect()` or
   * `reconnect()` connects again and resumes where it stopped.
   */
  | { readonly kind: 'suspended' }
  /** Terminal until `connect()` or `reconnect()`. */
  | { readonly kind: 'closed'; readonly reason: CloseReason }
  /** Terminal: reconnect attempts ran out. `error` is a `ConnectFailedError`. */
  | { readonly kind: 'failed'; readonly error: LifelineError };

export type StateKind = ConnectionState['kind'];

export interface StateChange {
  readonly from: ConnectionState;
  readonly to: ConnectionState;
}

export type TerminalState = Extract<ConnectionState, { kind: 'closed' | 'failed' }>;

export function isTerminal(state: ConnectionState): state is TerminalState {
  return state.kind === 'closed' || state.kind === 'failed';
}

/** The error a terminal state stands for: what `connect()` rejects with. */
export function terminalError(state: TerminalState): LifelineError {
  if (state.kind === 'failed') return state.error;
  return state.reason.initiator === 'server'
    ? state.reason.error
    : new ClientClosedError(DEV ? 'The client was closed.' : 'closed');
}

/** Whether two states say the same (a mirrored state may be announced twice). */
export function sameState(a: ConnectionState, b: ConnectionState): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'open' && b.kind === 'open')
    return a.session.id === b.session.id && a.transport === b.transport;
  if (a.kind === 'connecting' && b.kind === 'connecting')
    return a.attempt === b.attempt && a.transport === b.transport;
  if (a.kind === 'reconnecting' && b.kind === 'reconnecting')
    return a.attempt === b.attempt && a.retryAt === b.retryAt;
  if (a.kind === 'closed' && b.kind === 'closed') return a.reason.initiator === b.reason.initiator;
  return true; // idle, failed, or a state without details
}
