/**
 * `createClient()`: the connection engine. This file only orchestrates; each concern lives
 * in its own module (state, heartbeat, reconnect policy, outbox, subscriptions, delivery
 * of pushes — positions, gap repair, resync, batching, acks — persisted positions,
 * transports).
 *
 * Two rules hold the design together:
 * - Every state change goes through `#transition()`, which releases what the old state
 *   owned (timers, listeners, the socket unless the next state is `open`).
 * - Every way a connection can end reports to `#lost()`, the only place that decides
 *   between reconnecting, closing for good and giving up.
 */
import {
  CLOSE_REASON,
  CloseCode,
  MAX_TOKEN_LENGTH,
  PROTOCOL_VERSION,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  errorFromClose,
  InvalidOptionError,
  type LifelineError,
  type ServerFrame,
  type WelcomeFrame,
} from '../protocol/index.js';
import { Scope } from '../env/index.js';
import { Delivery } from './delivery.js';
import { Emitter } from './emitter.js';
import { Probe, type ProbeEvent } from './fallback-probe.js';
import { TransportMemory, canFallBack, initialTransport, type FallbackPolicy } from './fallback.js';
import * as failure from './failures.js';
import { Heartbeat } from './heartbeat.js';
import { createLink, type Link } from './link.js';
import {
  TRANSPORT_MEMORY_KEY_PREFIX,
  resolveOptions,
  type ClientOptions,
  type ResolvedOptions,
} from './options.js';
import { DEFAULT_MAX_FRAME_BYTES, helloText } from './outbound.js';
import { PersistedPositions } from './persisted.js';
import { decide, type ReconnectPolicy } from './reconnect.js';
import { Outbox, idSource } from './outbox.js';
import {
  StateCell,
  isTerminal,
  terminalError,
  type ConnectionState,
  type SessionInfo,
} from './state.js';
import { Subscriptions, type Subscription } from './subscriptions.js';
import { pollingTransport } from './transports/polling.js';
import type { Transport, TransportFactory, TransportKind } from './transports/transport.js';
import { webSocketTransport } from './transports/websocket.js';
import type { ClientEvents, LifelineClient, RequestOptions, SendResult } from './types.js';

