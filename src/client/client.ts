/**
 * `createClient()`: the connection engine. This file only orchestrates; each concern lives
 * in its own module (state, heartbeat, reconnect policy, transport policy and WebSocket
 * probes, outbox, subscriptions, delivery of pushes — positions, gap repair, resync,
 * batching, acks — persisted positions, transports, the wire codec).
 *
 * Two rules hold the design together:
 * - Every state change goes through `transition_()`, which releases what the old state
 *   owned (timers, listeners, the socket unless the next state is `open`).
 * - Every way a connection can end reports to `lost_()`, the only place that decides
 *   between reconnecting, closing for good and giving up.
 */
import {
  CloseCode,
  MAX_TOKEN_LENGTH,
  PROTOCOL_VERSION,
  errorFromClose,
  ProtocolError,
  type LifelineError,
  type PublishTarget,
  type ServerFrame,
  type WelcomeFrame,
} from '../protocol/index.js';
import { DEV, Scope, type Clock, type PageEvent } from '../env/index.js';
import { deferred, type Deferred } from './deferred.js';
import { Delivery } from './delivery.js';
import { Emitter } from './emitter.js';
import { probeWhileOpen, type Probe } from './fallback-probe.js';
import { TransportPolicy } from './fallback.js';
import * as failure from './failures.js';
import { Heartbeat } from './heartbeat.js';
import { pageAction } from './lifecycle.js';
import { createLink, type Link } from './link.js';
import {
  callTimeoutMs,
  resolveOptions,
  type ClientOptions,
  type ResolvedOptions,
} from './options.js';
import { DEFAULT_MAX_FRAME_BYTES, helloText } from './outbound.js';
import { PersistedPositions } from './persisted.js';
import { decide } from './reconnect.js';
import { Outbox, idSource, type OutboxFrame } from './outbox.js';
import { StateCell } from './state-cell.js';
import { isTerminal, terminalError, type ConnectionState, type SessionInfo } from './state.js';
import { Subscriptions, type Subscription } from './subscriptions.js';
import { pollingTransport } from './transports/polling.js';
import type { TransportFactory, TransportHandlers, TransportKind } from './transports/transport.js';
import { webSocketTransport } from './transports/websocket.js';
import type {
  ClientEvents,
  LifelineClient,
  PublishReceipt,
  RequestOptions,
  SendOptions,
  SendResult,
} from './types.js';
import { decodeServerFrame, encodeClientFrame, isPublishTarget } from './wire.js';

/** Create a client. Validates `options` (throws `InvalidOptionError`, `UnsupportedError`). */
export function createClient(options: ClientOptions): LifelineClient {
  return new Client(resolveOptions(options));
}

class Client implements LifelineClient {
  private readonly options_: ResolvedOptions;
  /** `options_.clock`, read for every inbound frame. */
  private readonly clock_: Clock;
  private readonly factories_: Partial<Record<TransportKind, TransportFactory>> = {};
  private readonly transport_: TransportPolicy;
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
  /** Stops the page lifecycle listener; set while the client is not idle or terminal. */
  private unwatchPage_: (() => void) | null = null;
  /** A probe sent its `hello`: the gateway may replace the polling session with it. */
  private probing_ = false;
  /**
   * The polling link the gateway closed with 4102 for the probe's session (same device),
   * and that close: the probe decides what follows (promotion, or a reconnect).
   */
  private replaced_: { readonly link: Link; readonly error: LifelineError } | null = null;

