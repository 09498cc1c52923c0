/**
 * What tabs sharing one connection say to each other over their BroadcastChannel. These
 * messages never leave the browser: the gateway sees one ordinary client (the leader's).
 *
 * Every message is a plain, structured-clonable object with a `t` type. Errors cannot
 * cross a channel as classes, so they travel as {@link WireError} and are rebuilt as the
 * same typed error on the other side.
 *
 * Changing what these messages mean changes their version: the number in
 * `SHARE_NAME_PREFIX` (key.ts), which keeps tabs of different versions apart.
 */
import {
  AuthExpiredError,
  AuthFailedError,
  CallbackError,
  ClientClosedError,
  ClosedByServerError,
  ConnectFailedError,
  FrameTooLargeError,
  HeartbeatTimeoutError,
  InvalidOptionError,
  LifelineError,
  OutboxFullError,
  ProtocolError,
  ReplacedError,
  RequestFailedError,
  StorageError,
  TimeoutError,
  UnsupportedError,
  type ErrorCode,
  type LifelineErrorOptions,
  type PublishTarget,
  type StreamPosition,
} from '../../protocol/index.js';
import type { ConnectionState } from '../state.js';
import type { PushMessage, ResyncEvent } from '../types.js';

/** A {@link LifelineError} as it crosses the channel. */
export interface WireError {
  readonly name: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly closeCode?: number;
  readonly replyCode?: string;
}

/** A {@link ConnectionState} with its errors in wire form. */
export type WireState =
  | Exclude<ConnectionState, { kind: 'reconnecting' | 'closed' | 'failed' }>
  | { readonly kind: 'reconnecting'; attempt: number; retryAt: number; lastError: WireError }
  | { readonly kind: 'closed'; readonly initiator: 'client' }
  | { readonly kind: 'closed'; readonly initiator: 'server'; code: number; error: WireError }
  | { readonly kind: 'failed'; readonly error: WireError };

/** What a tab asks the leader to run on its behalf. */
export type CallOp = 'request' | 'publish' | 'send';

/** Messages from any tab (the leader's own included) to the leader. */
export type ToLeader =
  /**
   * A tab is here, or saw a new leader: answered by `welcome`. `since`, from a tab that
   * was away, is the last position it showed of each stream it wants (see catch-up.ts).
   */
  | { readonly t: 'hello'; readonly tab: string; readonly since?: readonly StreamPosition[] }
  /** `data` is JSON text: what is not JSON is refused in the calling tab, at once. */
  | {
      readonly t: 'call';
      readonly tab: string;
      readonly rid: string;
      readonly op: CallOp;
      readonly data: string;
      readonly to?: PublishTarget;
      readonly timeoutMs?: number;
    }
  | { readonly t: 'sub'; readonly tab: string; readonly channel: string }
  | { readonly t: 'unsub'; readonly tab: string; readonly rid: string; readonly channel: string }
  /** The tab has handled every event up to `seq` of leader `leader`. */
  | { readonly t: 'conf'; readonly tab: string; readonly leader: string; readonly seq: number }
  | { readonly t: 'ctl'; readonly tab: string; readonly op: 'connect' | 'reconnect' | 'check' }
  /** The tab closed its client: its subscriptions go, it no longer holds checkpoints back. */
  | { readonly t: 'bye'; readonly tab: string };

/** One event of the leader's client, numbered per leader. */
export type SharedEvent =
  | { readonly ev: 'message'; readonly message: PushMessage }
  | { readonly ev: 'messages'; readonly messages: readonly PushMessage[] }
  | { readonly ev: 'resync'; readonly resync: ResyncEvent }
  | { readonly ev: 'state'; readonly state: WireState }
  | { readonly ev: 'error'; readonly error: WireError };

