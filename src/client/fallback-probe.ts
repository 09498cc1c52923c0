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
  MAX_TOKEN_LENGTH,
  type ServerFrame,
  type WelcomeFrame,
} from '../protocol/index.js';
import type { Scope } from '../env/index.js';
import type { TransportPolicy } from './fallback.js';
import type { TokenSource } from './options.js';
import type { Transport, TransportFactory, TransportHandlers } from './transports/transport.js';
import { decodeServerFrame, encodeClientFrame } from './wire.js';

/** Most frames a probe keeps before it gives up (a busy stream and a slow pong). */
export const MAX_PROBE_BUFFERED_FRAMES = 1_000;

export interface ProbeHooks {
  /** The `hello` to send, with the client's positions as they are now; undefined to give up. */
  hello(token: string | undefined): string | undefined;
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
  /** Once promoted, the engine owns the transport: what it reports goes here. */
  promoted: TransportHandlers | null = null;
  private readonly hooks_: ProbeHooks;
  private token_: string | undefined;
  private pingT_ = -1;
  private done_ = false;
  private readonly cancelTimeout_: () => void;

  constructor(scope: Scope, hooks: ProbeHooks, timeoutMs: number) {
    this.scope = scope;
    this.hooks_ = hooks;
    this.cancelTimeout_ = scope.setTimeout(() => this.fail_(), timeoutMs);
    scope.add(() => {
      if (this.promoted === null) this.transport?.close(CloseCode.NORMAL, 'probe ended');
    });
  }

  /** Open the socket (after the token is known). */
  start(open: TransportFactory, url: string, token: string | undefined): void {
    if (this.done_) return;
    this.token_ = token;
    // Until promoted, anything but frames ends the probe; `opened` only matters before.
    const live = (): boolean => !this.done_ && !this.scope.disposed;
    try {
      this.transport = open(url, {
        opened: () => {
          if (this.promoted !== null || !live()) return;
          const hello = this.hooks_.hello(this.token_);
          if (hello === undefined) this.fail_();
          else this.send_(hello);
        },
        received: (text) => {
          if (this.promoted !== null) this.promoted.received(text);
          else if (live()) this.received_(text);
        },
        malformed: (detail) => {
          if (this.promoted !== null) this.promoted.malformed(detail);
          else this.fail_();
        },
        closed: (code, reason) => {
          if (this.promoted !== null) this.promoted.closed(code, reason);
          else this.fail_();
        },
      });
    } catch {
      this.fail_();
    }
  }

  /** Give up: close the socket and report. */
  fail(): void {
    this.fail_();
  }

  private received_(text: string): void {
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(text);
    } catch {
      return this.fail_();
    }
    if (frame.type === 'close') return this.fail_();
    if (this.welcome === null) {
      if (frame.type !== 'welcome') return this.fail_();
      this.welcome = frame;
      this.pingT_ = this.scope.clock.now();
      return this.send_(encodeClientFrame({ type: 'ping', t: this.pingT_ }));
    }
    if (frame.type === 'pong' && frame.t === this.pingT_) {
      this.done_ = true;
      this.cancelTimeout_();
      return this.hooks_.succeeded(this);
    }
    if (this.buffered.length >= MAX_PROBE_BUFFERED_FRAMES) return this.fail_();
    this.buffered.push(text);
  }

  private send_(text: string): void {
    try {
      this.transport?.send(text);
    } catch {
      this.fail_();
    }
  }

  private fail_(): void {
    if (this.done_) return;
    this.done_ = true;
    this.scope.dispose();
    this.hooks_.failed();
  }
}

/** What {@link startProbe} needs besides the hooks. */
export interface ProbeTarget {
  readonly open: TransportFactory;
  readonly url: string;
  readonly token: TokenSource | undefined;
  /** The probe fails unless its session is open within this many ms. */
  readonly timeoutMs: number;
}

/** Start a probe in `scope`: ask for a token (when `token` is a function), then open the socket. */
export function startProbe(scope: Scope, target: ProbeTarget, hooks: ProbeHooks): Probe {
  const probe = new Probe(scope, hooks, target.timeoutMs);
  const { open, url, token } = target;
  if (typeof token !== 'function') probe.start(open, url, token);
  else
    void (async () => {
      let value: unknown;
      try {
        value = await token();
      } catch {
        return probe.fail();
      }
      // Checked as the connection's own token is: one the gateway would refuse fails here.
      if (typeof value === 'string' && value.length <= MAX_TOKEN_LENGTH) {
        probe.start(open, url, value);
      } else probe.fail();
    })();
  return probe;
}

/**
 * While a session is open on polling: probe WebSocket after the policy's delay, and again
 * after every failed probe, until one succeeds or `scope` (the open state's) ends. Probes
 * live in children of `parent`, so that a promoted one can outlive the polling session.
 */
export function probeWhileOpen(
  scope: Scope,
  parent: Scope,
  policy: TransportPolicy,
  target: ProbeTarget,
  hooks: Omit<ProbeHooks, 'failed'> & { readonly failed?: () => void },
): void {
  const next = (): void => {
    const delayMs = policy.probeDelayMs;
    if (delayMs === undefined) return;
    scope.setTimeout(() => {
      const probe = startProbe(parent.child(), target, {
        ...hooks,
        failed: () => {
          hooks.failed?.();
          policy.probeFailed();
          next();
        },
      });
      // The probe lives as long as the polling session, unless it replaces it.
      scope.add(() => {
        if (probe.promoted === null) probe.scope.dispose();
      });
    }, delayMs);
  };
  next();
}
