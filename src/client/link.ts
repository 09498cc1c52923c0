/**
 * One connection attempt and, once `welcome` arrived, its session. The client holds at
 * most one; dropping it disposes its scope, which closes the transport and removes every
 * listener it added, before a new link can exist.
 */
import type { Scope } from '../env/index.js';
import type { Heartbeat } from './heartbeat.js';
import type { SessionInfo } from './state.js';
import type { Transport, TransportKind } from './transports/transport.js';

export interface Link {
  /** Compared with the client's current generation: an older link's callbacks are ignored. */
  readonly generation: number;
  /** 0 for the first attempt after connect()/reconnect(), n for the n-th reconnect attempt. */
  readonly attempt: number;
  /** The transport this attempt uses. */
  readonly kind: TransportKind;
  /** Owns the transport and the `offline` listener. */
  readonly scope: Scope;
  transport: Transport | null;
  /** Set by `welcome`: the attempt succeeded. */
  session: SessionInfo | null;
  heartbeat: Heartbeat | null;
  /** Frames received on this link: the heartbeat reads them as proof of life. */
  frames: number;
  /** When the last frame arrived (clock time); 0 before the first. */
  lastAt: number;
}

export function createLink(
  generation: number,
  attempt: number,
  kind: TransportKind,
  scope: Scope,
): Link {
  return {
    generation,
    attempt,
    kind,
    scope,
    transport: null,
    session: null,
    heartbeat: null,
    frames: 0,
    lastAt: 0,
  };
}
