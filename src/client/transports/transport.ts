/**
 * The seam between the connection engine and the wire. The engine speaks frames as text
 * and never touches a socket; a transport moves that text and reports what happened to
 * the link: WebSocket (`websocket.ts`) or HTTP long-polling (`polling.ts`).
 */

/** Which transport carries a connection; shown in `ConnectionState`. */
export type TransportKind = 'websocket' | 'polling';

/** What a transport reports. A transport calls none of these after `close()` returned. */
export interface TransportHandlers {
  /** The link is up and frames can be sent. This is not the session being open. */
  opened(): void;
  /** One inbound text frame. */
  received(text: string): void;
  /** An inbound message the protocol does not allow (a binary frame). */
  malformed(detail: string): void;
  /** The link ended: the peer's close code and reason, or 1006 when it just dropped. */
  closed(code: number, reason: string): void;
}

export interface Transport {
  readonly kind: TransportKind;
  /** Send one text frame. Only valid after `opened`. */
  send(text: string): void;
  /**
   * Close the link and detach at once, without waiting for the peer's closing handshake:
   * no handler runs after this returns. Idempotent.
   */
  close(code: number, reason: string): void;
}

/** Opens one link to `url`. Called once per connection attempt. */
export type TransportFactory = (url: string, handlers: TransportHandlers) => Transport;
