/**
 * The errors a client reports for failures it detects itself. Each carries the close code
 * the client uses (when it closes the socket over it), so the reconnect decision reads
 * the class of every failure from one table, the protocol's: no code means `retry`.
 * Production builds keep every class, code and close code, with shorter messages.
 */
import {
  CallbackError,
  ClosedByServerError,
  CloseCode,
  ConnectFailedError,
  FrameTooLargeError,
  HeartbeatTimeoutError,
  MAX_TOKEN_LENGTH,
  ProtocolError,
  TimeoutError,
  type LifelineError,
} from '../protocol/index.js';
import { DEV } from '../env/index.js';

/** The reasons the client sends with the close codes it uses (PROTOCOL.md §7). */
const REASONS: Readonly<Record<number, string>> = {
  [CloseCode.NORMAL]: 'normal closure',
  [CloseCode.PROTOCOL_ERROR]: 'protocol error',
  [CloseCode.FRAME_TOO_LARGE]: 'frame too large',
  [CloseCode.HANDSHAKE_TIMEOUT]: 'handshake timeout',
  [CloseCode.HEARTBEAT_TIMEOUT]: 'heartbeat timeout',
};

/** The close reason sent with `code`. */
export function closeReason(code: number): string {
  return REASONS[code] ?? '';
}

/** No `welcome` in time (retry). The socket is closed with 4003. */
export function connectTimedOut(ms: number): LifelineError {
  return new TimeoutError(DEV ? `No welcome from the gateway within ${ms} ms.` : 'welcome', {
    closeCode: CloseCode.HANDSHAKE_TIMEOUT,
  });
}

/** No frame after a ping (retry). The socket is closed with 4004 (PROTOCOL.md §6). */
export function heartbeatLost(pongTimeoutMs: number): LifelineError {
  return new HeartbeatTimeoutError(
    DEV ? `No frame from the gateway within ${pongTimeoutMs} ms of a ping.` : 'pong',
    { closeCode: CloseCode.HEARTBEAT_TIMEOUT },
  );
}

/** The gateway broke the protocol (fatal, PROTOCOL.md §5). The socket is closed with 4000. */
export function protocolViolation(detail: string, cause?: unknown): LifelineError {
  return new ProtocolError(DEV ? `Protocol error: ${detail}.` : detail, {
    cause,
    closeCode: CloseCode.PROTOCOL_ERROR,
  });
}

/** The host reported the network gone (retry). */
export function wentOffline(): LifelineError {
  return new ConnectFailedError(DEV ? 'The network went offline.' : 'offline', {
    closeCode: CloseCode.ABNORMAL,
  });
}

/** The socket threw on send: it is unusable (retry). */
export function sendFailed(cause: unknown): LifelineError {
  return new ClosedByServerError(DEV ? 'The connection failed while sending.' : 'send', {
    cause,
    closeCode: CloseCode.ABNORMAL,
  });
}

/** The transport could not be created (retry: the environment may recover). */
export function socketNotCreated(cause: unknown): LifelineError {
  return new ConnectFailedError(DEV ? 'Could not create the WebSocket.' : 'socket', { cause });
}

/** The token function threw, rejected or returned something that is not a token (retry). */
export function tokenFailed(cause?: unknown): LifelineError {
  return new CallbackError(
    !DEV
      ? 'token'
      : cause === undefined
        ? `The token function must return a string of at most ${MAX_TOKEN_LENGTH} characters.`
        : 'The token function failed.',
    { cause },
  );
}

/** Even without resume positions `hello` exceeds the gateway's limit (fatal). */
export function helloTooLarge(maxFrameBytes: number): LifelineError {
  return new FrameTooLargeError(
    DEV ? `The hello frame does not fit in ${maxFrameBytes} bytes.` : 'hello',
    { closeCode: CloseCode.FRAME_TOO_LARGE },
  );
}

/** Attempts ran out; `cause` is why the last one failed. */
export function gaveUp(maxReconnectAttempts: number, cause: LifelineError): LifelineError {
  return new ConnectFailedError(
    DEV
      ? `Could not connect to the gateway (${maxReconnectAttempts} reconnect attempts failed).`
      : 'attempts',
    { cause },
  );
}