/** Messages from the leader to every tab (or to one, with `to`). */
export type FromLeader =
  /** A tab took the lead: say hello again, re-send what is unanswered. */
  | { readonly t: 'lead'; readonly leader: string }
  | {
      readonly t: 'welcome';
      readonly leader: string;
      readonly to: string;
      /** Events up to here happened before the tab joined. */
      readonly seq: number;
      readonly state: WireState;
      /** The newest message the leader handed over, per stream: where the tab starts. */
      readonly heads: readonly StreamPosition[];
      /** For a hello with `since`: what the tab missed, as events, before any live one. */
      readonly replay?: readonly SharedEvent[];
    }
  | ({ readonly t: 'ev'; readonly leader: string; readonly seq: number } & SharedEvent)
  | {
      readonly t: 'result';
      readonly leader: string;
      readonly to: string;
      readonly rid: string;
      readonly ok: boolean;
      readonly value?: unknown;
      readonly error?: WireError;
    }
  /** Positions every tab has confirmed: where the next leader resumes. */
  | { readonly t: 'ckpt'; readonly leader: string; readonly text: string };

export type ShareMessage = ToLeader | FromLeader;

const TO_LEADER = new Set<string>(['hello', 'call', 'sub', 'unsub', 'conf', 'ctl', 'bye']);

export function isToLeader(message: ShareMessage): message is ToLeader {
  return TO_LEADER.has(message.t);
}

/** A message from the channel, or undefined for anything that is not one of ours. */
export function asShareMessage(data: unknown): ShareMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const t = (data as { t?: unknown }).t;
  return typeof t === 'string' ? (data as ShareMessage) : undefined;
}

export function encodeError(error: unknown): WireError {
  if (error instanceof LifelineError) {
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      ...(error.closeCode === undefined ? {} : { closeCode: error.closeCode }),
      ...(error instanceof RequestFailedError ? { replyCode: error.replyCode } : {}),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'LifelineError', code: 'LIFELINE_ERR_CONNECT_FAILED', message };
}

type ErrorClass = new (message: string, options?: LifelineErrorOptions) => LifelineError;

const CLASSES: Readonly<Record<string, ErrorClass>> = {
  UnsupportedError,
  InvalidOptionError,
  ConnectFailedError,
  AuthFailedError,
  AuthExpiredError,
  HeartbeatTimeoutError,
  ClosedByServerError,
  ReplacedError,
  ProtocolError,
  FrameTooLargeError,
  TimeoutError,
  ClientClosedError,
  CallbackError,
  OutboxFullError,
  StorageError,
};

/** The typed error `wire` stands for: same class, code, message and close code. */
export function decodeError(wire: WireError): LifelineError {
  const options = wire.closeCode === undefined ? {} : { closeCode: wire.closeCode };
  if (wire.name === 'RequestFailedError')
    return new RequestFailedError(wire.replyCode ?? 'handler_error', wire.message, options);
  const Class = CLASSES[wire.name];
  return Class === undefined
    ? new LifelineError(wire.code, wire.message, options)
    : new Class(wire.message, options);
}

export function encodeState(state: ConnectionState): WireState {
  switch (state.kind) {
    case 'reconnecting':
      return { ...state, lastError: encodeError(state.lastError) };
    case 'closed':
      return state.reason.initiator === 'client'
        ? { kind: 'closed', initiator: 'client' }
        : {
            kind: 'closed',
            initiator: 'server',
            code: state.reason.code,
            error: encodeError(state.reason.error),
          };
    case 'failed':
      return { kind: 'failed', error: encodeError(state.error) };
    default:
      return state;
  }
}

export function decodeState(wire: WireState): ConnectionState {
  switch (wire.kind) {
    case 'reconnecting':
      return { ...wire, lastError: decodeError(wire.lastError) };
    case 'closed':
      return wire.initiator === 'client'
        ? { kind: 'closed', reason: { initiator: 'client' } }
        : {
            kind: 'closed',
            reason: { initiator: 'server', code: wire.code, error: decodeError(wire.error) },
          };
    case 'failed':
      return { kind: 'failed', error: decodeError(wire.error) };
    default:
      return wire;
  }
}

/** The JSON text of a call's `data`, or `ProtocolError` at once, in the calling tab. */
export function callData(data: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (cause) {
    throw new ProtocolError('The data is not JSON.', { cause });
  }
  if (text === undefined) throw new ProtocolError('The data is not JSON.');
  return text;
}
