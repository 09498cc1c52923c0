/**
 * `createClient()`: the connection engine. This file only orchestrates; each concern lives
 * in its own module (state, heartbeat, reconnect policy, outbox, subscriptions, delivery
 * of pushes — positions, gap repair, resync, batching, acks — persisted positions,
 * transports).
 *
 * Two rules hold the design together:
 * - Every state change goes through `transition_()`, which releases what the old state
 *   owned (timers, listeners, the socket unless the next state is `open`).
 * - Every way a connection can end reports to `lost_()`, the only place that decides
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
  type PublishTarget,
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
import { Outbox, idSource, type OutboxFrame } from './outbox.js';
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
import type {
  ClientEvents,
  LifelineClient,
  PublishReceipt,
  RequestOptions,
  SendResult,
} from './types.js';

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
  private readonly options_: ResolvedOptions;
  private readonly policy_: ReconnectPolicy;
  private readonly factories_: Partial<Record<TransportKind, TransportFactory>> = {};
  /** The transport the next connection attempt uses. */
  private kind_: TransportKind;
  private readonly fallback_: FallbackPolicy;
  private readonly memory_: TransportMemory | null;
  /** The remembered outcome was read (once, before the first attempt). */
  private recalled_ = false;
  /** Consecutive WebSocket attempts that did not reach `welcome`. */
  private socketFailures_ = 0;
  /** Consecutive failed WebSocket probes while on polling. */
  private probeFailures_ = 0;
  private readonly scope_: Scope;
  private readonly events_ = new Emitter<ClientEvents>();
  private readonly cell_: StateCell;
  private readonly delivery_: Delivery;
  private readonly persisted_: PersistedPositions | null;
  /** Stored positions being read before the first `hello`; null before and after. */
  private restoring_: Promise<void> | null = null;
  private restored_ = false;
  private readonly outbox_: Outbox;
  private readonly subscriptions_: Subscriptions;
  private link_: Link | null = null;
  // Bumped whenever a link is created or dropped; a callback whose link carries an older
  // number belongs to a connection that is gone.
  private generation_ = 0;
  private ready_: Deferred | null = null;
  private maxFrameBytes_ = DEFAULT_MAX_FRAME_BYTES;

  constructor(options: ResolvedOptions) {
    this.options_ = options;
    this.policy_ = {
      minDelayMs: options.minReconnectDelayMs,
      maxDelayMs: options.maxReconnectDelayMs,
      maxAttempts: options.maxReconnectAttempts,
      random: options.random,
      refreshableToken: typeof options.token === 'function',
    };
    if (options.WebSocket !== undefined)
      this.factories_.websocket = webSocketTransport(options.WebSocket);
    if (options.request !== undefined) this.factories_.polling = pollingTransport(options.request);
    this.fallback_ = {
      transports: options.transports,
      mode: options.fallback,
      afterFailures: options.fallbackAfterFailures,
    };
    this.kind_ = initialTransport(this.fallback_, false);
    this.memory_ =
      options.storage === undefined ||
      options.transportMemoryMs === 0 ||
      !canFallBack(this.fallback_)
        ? null
        : new TransportMemory(
            options.storage,
            `${TRANSPORT_MEMORY_KEY_PREFIX}${options.url}`,
            options.transportMemoryMs,
            () => options.clock.now(),
          );
    this.scope_ = new Scope(options.clock);
    this.cell_ = new StateCell(this.scope_, (change) => this.events_.emit('state', change));
    const nextId = idSource(options.random);
    const report = (error: LifelineError): void => this.events_.emit('error', error);
    this.outbox_ = new Outbox(this.scope_, { ...options.outbox, nextId });
    const delivery = new Delivery(this.scope_, this.events_, {
      batch: options.batch,
      ackDelayMs: options.ackDelayMs,
      channelAckDelayMs: options.channelAckDelayMs,
      repairTimeoutMs: options.requestTimeoutMs,
      nextId,
    });
    this.delivery_ = delivery;
    this.subscriptions_ = new Subscriptions(this.scope_, {
      nextId,
      positionOf: (stream) => delivery.received.of(stream),
      started: (position) => delivery.restore([position]),
      report,
      timeoutMs: options.requestTimeoutMs,
    });
    const { storage, storageKey, storageSaveDelayMs } = options;
    this.persisted_ =
      storage === undefined
        ? null
        : new PersistedPositions(this.scope_.child(), {
            storage,
            key: storageKey,
            saveDelayMs: storageSaveDelayMs,
            snapshot: () => delivery.delivered.latest(),
            report,
          });
    if (this.persisted_ !== null) delivery.persistWith(this.persisted_);
  }

  get state(): ConnectionState {
    return this.cell_.current;
  }

  connect(): Promise<void> {
    const state = this.cell_.current;
    if (state.kind === 'open') return Promise.resolve();
    const ready = (this.ready_ ??= deferred());
    if (state.kind === 'idle' || isTerminal(state)) this.begin_();
    return ready.promise;
  }

  async close(): Promise<void> {
    if (isTerminal(this.cell_.current)) return;
    // Hand over the pending batch and tell the gateway what was delivered before going;
    // resume would cover it otherwise.
    this.delivery_.flush();
    this.transition_({ kind: 'closed', reason: { initiator: 'client' } });
  }

  reconnect(): void {
    this.attempt_(0);
  }

  checkLiveness(): void {
    this.link_?.heartbeat?.check();
  }

  on<K extends keyof ClientEvents>(
    event: K,
    listener: (payload: ClientEvents[K]) => void,
  ): () => void {
    return this.events_.on(event, listener);
  }

  request(data: unknown, options: RequestOptions = {}): Promise<unknown> {
    return this.request_(data, options);
  }

  private request_(
    data: unknown,
    options: RequestOptions,
    frame?: (id: string, data: unknown) => OutboxFrame,
  ): Promise<unknown> {
    const state = this.cell_.current;
    if (isTerminal(state)) return Promise.reject(terminalError(state));
    const timeoutMs = options.timeoutMs ?? this.options_.requestTimeoutMs;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      return Promise.reject(new InvalidOptionError('timeoutMs must be a finite number > 0'));
    return new Promise((resolve, reject) => {
      try {
        this.outbox_.add(data, { resolve, reject }, timeoutMs, frame);
      } catch (error) {
        reject(error);
      }
    });
  }

  publish(to: PublishTarget, data: unknown, options: RequestOptions = {}): Promise<PublishReceipt> {
    const build = (id: string, body: unknown): OutboxFrame => ({
      type: 'publish',
      id,
      to,
      data: body,
    });
    return this.request_(data, options, build) as Promise<PublishReceipt>;
  }

  send(data: unknown): SendResult {
    const state = this.cell_.current;
    if (isTerminal(state)) throw terminalError(state);
    const delivered = deferred();
    // Callers may ignore `delivered`; its rejection must not surface as unhandled.
    delivered.promise.catch(() => {});
    const { id, sent } = this.outbox_.add(data, {
      resolve: () => delivered.resolve(),
      reject: delivered.reject,
    });
    return { status: sent ? 'sent' : 'queued', id, delivered: delivered.promise };
  }

  subscribe(channel: string): Subscription {
    return this.subscriptions_.add(channel);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------------ state

  /** The only place the state changes. Returns false when a listener already moved on. */
  private transition_(to: ConnectionState): boolean {
    if (to.kind !== 'open') this.dropLink_();
    const ready = to.kind === 'open' || isTerminal(to) ? this.ready_ : null;
    if (ready !== null) this.ready_ = null;
    if (isTerminal(to)) {
      // Messages already received reach the application even when the client ends.
      this.delivery_.flush();
      this.outbox_.rejectAll(terminalError(to));
    }
    const current = this.cell_.transition(to);
    if (ready !== null) {
      if (isTerminal(to)) ready.reject(terminalError(to));
      else ready.resolve();
    }
    return current;
  }

  private dropLink_(): void {
    const link = this.link_;
    if (link === null) return;
    this.link_ = null;
    this.generation_++;
    this.outbox_.detach();
    this.subscriptions_.detach();
    this.delivery_.detach();
    // Closes the socket and detaches its listeners before any new one can exist.
    link.scope.dispose();
  }

  private isCurrent_(link: Link): boolean {
    return link.generation === this.generation_ && this.link_ === link;
  }

  // ------------------------------------------------------------------ connecting

  /** The first attempt, once the remembered transport outcome (if any) was read. */
  private begin_(): void {
    const memory = this.memory_;
    if (memory === null || this.recalled_) return this.attempt_(0);
    this.recalled_ = true;
    const recalled = memory.recall();
    const apply = (failing: boolean): void => {
      if (failing) this.kind_ = initialTransport(this.fallback_, true);
    };
    if (typeof recalled === 'boolean') {
      apply(recalled);
      return this.attempt_(0);
    }
    void recalled.then((failing) => {
      apply(failing);
      // Still wanted: connect() is pending and nothing else started an attempt.
      if (this.ready_ !== null && this.link_ === null && !isTerminal(this.cell_.current))
        this.attempt_(0);
    });
  }

  private attempt_(attempt: number): void {
    if (!this.transition_({ kind: 'connecting', attempt, transport: this.kind_ })) return;
    const link = createLink(++this.generation_, attempt, this.scope_.child());
    this.link_ = link;
    // The token counts against the timeout too: a hung token provider must not stall us.
    const { connectTimeoutMs, network } = this.options_;
    this.cell_.scope.setTimeout(
      () => this.abort_(link, failure.connectTimedOut(connectTimeoutMs)),
      connectTimeoutMs,
    );
    if (network !== undefined) {
      link.scope.listen(network, 'offline', () => this.abort_(link, failure.wentOffline()));
    }
    if (this.kind_ === 'websocket' && canFallBack(this.fallback_)) {
      // A socket that is not open in time (a proxy that swallows frames) counts as failed
      // and sends the client to polling at once.
      const { fallbackAfterMs } = this.options_;
      this.cell_.scope.setTimeout(() => {
        this.fallBack_();
        this.abort_(link, failure.connectTimedOut(fallbackAfterMs));
      }, fallbackAfterMs);
    }
    const restoring = this.restore_();
    if (restoring === null) this.authorize_(link);
    else
      void restoring.then(() => {
        if (this.isCurrent_(link)) this.authorize_(link);
      });
  }

  /** Read stored positions once, before the first `hello`; null when there is nothing to wait for. */
  private restore_(): Promise<void> | null {
    const persisted = this.persisted_;
    if (persisted === null || this.restored_) return null;
    this.restoring_ ??= persisted.load().then((positions) => {
      this.restored_ = true;
      this.restoring_ = null;
      this.delivery_.restore(positions);
    });
    return this.restoring_;
  }

  private authorize_(link: Link): void {
    const token = this.options_.token;
    if (typeof token === 'function') void this.fetchToken_(link, token);
    else this.openLink_(link, token);
  }

  private async fetchToken_(link: Link, provide: () => string | Promise<string>): Promise<void> {
    let token: unknown;
    try {
      token = await provide();
    } catch (cause) {
      this.lost_(link, failure.tokenFailed(cause));
      return;
    }
    if (!this.isCurrent_(link)) return;
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
      this.lost_(link, failure.tokenFailed());
      return;
    }
    this.openLink_(link, token);
  }

  private openLink_(link: Link, token: string | undefined): void {
    let transport: Transport;
    const open = this.factories_[this.kind_];
    try {
      if (open === undefined) throw new Error(`no ${this.kind_} transport`);
      transport = open(this.options_.url, {
        opened: () => this.hello_(link, token),
        received: (text) => this.received_(link, text),
        malformed: (detail) => this.abort_(link, failure.protocolViolation(detail)),
        closed: (code, reason) => this.lost_(link, errorFromClose(code, reason)),
      });
    } catch (cause) {
      this.lost_(link, failure.socketNotCreated(cause));
      return;
    }
    link.transport = transport;
    link.scope.add(() => transport.close(CloseCode.NORMAL, CLOSE_REASON[CloseCode.NORMAL]));
  }

  // ------------------------------------------------------------------ fallback

  /** Carry on over polling: WebSocket does not get through. */
  private fallBack_(): void {
    if (this.kind_ === 'polling' || !canFallBack(this.fallback_)) return;
    this.kind_ = 'polling';
    this.probeFailures_ = 0;
    this.memory_?.remember(true);
  }

  /** While open on polling: try WebSocket again after a delay that doubles per failed probe. */
  private scheduleProbe_(): void {
    const { probeIntervalMs, maxProbeIntervalMs } = this.options_;
    const first = this.fallback_.mode === 'immediate' && this.probeFailures_ === 0;
    const delayMs = first
      ? 0
      : Math.min(maxProbeIntervalMs, probeIntervalMs * 2 ** Math.min(this.probeFailures_, 30));
    this.cell_.scope.setTimeout(() => this.probe_(), delayMs);
  }

  private probe_(): void {
    const open = this.factories_.websocket;
    const state = this.cell_.current;
    if (open === undefined || state.kind !== 'open' || state.transport !== 'polling') return;
    let token: string | undefined;
    const probe = new Probe(
      this.scope_.child(),
      {
        hello: () =>
          helloText({
            token,
            device: this.options_.device,
            resume: this.delivery_.received.latest(),
            maxFrameBytes: this.maxFrameBytes_,
          }),
        succeeded: (p) => this.promote_(p),
        failed: () => {
          this.probeFailures_++;
          this.scheduleProbe_();
        },
      },
      this.options_.fallbackAfterMs,
    );
    // The probe lives as long as the polling session, unless it replaces it.
    this.cell_.scope.add(() => {
      if (probe.promoted === null) probe.scope.dispose();
    });
    const source = this.options_.token;
    if (typeof source !== 'function') {
      token = source;
      return probe.start(open, this.options_.url);
    }
    void (async () => {
      try {
        const value = await source();
        if (typeof value !== 'string') return probe.fail();
        token = value;
      } catch {
        return probe.fail();
      }
      probe.start(open, this.options_.url);
    })();
  }

  /**
   * Switch the open session from polling to the probe's WebSocket session: positions
   * carry over (the probe resumed from them), frames the probe received are handed over
   * after the switch, and de-duplication drops what polling already delivered.
   */
  private promote_(probe: Probe): void {
    const state = this.cell_.current;
    const transport = probe.transport;
    const welcome = probe.welcome;
    if (state.kind !== 'open' || transport === null || welcome === null) {
      probe.scope.dispose();
      return;
    }
    this.dropLink_(); // closes the polling session (DELETE)
    const link = createLink(++this.generation_, 0, probe.scope);
    link.transport = transport;
    this.link_ = link;
    probe.promoted = (event: ProbeEvent) => {
      if (event.kind === 'received') this.received_(link, event.text);
      else if (event.kind === 'malformed')
        this.abort_(link, failure.protocolViolation(event.detail));
      else if (event.kind === 'closed') this.lost_(link, errorFromClose(event.code, event.reason));
    };
    link.scope.add(() => transport.close(CloseCode.NORMAL, CLOSE_REASON[CloseCode.NORMAL]));
    this.kind_ = 'websocket';
    this.probeFailures_ = 0;
    this.socketFailures_ = 1; // so that `welcome` clears the remembered failure
    this.received_(link, encodeServerFrame(welcome));
    for (const text of probe.buffered) this.received_(link, text);
  }

  private hello_(link: Link, token: string | undefined): void {
    if (!this.isCurrent_(link)) return;
    const text = helloText({
      token,
      device: this.options_.device,
      resume: this.delivery_.received.latest(),
      maxFrameBytes: this.maxFrameBytes_,
    });
    if (text === undefined) this.abort_(link, failure.helloTooLarge(this.maxFrameBytes_));
    else this.send_(link, text);
  }

  // ------------------------------------------------------------------ open session

  private received_(link: Link, text: string): void {
    if (!this.isCurrent_(link)) return;
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(text);
    } catch (cause) {
      this.abort_(link, failure.protocolViolation('the gateway sent a malformed frame', cause));
      return;
    }
    link.heartbeat?.activity();
    if (frame.type === 'close') {
      this.lost_(link, errorFromClose(frame.code, frame.reason), frame.retryAfterMs);
    } else if (frame.type === 'welcome') {
      if (link.session !== null) this.abort_(link, failure.protocolViolation('a second welcome'));
      else if (frame.protocol !== PROTOCOL_VERSION)
        this.abort_(link, failure.protocolViolation(`welcome for protocol ${frame.protocol}`));
      else this.welcomed_(link, frame);
    } else if (link.session === null) {
      this.abort_(link, failure.protocolViolation(`a ${frame.type} frame before welcome`));
    } else if (frame.type === 'push') {
      this.delivery_.push(frame);
    } else if (frame.type === 'resync') {
      this.delivery_.resync(frame);
    } else if (frame.type === 'reply') {
      // A reply nobody waits for (its request timed out) is dropped.
      if (!this.outbox_.settle(frame) && !this.subscriptions_.settle(frame))
        this.delivery_.settle(frame);
    }
  }

  private welcomed_(link: Link, frame: WelcomeFrame): void {
    const session: SessionInfo = {
      id: frame.session,
      user: frame.user,
      serverTime: frame.serverTime,
      pingIntervalMs: frame.pingIntervalMs,
      idleTimeoutMs: frame.idleTimeoutMs,
      maxFrameBytes: frame.maxFrameBytes,
    };
    link.session = session;
    this.maxFrameBytes_ = frame.maxFrameBytes;
    // Where the gateway started this session on streams the client had no position for.
    if (frame.positions !== undefined) this.delivery_.restore(frame.positions);
    const kind = link.transport?.kind ?? this.kind_;
    if (kind === 'websocket' && this.socketFailures_ > 0) {
      this.socketFailures_ = 0;
      this.memory_?.remember(false);
    }
    if (!this.transition_({ kind: 'open', session, transport: kind })) return;
    if (kind === 'polling' && canFallBack(this.fallback_)) this.scheduleProbe_();
    const scope = this.cell_.scope;
    const { pingIntervalMs, pongTimeoutMs } = this.options_;
    const intervalMs =
      frame.pingIntervalMs > 0 ? Math.min(pingIntervalMs, frame.pingIntervalMs) : pingIntervalMs;
    link.heartbeat = new Heartbeat(
      scope,
      { intervalMs, pongTimeoutMs },
      {
        ping: (t) => this.send_(link, encodeClientFrame({ type: 'ping', t })),
        dead: () => this.abort_(link, failure.heartbeatLost(pongTimeoutMs)),
      },
    );
    const send = (text: string): boolean => this.send_(link, text);
    const { maxFrameBytes } = session;
    this.subscriptions_.attach({ send });
    if (this.isCurrent_(link)) this.outbox_.attach({ send, maxFrameBytes });
    if (this.isCurrent_(link))
      this.delivery_.attach(scope, {
        send,
        broken: (error) => this.abort_(link, error),
        maxFrameBytes,
      });
  }

  private send_(link: Link, text: string): boolean {
    if (!this.isCurrent_(link) || link.transport === null) return false;
    try {
      link.transport.send(text);
      return true;
    } catch (cause) {
      this.abort_(link, failure.sendFailed(cause));
      return false;
    }
  }

  /**
   * A failure detected here: close the socket at once with the error's code (4000, 4003,
   * 4004, …) without waiting for the closing handshake, then report it.
   */
  private abort_(link: Link, error: LifelineError): void {
    if (!this.isCurrent_(link)) return;
    const code = error.closeCode ?? CloseCode.NORMAL;
    const reason = (CLOSE_REASON as Readonly<Record<number, string | undefined>>)[code] ?? '';
    link.transport?.close(code, reason);
    this.lost_(link, error);
  }

  // ------------------------------------------------------------------ losing it

  /**
   * THE reconnect decision. Socket close and error, heartbeat and connect timeouts, the
   * gateway's `close` frame, `offline`, a failed token function: all end up here.
   */
  private lost_(link: Link, error: LifelineError, retryAfterMs?: number): void {
    if (!this.isCurrent_(link)) return;
    const switched = this.countFailure_(link);
    const verdict = decide(
      { error, retryAfterMs, wasOpen: link.session !== null, attempt: link.attempt },
      this.policy_,
    );
    if (verdict.kind === 'fatal') {
      const code = error.closeCode ?? CloseCode.ABNORMAL;
      this.transition_({ kind: 'closed', reason: { initiator: 'server', code, error } });
      return;
    }
    if (verdict.kind === 'exhausted') {
      const failed = failure.gaveUp(this.options_.maxReconnectAttempts, error);
      this.transition_({ kind: 'failed', error: failed });
      return;
    }
    // Falling back is a change of route, not a retry of the same one: no wait.
    const retryAt = this.options_.clock.now() + (switched ? 0 : verdict.delayMs);
    const { attempt } = verdict;
    if (!this.transition_({ kind: 'reconnecting', attempt, retryAt, lastError: error })) return;
    const scope = this.cell_.scope;
    scope.setDeadline(() => this.attempt_(attempt), retryAt);
    // Coming back online ends the wait at once; nothing else is reset.
    const network = this.options_.network;
    if (network !== undefined) scope.listen(network, 'online', () => this.attempt_(attempt));
  }

  /** A WebSocket attempt that did not reach `welcome` failed; true when the client now falls back. */
  private countFailure_(link: Link): boolean {
    if (link.session !== null || link.transport?.kind === 'polling') return false;
    if (this.kind_ === 'polling') return canFallBack(this.fallback_);
    if (!canFallBack(this.fallback_)) return false;
    this.socketFailures_++;
    if (this.socketFailures_ < this.fallback_.afterFailures) return false;
    this.fallBack_();
    return true;
  }
}
