/**
 * What a {@link Session} shares with the gateway that accepted it, and the one way any
 * part of the gateway closes a transport: a `close` frame first, then the transport close
 * with the same code and reason (PROTOCOL.md §3.6).
 */
import type { Scope } from '../env/index.js';
import {
  CLOSE_REASON,
  encodeServerFrame,
  type CloseCode,
  type CloseFrame,
} from '../protocol/index.js';
import type { Emitter } from './events.js';
import type { HeartbeatSweep } from './heartbeat-sweep.js';
import type { ResolvedOptions } from './options.js';
import type { Registry } from './registry.js';
import type { RequestDedupe } from './request-dedupe.js';
import type { Session } from './session.js';
import type { Connection, GatewayEvents, PublishInput, PublishResult } from './types.js';

/** Mutable counters shared by the sessions of one gateway. */
export interface Counters {
  published: number;
  pushesEncoded: number;
  pushesSent: number;
}

/** What a session needs from the gateway that accepted it. */
export interface SessionContext {
  readonly options: ResolvedOptions;
  readonly registry: Registry<Session>;
  /** The gateway's scope; each session owns a child of it. */
  readonly scope: Scope;
  readonly sweep: HeartbeatSweep;
  readonly events: Emitter<GatewayEvents>;
  readonly counters: Counters;
  /** Replies of recent requests per user, so a re-sent request is answered, not re-run. */
  readonly requests: RequestDedupe;
  /** The gateway's own publish, for `publish` frames a client is allowed to send. */
  publish(input: PublishInput): Promise<PublishResult>;
  /** The transport connection is gone; stop tracking it. */
  forget(session: Session): void;
}

/** Who an open session belongs to. */
export interface Profile {
  readonly userId: string;
  readonly tenantId: string | undefined;
  readonly device: string | undefined;
  readonly client: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
  /** The user's inbox stream; also the user's key in the registry. */
  readonly userStream: string;
}

/** Write a `close` frame, then close the transport with the same code and reason. */
export function closeWithFrame(
  connection: Connection,
  code: CloseCode,
  retryAfterMs?: number,
): void {
  const reason = CLOSE_REASON[code];
  const frame: CloseFrame =
    retryAfterMs === undefined
      ? { type: 'close', code, reason }
      : { type: 'close', code, reason, retryAfterMs };
  connection.send(encodeServerFrame(frame));
  connection.close(code, reason);
}