  constructor(options: ResolvedOptions) {
    this.options_ = options;
    const { storage, clock, random } = options;
    this.clock_ = clock;
    if (options.WebSocket !== undefined)
      this.factories_.websocket = webSocketTransport(options.WebSocket);
    if (options.request !== undefined) this.factories_.polling = pollingTransport(options.request);
    this.transport_ = new TransportPolicy(options);
    this.scope_ = new Scope(clock);
    this.cell_ = new StateCell(this.scope_, (change) => this.events_.emit('state', change));
    const nextId = idSource(random);
    const report = (error: LifelineError): void => this.events_.emit('error', error);
    this.outbox_ = new Outbox(this.scope_, { ...options.outbox, nextId });
    const delivery = new Delivery(this.scope_, this.events_, options, nextId);
    this.delivery_ = delivery;
    this.subscriptions_ = new Subscriptions(this.scope_, {
      nextId,
      positionOf: (stream) => delivery.received.of(stream),
      started: (position) => delivery.restore([position]),
      report,
      timeoutMs: options.requestTimeoutMs,
    });
    this.persisted_ =
      storage === undefined
        ? null
        : new PersistedPositions(this.scope_.child(), {
            storage,
            key: options.storageKey,
            saveDelayMs: options.storageSaveDelayMs,
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
    if (state.kind === 'suspended') this.attempt_(0);
    else if (state.kind === 'idle' || isTerminal(state)) this.begin_();
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

  request(
    data: unknown,
    options: RequestOptions = {},
    frame?: (id: string, data: unknown) => OutboxFrame,
  ): Promise<unknown> {
    const state = this.cell_.current;
    if (isTerminal(state)) return Promise.reject(terminalError(state));
    return new Promise((resolve, reject) => {
      try {
        const timeoutMs = callTimeoutMs(options.timeoutMs, this.options_.requestTimeoutMs);
        this.outbox_.add(data, { resolve, reject }, timeoutMs, frame, options.id);
      } catch (error) {
        reject(error);
      }
    });
  }

  publish(to: PublishTarget, data: unknown, options: RequestOptions = {}): Promise<PublishReceipt> {
    if (!isPublishTarget(to))
      return Promise.reject(
        new ProtocolError(DEV ? 'publish.to must be { user } or { channel }' : 'publish.to'),
      );
    const target = 'user' in to ? { user: to.user } : { channel: to.channel };
    return this.request(data, options, (id, body) => ({
      type: 'publish',
      id,
      to: target,
      data: body,
    })) as Promise<PublishReceipt>;
  }

  send(data: unknown, options: SendOptions = {}): SendResult {
    const state = this.cell_.current;
    if (isTerminal(state)) throw terminalError(state);
    const delivered = deferred();
    // Callers may ignore `delivered`; its rejection must not surface as unhandled.
    delivered.promise.catch(() => {});
    const { id, sent } = this.outbox_.add(
      data,
      { resolve: () => delivered.resolve(), reject: delivered.reject },
      undefined,
      undefined,
      options.id,
    );
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
    const terminal = isTerminal(to);
    const ready = to.kind === 'open' || terminal ? this.ready_ : null;
    if (ready !== null) this.ready_ = null;
    if (terminal) {
      this.unwatchPage_?.();
      this.unwatchPage_ = null;
      // Messages already received reach the application even when the client ends.
      this.delivery_.flush();
      this.outbox_.rejectAll(terminalError(to));
    }
    const current = this.cell_.transition(to);
    if (ready !== null) {
      if (terminal) ready.reject(terminalError(to));
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

  // ------------------------------------------------------------------ page lifecycle

  /** The page reports; only coming back from the back/forward cache reconnects by itself. */
  private paged_(event: PageEvent): void {
    const action = pageAction(event, this.cell_.current, this.options_.clock.now());
    if (action === 'check') this.checkLiveness();
    else if (typeof action === 'number') this.attempt_(action);
    else if (action === 'suspend') {
      // Close cleanly (1000) with acks sent and positions saved; the outbox and the
      // subscriptions wait for `pageshow`.
      this.delivery_.flush();
      this.transition_({ kind: 'suspended' });
    }
  }

  // ------------------------------------------------------------------ connecting

  /** The first attempt, once the remembered transport outcome (if any) was read. */
  private begin_(): void {
    const recalling = this.transport_.recall();
    if (recalling === undefined) return this.attempt_(0);
    void recalling.then(() => {
      // Still wanted: connect() is pending and nothing else started an attempt.
      if (this.ready_ !== null && this.link_ === null && !isTerminal(this.cell_.current))
        this.attempt_(0);
    });
  }

  private attempt_(attempt: number): void {
    const kind = this.transport_.transport;
    if (!this.transition_({ kind: 'connecting', attempt, transport: kind })) return;
    const { page, connectTimeoutMs, network } = this.options_;
    if (page !== undefined && this.unwatchPage_ === null)
      this.unwatchPage_ = page.subscribe((event) => this.paged_(event));
    const link = createLink(++this.generation_, attempt, kind, this.scope_.child());
    this.link_ = link;
    // The token counts against the timeout too: a hung token provider must not stall us.
    const timers = this.cell_.scope;
    timers.setTimeout(
      () => this.abort_(link, failure.connectTimedOut(connectTimeoutMs)),
      connectTimeoutMs,
    );
    if (network !== undefined)
      link.scope.listen(network, 'offline', () => this.abort_(link, failure.wentOffline()));
    // A socket that is not open in time (a proxy that swallows frames) counts as failed
    // and sends the client to polling at once.
    const fallbackMs = this.transport_.attemptTimeoutMs;
    if (fallbackMs !== undefined)
      timers.setTimeout(() => {
        this.transport_.timedOut();
        this.abort_(link, failure.connectTimedOut(fallbackMs));
      }, fallbackMs);
    const restoring = this.restore_();
    if (restoring === null) void this.authorize_(link);
    else
      void restoring.then(() => {
        if (this.isCurrent_(link)) void this.authorize_(link);
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

  private async authorize_(link: Link): Promise<void> {
    const source = this.options_.token;
    let token: unknown = source;
    if (typeof source === 'function') {
      try {
        token = await source();
      } catch (cause) {
        return this.lost_(link, failure.tokenFailed(cause));
      }
      if (!this.isCurrent_(link)) return;
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH)
        return this.lost_(link, failure.tokenFailed());
    }
    this.openLink_(link, token as string | undefined);
  }

  private openLink_(link: Link, token: string | undefined): void {
    const open = this.factories_[link.kind];
    try {
      if (open === undefined) throw new Error(link.kind);
      const transport = open(
        this.options_.url,
        this.handlers_(link, () => this.hello_(link, token)),
      );
      link.transport = transport;
      link.scope.add(() =>
        transport.close(CloseCode.NORMAL, failure.closeReason(CloseCode.NORMAL)),
      );
    } catch (cause) {
      this.lost_(link, failure.socketNotCreated(cause));
    }
  }

  /** What a transport (or a promoted probe) reports about `link`. */
  private handlers_(link: Link, opened: () => void): TransportHandlers {
    return {
      opened,
      received: (text) => this.received_(link, text),
      malformed: (detail) => this.abort_(link, failure.protocolViolation(detail)),
      closed: (code, reason) => this.lost_(link, errorFromClose(code, reason)),
    };
  }

  private helloText_(token: string | undefined): string | undefined {
    return helloText({
      token,
      device: this.options_.device,
      resume: this.delivery_.received.latest(),
      maxFrameBytes: this.maxFrameBytes_,
    });
  }

  private hello_(link: Link, token: string | undefined): void {
    if (!this.isCurrent_(link)) return;
    const text = this.helloText_(token);
    if (text === undefined) this.abort_(link, failure.helloTooLarge(this.maxFrameBytes_));
    else this.send_(link, text);
  }

  // ------------------------------------------------------------------ WebSocket probes

  /**
   * Switch the open session from polling to the probe's WebSocket session: positions
   * carry over (the probe resumed from them), frames the probe received are handed over
   * after the switch, and de-duplication drops what polling already delivered.
   */
  private promote_(probe: Probe): void {
    const { transport, welcome } = probe;
    if (this.cell_.current.kind !== 'open' || transport === null || welcome === null) {
      probe.scope.dispose();
      return;
    }
    this.dropLink_(); // closes the polling session (DELETE)
    const link = createLink(++this.generation_, 0, 'websocket', probe.scope);
    link.transport = transport;
    this.link_ = link;
    probe.promoted = this.handlers_(link, () => {});
    link.scope.add(() => transport.close(CloseCode.NORMAL, failure.closeReason(CloseCode.NORMAL)));
    this.transport_.promoted();
    this.frame_(link, welcome);
    for (const text of probe.buffered) this.received_(link, text);
  }

  // ------------------------------------------------------------------ open session

  private received_(link: Link, text: string): void {
    if (!this.isCurrent_(link)) return;
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(text);
    } catch (cause) {
      this.abort_(
        link,
        failure.protocolViolation(DEV ? 'the gateway sent a malformed frame' : 'frame', cause),
      );
      return;
    }
    this.frame_(link, frame);
  }

  private frame_(link: Link, frame: ServerFrame): void {
    // Proof of life, read by the heartbeat when it next looks.
    link.frames++;
    link.lastAt = this.clock_.now();
    // Pushes first: nearly every frame is one.
    if (frame.type === 'push' && link.session !== null) {
      this.delivery_.push(frame);
    } else if (frame.type === 'close') {
      this.lost_(link, errorFromClose(frame.code, frame.reason), frame.retryAfterMs);
    } else if (frame.type === 'welcome') {
      if (link.session !== null)
        this.abort_(link, failure.protocolViolation(DEV ? 'a second welcome' : 'welcome'));
      else if (frame.protocol !== PROTOCOL_VERSION)
        this.abort_(
          link,
          failure.protocolViolation(DEV ? `welcome for protocol ${frame.protocol}` : 'protocol'),
        );
      else this.welcomed_(link, frame);
    } else if (link.session === null) {
      this.abort_(
        link,
        failure.protocolViolation(DEV ? `a ${frame.type} frame before welcome` : frame.type),
      );
    } else if (frame.type === 'resync') {
      this.delivery_.resync(frame);
    } else if (frame.type === 'reply') {
      // A reply nobody waits for (its request timed out) is dropped.
      if (!this.outbox_.settle(frame) && !this.subscriptions_.settle(frame))
        this.delivery_.settle(frame);
    }
  }

  private welcomed_(link: Link, frame: WelcomeFrame): void {
    const { session: id, user, serverTime, pingIntervalMs: gatewayPingMs } = frame;
    const { idleTimeoutMs, maxFrameBytes } = frame;
    const session: SessionInfo = {
      id,
      user,
      serverTime,
      pingIntervalMs: gatewayPingMs,
      idleTimeoutMs,
      maxFrameBytes,
    };
    link.session = session;
    this.maxFrameBytes_ = maxFrameBytes;
    // Where the gateway started this session on streams the client had no position for.
    if (frame.positions !== undefined) this.delivery_.restore(frame.positions);
    const kind = link.kind;
    this.transport_.opened(kind);
    if (!this.transition_({ kind: 'open', session, transport: kind })) return;
    const scope = this.cell_.scope;
    const { pingIntervalMs, pongTimeoutMs, network, url, token, fallbackAfterMs } = this.options_;
    const open = this.factories_.websocket;
    if (kind === 'polling' && open !== undefined)
      probeWhileOpen(
        scope,
        this.scope_,
        this.transport_,
        { open, url, token, timeoutMs: fallbackAfterMs },
        {
          hello: (t) => {
            const text = this.helloText_(t);
            this.probing_ = text !== undefined;
            return text;
          },
          succeeded: (p) => {
            this.probing_ = false;
            this.replaced_ = null;
            this.promote_(p);
          },
          failed: () => {
            this.probing_ = false;
            const replaced = this.replaced_;
            this.replaced_ = null;
            // The session the probe replaced is gone too: reconnect and resume.
            if (replaced !== null)
              this.lost_(replaced.link, errorFromClose(CloseCode.ABNORMAL, ''));
          },
        },
      );
    const heartbeat = new Heartbeat(
      scope,
      {
        intervalMs: gatewayPingMs > 0 ? Math.min(pingIntervalMs, gatewayPingMs) : pingIntervalMs,
        pongTimeoutMs,
      },
      link,
      {
        ping: (t) => this.send_(link, encodeClientFrame({ type: 'ping', t })),
        dead: () => this.abort_(link, failure.heartbeatLost(pongTimeoutMs)),
      },
    );
    link.heartbeat = heartbeat;
    // The network came back: the route may have changed under an open socket.
    if (network !== undefined) scope.listen(network, 'online', () => heartbeat.check());
    const send = (text: string): boolean => this.send_(link, text);
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
    link.transport?.close(code, failure.closeReason(code));
    this.lost_(link, error);
  }

  // ------------------------------------------------------------------ losing it

  /**
   * THE reconnect decision. Socket close and error, heartbeat and connect timeouts, the
   * gateway's `close` frame, `offline`, a failed token function: all end up here.
   */
  private lost_(link: Link, error: LifelineError, retryAfterMs?: number): void {
    if (!this.isCurrent_(link) || this.replaced_?.link === link) return;
    if (link.kind === 'polling' && this.probing_ && error.closeCode === CloseCode.REPLACED) {
      // The gateway replaced the polling session with this client's own probe (the same
      // device, `newest-wins`): not a fatal 4102, the probe is about to take over.
      this.replaced_ = { link, error };
      return;
    }
    const wasOpen = link.session !== null;
    // A WebSocket attempt that did not reach `welcome` may send the client to polling.
    const switched = !wasOpen && this.transport_.failed(link.kind);
    const verdict = decide({ error, retryAfterMs, wasOpen, attempt: link.attempt }, this.options_);
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
}
