/**
 * A WebSocket probe, run while the session is carried by polling (PROTOCOL.md §11.5). It
 * opens its own socket and session with the client's current positions, and succeeds only
 * when the session is truly open: `welcome` arrived AND a `ping` sent after it was
 * answered. Frames the probe's session sends meanwhile (a replay, live pushes) are kept,
 * so that the engine can hand them over after it promoted the probe: the client's
 * per-stream de-duplication then drops what polling had already delivered.
 */
import {
  CloseCode,
  decodeServerFrame,
  encodeClientFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '../protocol/index.js';
import type { Scope } from '../env/index.js';
import type { Transport, TransportFactory } from './transports/transport.js';

/** Most frames a probe keeps before it gives up (a busy stream and a slow pong). */
export const MAX_PROBE_BUFFERED_FRAMES = 1_000;

export interface ProbeHooks {
  /** The `hello` to send, with the client's positions as they are now; undefined to give up. */
  hello(): string | undefined;
  /** The probe's session is open: promote it. */
  succeeded(probe: Probe): void;
  /** The probe failed; it already closed its socket. */
  failed(): void;
}

export class Probe {
  readonly scope: Scope;
  /** Set once the socket exists. */
  transport: Transport | null = null;
  welcome: WelcomeFrame | null = null;
  /** Frames after `welcome` other than the probe's own `pong`, in order. */
  readonly buffered: string[] = [];
  /** Once promoted, the engine owns the transport and routes its frames. */
  promoted: ((event: ProbeEvent) => void) | null = null;
  readonly #hooks: ProbeHooks;
  #pingT = -1;
  #done = false;
  readonly #cancelTimeout: () => void;

  constructor(scope: Scope, hooks: ProbeHooks, timeoutMs: number) {
    this.scope = scope;
    this.#hooks = hooks;
    this.#cancelTimeout = scope.setTimeout(() => this.#fail(), timeoutMs);
    scope.add(() => {
      if (this.promoted === null) this.transport?.close(CloseCode.NORMAL, 'probe ended');
    });
  }

  /** Open the socket (after the token is known). */
  start(open: TransportFactory, url: string): void {
    if (this.#done) return;
    try {
      this.transport = open(url, {
        opened: () => this.#event({ kind: 'opened' }),
        received: (text) => this.#event({ kind: 'received', text }),
        malformed: (detail) => this.#event({ kind: 'malformed', detail }),
        closed: (code, reason) => this.#event({ kind: 'closed', code, reason }),
      });
    } catch {
      this.#fail();
    }
  }

  /** Give up: close the socket and report. */
  fail(): void {
    this.#fail();
  }

  #event(event: ProbeEvent): void {
    if (this.promoted !== null) return this.promoted(event);
    if (this.#done || this.scope.disposed) return;
    switch (event.kind) {
      case 'opened': {
        const hello = this.#hooks.hello();
        if (hello === undefined) return this.#fail();
        return this.#send(hello);
      }
      case 'received':
        return this.#received(event.text);
      default:
        return this.#fail();
    }
  }

  #received(text: string): void {
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(text);
    } catch {
      return this.#fail();
    }
    if (frame.type === 'close') return this.#fail();
    if (this.welcome === null) {
      if (frame.type !== 'welcome') return this.#fail();
      this.welcome = frame;
      this.#pingT = this.scope.clock.now();
      return this.#send(encodeClientFrame({ type: 'ping', t: this.#pingT }));
    }
    if (frame.type === 'pong' && frame.t === this.#pingT) {
      this.#done = true;
      this.#cancelTimeout();
      return this.#hooks.succeeded(this);
    }
    if (this.buffered.length >= MAX_PROBE_BUFFERED_FRAMES) return this.#fail();
    this.buffered.push(text);
  }

  #send(text: string): void {
    try {
      this.transport?.send(text);
    } catch {
      this.#fail();
    }
  }

  #fail(): void {
    if (this.#done) return;
    this.#done = true;
    this.scope.dispose();
    this.#hooks.failed();
  }
}

export type ProbeEvent =
  | { readonly kind: 'opened' }
  | { readonly kind: 'received'; readonly text: string }
  | { readonly kind: 'malformed'; readonly detail: string }
  | { readonly kind: 'closed'; readonly code: number; readonly reason: string };