/** Create a client. Validates `options` (throws `InvalidOptionError`, `UnsupportedError`). */
export function createClient(options: ClientOptions): LifelineClient {
  return new Client(resolveOptions(options));
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: LifelineError): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: LifelineError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class Client implements LifelineClient {
  readonly #options: ResolvedOptions;
  readonly #policy: ReconnectPolicy;
  readonly #factories: Partial<Record<TransportKind, TransportFactory>> = {};
  /** The transport the next connection attempt uses. */
  #kind: TransportKind;
  readonly #fallback: FallbackPolicy;
  readonly #memory: TransportMemory | null;
  /** The remembered outcome was read (once, before the first attempt). */
  #recalled = false;
  /** Consecutive WebSocket attempts that did not reach `welcome`. */
  #socketFailures = 0;
  /** Consecutive failed WebSocket probes while on polling. */
  #probeFailures = 0;
  readonly #scope: Scope;
  readonly #events = new Emitter<ClientEvents>();
  readonly #cell: StateCell;
  readonly #delivery: Delivery;
  readonly #persisted: PersistedPositions | null;
  /** Stored positions being read before the first `hello`; null before and after. */
  #restoring: Promise<void> | null = null;
  #restored = false;
  readonly #outbox: Outbox;
  readonly #subscriptions: Subscriptions;
  #link: Link | null = null;
  // Bumped whenever a link is created or dropped; a callback whose link carries an older
  // number belongs to a connection that is gone.
  #generation = 0;
  #ready: Deferred | null = null;
  #maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#policy = {
      minDelayMs: options.minReconnectDelayMs,
      maxDelayMs: options.maxReconnectDelayMs,
      maxAttempts: options.maxReconnectAttempts,
      random: options.random,
      refreshableToken: typeof options.token === 'function',
    };
    if (options.WebSocket !== undefined)
      this.#factories.websocket = webSocketTransport(options.WebSocket);
    if (options.request !== undefined) this.#factories.polling = pollingTransport(options.request);
    this.#fallback = {
      transports: options.transports,
      mode: options.fallback,
      afterFailures: options.fallbackAfterFailures,
    };
    this.#kind = initialTransport(this.#fallback, false);
    this.#memory =
      options.storage === undefined ||
      options.transportMemoryMs === 0 ||
      !canFallBack(this.#fallback)
        ? null
        : new TransportMemory(
            options.storage,
            `${TRANSPORT_MEMORY_KEY_PREFIX}${options.url}`,
            options.transportMemoryMs,
            () => options.clock.now(),
          );
    this.#scope = new Scope(options.clock);
    this.#cell = new StateCell(this.#scope, (change) => this.#events.emit('state', change));
    const nextId = idSource(options.random);
    const report = (error: LifelineError): void => this.#events.emit('error', error);
    this.#outbox = new Outbox(this.#scope, { ...options.outbox, nextId });
    const delivery = new Delivery(this.#scope, this.#events, {
      batch: options.batch,
      ackDelayMs: options.ackDelayMs,
      repairTimeoutMs: options.requestTimeoutMs,
      nextId,
    });
    this.#delivery = delivery;
    this.#subscriptions = new Subscriptions(this.#scope, {
      nextId,
      positionOf: (stream) => delivery.received.of(stream),
      report,
      timeoutMs: options.requestTimeoutMs,
    });
    const { storage, storageKey, storageSaveDelayMs } = options;
    this.#persisted =
      storage === undefined
        ? null
        : new PersistedPositions(this.#scope.child(), {
            storage,
            key: storageKey,
            saveDelayMs: storageSaveDelayMs,
            snapshot: () => delivery.delivered.latest(),
            report,
          });
    if (this.#persisted !== null) delivery.persistWith(this.#persisted);
  }

  get state(): ConnectionState {
    return this.#cell.current;
  }

  connect(): Promise<void> {
    const state = this.#cell.current;
    if (state.kind === 'open') return Promise.resolve();
    const ready = (this.#ready ??= deferred());
    if (state.kind === 'idle' || isTerminal(state)) this.#begin();
    return ready.promise;
  }

  async close(): Promise<void> {
    if (isTerminal(this.#cell.current)) return;
    // Hand over the pending batch and tell the gateway what was delivered before going;
    // resume would cover it otherwise.
    this.#delivery.flush();
    this.#transition({ kind: 'closed', reason: { initiator: 'client' } });
  }

  reconnect(): void {
    this.#attempt(0);
  }

  checkLiveness(): void {
    this.#link?.heartbeat?.check();
  }

  on<K extends keyof ClientEvents>(
    event: K,
    listener: (payload: ClientEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  request(data: unknown, options: RequestOptions = {}): Promise<unknown> {
    const state = this.#cell.current;
    if (isTerminal(state)) return Promise.reject(terminalError(state));
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      return Promise.reject(
        new InvalidOptionError('request timeoutMs must be a positive finite number'),
      );
    return new Promise((resolve, reject) => {
      try {
        this.#outbox.add(data, { resolve, reject }, timeoutMs);
      } catch (error) {
        reject(error);
      }
    });
  }

  send(data: unknown): SendResult {
    const state = this.#cell.current;
    if (isTerminal(state)) throw terminalError(state);
    const delivered = deferred();
    // Callers may ignore `delivered`; its rejection must not surface as unhandled.
    delivered.promise.catch(() => {});
    const { id, sent } = this.#outbox.add(data, {
      resolve: () => delivered.resolve(),
      reject: delivered.reject,
    });
    return { status: sent ? 'sent' : 'queued', id, delivered: delivered.promise };
  }

  subscribe(channel: string): Subscription {
    return this.#subscriptions.add(channel);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------------ state

  /** The only place the state changes. Returns false when a listener already moved on. */
  #transition(to: ConnectionState): boolean {
    if (to.kind !== 'open') this.#dropLink();
    const ready = to.kind === 'open' || isTerminal(to) ? this.#ready : null;
    if (ready !== null) this.#ready = null;
    if (isTerminal(to)) {
      // Messages already received reach the application even when the client ends.
      this.#delivery.flush();
      this.#outbox.rejectAll(terminalError(to));
    }
    const current = this.#cell.transition(to);
    if (ready !== null) {
      if (isTerminal(to)) ready.reject(terminalError(to));
      else ready.resolve();
    }
    return current;
  }

  #dropLink(): void {
    const link = this.#link;
    if (link === null) return;
    this.#link = null;
    this.#generation++;
    this.#outbox.detach();
    this.#subscriptions.detach();
    this.#delivery.detach();
    // Closes the socket and detaches its listeners before any new one can exist.
    link.scope.dispose();
  }

  #isCurrent(link: Link): boolean {
    return link.generation === this.#generation && this.#link === link;
  }

  // ------------------------------------------------------------------ connecting

  /** The first attempt, once the remembered transport outcome (if any) was read. */
  #begin(): void {
    const memory = this.#memory;
    if (memory === null || this.#recalled) return this.#attempt(0);
    this.#recalled = true;
    const recalled = memory.recall();
    const apply = (failing: boolean): void => {
      if (failing) this.#kind = initialTransport(this.#fallback, true);
    };
    if (typeof recalled === 'boolean') {
      apply(recalled);
      return this.#attempt(0);
    }
    void recalled.then((failing) => {
      apply(failing);
      // Still wanted: connect() is pending and nothing else started an attempt.
      if (this.#ready !== null && this.#link === null && !isTerminal(this.#cell.current))
        this.#attempt(0);
    });
  }

  #attempt(attempt: number): void {
    if (!this.#transition({ kind: 'connecting', attempt, transport: this.#kind })) return;
    const link = createLink(++this.#generation, attempt, this.#scope.child());
    this.#link = link;
    // The token counts against the timeout too: a hung token provider must not stall us.
    const { connectTimeoutMs, network } = this.#options;
    this.#cell.scope.setTimeout(
      () => this.#abort(link, failure.connectTimedOut(connectTimeoutMs)),
      connectTimeoutMs,
    );
    if (network !== undefined) {
      link.scope.listen(network, 'offline', () => this.#abort(link, failure.wentOffline()));
    }
    if (this.#kind === 'websocket' && canFallBack(this.#fallback)) {
      // A socket that is not open in time (a proxy that swallows frames) counts as failed
      // and sends the client to polling at once.
      const { fallbackAfterMs } = this.#options;
      this.#cell.scope.setTimeout(() => {
        this.#fallBack();
        this.#abort(link, failure.connectTimedOut(fallbackAfterMs));
      }, fallbackAfterMs);
    }
    const restoring = this.#restore();
    if (restoring === null) this.#authorize(link);
    else
      void restoring.then(() => {
        if (this.#isCurrent(link)) this.#authorize(link);
      });
  }

  /** Read stored positions once, before the first `hello`; null when there is nothing to wait for. */
  #restore(): Promise<void> | null {
    const persisted = this.#persisted;
    if (persisted === null || this.#restored) return null;
    this.#restoring ??= persisted.load().then((positions) => {
      this.#restored = true;
      this.#restoring = null;
      this.#delivery.restore(positions);
    });
    return this.#restoring;
  }

  #authorize(link: Link): void {
    const token = this.#options.token;
    if (typeof token === 'function') void this.#fetchToken(link, token);
    else this.#openLink(link, token);
  }

  async #fetchToken(link: Link, provide: () => string | Promise<string>): Promise<void> {
    let token: unknown;
    try {
      token = await provide();
    } catch (cause) {
      this.#lost(link, failure.tokenFailed(cause));
      return;
    }
    if (!this.#isCurrent(link)) return;
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
      this.#lost(link, failure.tokenFailed());
      return;
    }
    this.#openLink(link, token);
  }

  #openLink(link: Link, token: string | undefined): void {
    let transport: Transport;
    const open = this.#factories[this.#kind];
    try {
      if (open === undefined) throw new Error(`no ${this.#kind} transport`);
      transport = open(this.#options.url, {
        opened: () => this.#hello(link, token),
        received: (text) => this.#received(link, text),
        malformed: (detail) => this.#abort(link, failure.protocolViolation(detail)),
        closed: (code, reason) => this.#lost(link, errorFromClose(code, reason)),
      });
    } catch (cause) {
      this.#lost(link, failure.socketNotCreated(cause));
      return;
    }
    link.transport = transport;
    link.scope.add(() => transport.close(CloseCode.NORMAL, CLOSE_REASON[CloseCode.NORMAL]));
  }

  // ------------------------------------------------------------------ fallback

  /** Carry on over polling: WebSocket does not get through. */
  #fallBack(): void {
    if (this.#kind === 'polling' || !canFallBack(this.#fallback)) return;
    this.#kind = 'polling';
    this.#probeFailures = 0;
    this.#memory?.remember(true);
  }

  /** While open on polling: try WebSocket again after a delay that doubles per failed probe. */
  #scheduleProbe(): void {
    const { probeIntervalMs, maxProbeIntervalMs } = this.#options;
    const first = this.#fallback.mode === 'immediate' && this.#probeFailures === 0;
    const delayMs = first
      ? 0
      : Math.min(maxProbeIntervalMs, probeIntervalMs * 2 ** Math.min(this.#probeFailures, 30));
    this.#cell.scope.setTimeout(() => this.#probe(), delayMs);
  }

  #probe(): void {
    const open = this.#factories.websocket;
    const state = this.#cell.current;
    if (open === undefined || state.kind !== 'open' || state.transport !== 'polling') return;
    let token: string | undefined;
    const probe = new Probe(
      this.#scope.child(),
      {
        hello: () =>
          helloText({
            token,
            device: this.#options.device,
            resume: this.#delivery.received.latest(),
            maxFrameBytes: this.#maxFrameBytes,
          }),
        succeeded: (p) => this.#promote(p),
        failed: () => {
          this.#probeFailures++;
          this.#scheduleProbe();
        },
      },
      this.#options.fallbackAfterMs,
    );
    // The probe lives as long as the polling session, unless it replaces it.
    this.#cell.scope.add(() => {
      if (probe.promoted === null) probe.scope.dispose();
    });
    const source = this.#options.token;
    if (typeof source !== 'function') {
      token = source;
      return probe.start(open, this.#options.url);
    }
    void (async () => {
      try {
        const value = await source();
        if (typeof value !== 'string') return probe.fail();
        token = value;
      } catch {
        return probe.fail();
      }
      probe.start(open, this.#options.url);
    })();
  }

  /**
   * Switch the open session from polling to the probe's WebSocket session: positions
   * carry over (the probe resumed from them), frames the probe received are handed over
   * after the switch, and de-duplication drops what polling already delivered.
   */
  #promote(probe: Probe): void {
    const state = this.#cell.current;
    const transport = probe.transport;
    const welcome = probe.welcome;
    if (state.kind !== 'open' || transport === null || welcome === null) {
      probe.scope.dispose();
      return;
    }
    this.#dropLink(); // closes the polling session (DELETE)
    const link = createLink(++this.#generation, 0, probe.scope);
    link.transport = transport;
    this.#link = link;
    probe.promoted = (event: ProbeEvent) => {
      if (event.kind === 'received') this.#received(link, event.text);
      else if (event.kind === 'malformed')
        this.#abort(link, failure.protocolViolation(event.detail));
      else if (event.kind === 'closed') this.#lost(link, errorFromClose(event.code, event.reason));
    };
    link.scope.add(() => transport.close(CloseCode.NORMAL, CLOSE_REASON[CloseCode.NORMAL]));
    this.#kind = 'websocket';
    this.#probeFailures = 0;
    this.#socketFailures = 1; // so that `welcome` clears the remembered failure
    this.#received(link, encodeServerFrame(welcome));
    for (const text of probe.buffered) this.#received(link, text);
  }

  #hello(link: Link, token: string | undefined): void {
    if (!this.#isCurrent(link)) return;
    const text = helloText({
      token,
      device: this.#options.device,
      resume: this.#delivery.received.latest(),
      maxFrameBytes: this.#maxFrameBytes,
    });
    if (text === undefined) this.#abort(link, failure.helloTooLarge(this.#maxFrameBytes));
    else this.#send(link, text);
  }

  // ------------------------------------------------------------------ open session

  #received(link: Link, text: string): void {
    if (!this.#isCurrent(link)) return;
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(text);
    } catch (cause) {
      this.#abort(link, failure.protocolViolation('the gateway sent a malformed frame', cause));
      return;
    }
    link.heartbeat?.activity();
    if (frame.type === 'close') {
      this.#lost(link, errorFromClose(frame.code, frame.reason), frame.retryAfterMs);
    } else if (frame.type === 'welcome') {
      if (link.session !== null) this.#abort(link, failure.protocolViolation('a second welcome'));
      else if (frame.protocol !== PROTOCOL_VERSION)
        this.#abort(link, failure.protocolViolation(`welcome for protocol ${frame.protocol}`));
      else this.#welcomed(link, frame);
    } else if (link.session === null) {
      this.#abort(link, failure.protocolViolation(`a ${frame.type} frame before welcome`));
    } else if (frame.type === 'push') {
      this.#delivery.push(frame);
    } else if (frame.type === 'resync') {
      this.#delivery.resync(frame);
    } else if (frame.type === 'reply') {
      // A reply nobody waits for (its request timed out) is dropped.
      if (!this.#outbox.settle(frame) && !this.#subscriptions.settle(frame))
        this.#delivery.settle(frame);
    }
  }

  #welcomed(link: Link, frame: WelcomeFrame): void {
    const session: SessionInfo = {
      id: frame.session,
      user: frame.user,
      serverTime: frame.serverTime,
      pingIntervalMs: frame.pingIntervalMs,
      idleTimeoutMs: frame.idleTimeoutMs,
      maxFrameBytes: frame.maxFrameBytes,
    };
    link.session = session;
    this.#maxFrameBytes = frame.maxFrameBytes;
    const kind = link.transport?.kind ?? this.#kind;
    if (kind === 'websocket' && this.#socketFailures > 0) {
      this.#socketFailures = 0;
      this.#memory?.remember(false);
    }
    if (!this.#transition({ kind: 'open', session, transport: kind })) return;
    if (kind === 'polling' && canFallBack(this.#fallback)) this.#scheduleProbe();
    const scope = this.#cell.scope;
    const { pingIntervalMs, pongTimeoutMs } = this.#options;
    const intervalMs =
      frame.pingIntervalMs > 0 ? Math.min(pingIntervalMs, frame.pingIntervalMs) : pingIntervalMs;
    link.heartbeat = new Heartbeat(
      scope,
      { intervalMs, pongTimeoutMs },
      {
        ping: (t) => this.#send(link, encodeClientFrame({ type: 'ping', t })),
        dead: () => this.#abort(link, failure.heartbeatLost(pongTimeoutMs)),
      },
    );
    const send = (text: string): boolean => this.#send(link, text);
    const { maxFrameBytes } = session;
    this.#subscriptions.attach({ send });
    if (this.#isCurrent(link)) this.#outbox.attach({ send, maxFrameBytes });
    if (this.#isCurrent(link))
      this.#delivery.attach(scope, {
        send,
        broken: (error) => this.#abort(link, error),
        maxFrameBytes,
      });
  }

  #send(link: Link, text: string): boolean {
    if (!this.#isCurrent(link) || link.transport === null) return false;
    try {
      link.transport.send(text);
      return true;
    } catch (cause) {
      this.#abort(link, failure.sendFailed(cause));
      return false;
    }
  }

  /**
   * A failure detected here: close the socket at once with the error's code (4000, 4003,
   * 4004, …) without waiting for the closing handshake, then report it.
   */
  #abort(link: Link, error: LifelineError): void {
    if (!this.#isCurrent(link)) return;
    const code = error.closeCode ?? CloseCode.NORMAL;
    const reason = (CLOSE_REASON as Readonly<Record<number, string | undefined>>)[code] ?? '';
    link.transport?.close(code, reason);
    this.#lost(link, error);
  }

  // ------------------------------------------------------------------ losing it

  /**
   * THE reconnect decision. Socket close and error, heartbeat and connect timeouts, the
   * gateway's `close` frame, `offline`, a failed token function: all end up here.
   */
  #lost(link: Link, error: LifelineError, retryAfterMs?: number): void {
    if (!this.#isCurrent(link)) return;
    const switched = this.#countFailure(link);
    const verdict = decide(
      { error, retryAfterMs, wasOpen: link.session !== null, attempt: link.attempt },
      this.#policy,
    );
    if (verdict.kind === 'fatal') {
      const code = error.closeCode ?? CloseCode.ABNORMAL;
      this.#transition({ kind: 'closed', reason: { initiator: 'server', code, error } });
      return;
    }
    if (verdict.kind === 'exhausted') {
      const failed = failure.gaveUp(this.#options.maxReconnectAttempts, error);
      this.#transition({ kind: 'failed', error: failed });
      return;
    }
    // Falling back is a change of route, not a retry of the same one: no wait.
    const retryAt = this.#options.clock.now() + (switched ? 0 : verdict.delayMs);
    const { attempt } = verdict;
    if (!this.#transition({ kind: 'reconnecting', attempt, retryAt, lastError: error })) return;
    const scope = this.#cell.scope;
    scope.setDeadline(() => this.#attempt(attempt), retryAt);
    // Coming back online ends the wait at once; nothing else is reset.
    const network = this.#options.network;
    if (network !== undefined) scope.listen(network, 'online', () => this.#attempt(attempt));
  }

  /** A WebSocket attempt that did not reach `welcome` failed; true when the client now falls back. */
  #countFailure(link: Link): boolean {
    if (link.session !== null || link.transport?.kind === 'polling') return false;
    if (this.#kind === 'polling') return canFallBack(this.#fallback);
    if (!canFallBack(this.#fallback)) return false;
    this.#socketFailures++;
    if (this.#socketFailures < this.#fallback.afterFailures) return false;
    this.#fallBack();
    return true;
  }
}
