/**
 * One transport connection and the session on it: the handshake state machine, limits
 * (frame size, rate, send buffer), and the single way out, {@link Session.close}.
 *
 *   awaiting-hello ──hello──▶ authenticating ──welcome──▶ open ──▶ closed
 *          └──────────────────────┴─────────────────────────┴──────▲
 *
 * A session arms at most two timers (the handshake deadline, then the credentials' expiry)
 * in the gateway's {@link Scope} and cancels them when it closes, so a closed session never
 * runs a callback. An idle open session holds no timer, no request headers and no empty
 * collections: memory per connection is what the gateway's scale is measured in. Any unexpected error while serving the session
 * closes it with 4008 and never reaches the gateway's other sessions.
 */
import { randomUUID } from 'node:crypto';
import type { Disposer } from '../env/index.js';
import {
  CLOSE_REASON,
  EMPTY_EPOCH,
  CloseCode,
  PROTOCOL_VERSION,
  ProtocolError,
  channelStream,
  decodeClientFrame,
  encodeServerFrame,
  userStream,
  type ClientFrame,
  type HelloFrame,
  type ServerFrame,
  type StreamPosition,
} from '../protocol/index.js';
import type { SweptSession } from './heartbeat-sweep.js';
import { identityProblem } from './identity.js';
import { handleOpenFrame } from './open-frames.js';
import { TokenBucket } from './rate-limit.js';
import { CatchUp, replay } from './replay.js';
import { admit } from './session-policy.js';
import { closeWithFrame, type Profile, type SessionContext } from './session-context.js';
import {
  AuthError,
  type Connection,
  type ConnectionHandler,
  type Identity,
  type SessionInfo,
} from './types.js';

/** Frames a client may send after `hello` and before `welcome`; they run once it is open. */
export const MAX_FRAMES_BEFORE_WELCOME = 32;

type SessionState =
  | { readonly kind: 'awaiting-hello' }
  | { readonly kind: 'authenticating'; readonly queued: ClientFrame[] }
  | { readonly kind: 'open'; readonly profile: Profile }
  | { readonly kind: 'closed'; readonly profile: Profile | undefined };

export class Session implements ConnectionHandler, SweptSession {
  readonly id: string = flatUUID();
  readonly connectedAt: number;
  lastSeen: number;
  readonly context: SessionContext;
  readonly #connection: Connection;
  readonly #bucket: TokenBucket | undefined;
  /** The handshake deadline until `welcome`, then the credentials' expiry, if any. */
  #cancelTimer: Disposer | undefined;
  #state: SessionState = { kind: 'awaiting-hello' };
  /** Created on the first subscription: most sessions only ever read their inbox. */
  #channels: Set<string> | undefined;
  /** Created on the first resume: live pushes are only held while a stream replays. */
  #catchUps: Map<string, CatchUp> | undefined;
  /**
   * Subscription changes run one after another, so their effects follow frame order.
   * Starts as one promise all sessions share: most never queue anything.
   */
  #ops: Promise<void> = SETTLED;

  constructor(context: SessionContext, connection: Connection) {
    const { options } = context;
    this.context = context;
    this.#connection = connection;
    this.connectedAt = this.lastSeen = options.clock.now();
    this.#bucket =
      options.rateLimit &&
      new TokenBucket(options.rateLimit.framesPerSecond, options.rateLimit.burst, this.lastSeen);
    // The deadline covers the whole handshake, authentication included, so a hanging
    // `authenticate` hook cannot hold a connection forever.
    this.#cancelTimer = context.scope.setTimeout(
      () => this.close(CloseCode.HANDSHAKE_TIMEOUT),
      options.handshakeTimeoutMs,
    );
  }

  get isOpen(): boolean {
    return this.#state.kind === 'open';
  }

  /** The session's owner; `undefined` before the handshake completed. */
  get profile(): Profile | undefined {
    const s = this.#state;
    return s.kind === 'open' || s.kind === 'closed' ? s.profile : undefined;
  }

  /** The device this session was opened for (`hello.device`), for the session policy. */
  get device(): string | undefined {
    return this.profile?.device;
  }

  /** Channels this session subscribed to. */
  get channels(): ReadonlySet<string> {
    return this.#channels ?? NO_CHANNELS;
  }

  /** Record a subscription. False if the session already had it. */
  addChannel(channel: string): boolean {
    const channels = (this.#channels ??= new Set());
    if (channels.has(channel)) return false;
    channels.add(channel);
    return true;
  }

  /** Forget a subscription. False if the session did not have it. */
  deleteChannel(channel: string): boolean {
    return this.#channels?.delete(channel) ?? false;
  }

  /** A snapshot for hooks and the presence API. Only meaningful once open. */
  info(): SessionInfo {
    const p = this.profile;
    const { info } = this.#connection;
    return {
      id: this.id,
      userId: p?.userId ?? '',
      tenantId: p?.tenantId,
      device: p?.device,
      client: p?.client,
      connectedAt: this.connectedAt,
      transport: info.transport,
      remoteAddress: info.remoteAddress,
      claims: p?.claims ?? {},
      channels: new Set(this.channels),
    };
  }

  // ------------------------------------------------------------ ConnectionHandler

  message(text: string, bytes: number): void {
    if (this.#state.kind === 'closed') return;
    try {
      const now = this.context.options.clock.now();
      this.lastSeen = now;
      if (bytes > this.context.options.maxFrameBytes) return this.close(CloseCode.FRAME_TOO_LARGE);
      const retryAfterMs = this.#bucket?.take(now) ?? 0;
      if (retryAfterMs > 0) return this.close(CloseCode.RATE_LIMITED, retryAfterMs);
      let frame: ClientFrame;
      try {
        frame = decodeClientFrame(text);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        return this.#protocolError(error.message);
      }
      this.#dispatch(frame);
    } catch (error) {
      this.fail(error, 'unexpected error while handling a frame');
    }
  }

  binary(_bytes: number): void {
    if (this.#state.kind !== 'closed') this.#protocolError('binary message');
  }

  closed(code: number, reason: string): void {
    this.#release(code, reason);
    this.context.forget(this);
  }

  // ------------------------------------------------------------ writing

  /** Validate, serialize and write one frame. False when the session is gone. */
  send(frame: ServerFrame): boolean {
    if (this.#state.kind === 'closed') return false;
    return this.#write(encodeServerFrame(frame));
  }

  /** Write a frame that is already encoded (a remembered reply). False when the session is gone. */
  sendEncoded(text: string): boolean {
    return this.#write(text);
  }

  /** Fan-out entry: write an already serialized push, or hold it while the stream replays. */
  deliver(stream: string, epoch: string, offset: number, text: string): boolean {
    if (this.#state.kind !== 'open') return false;
    const catchUp = this.#catchUps?.get(stream);
    if (catchUp === undefined) return this.#writePush(text);
    catchUp.hold(epoch, offset, text);
    if (!this.#overBuffered()) return true;
    this.close(CloseCode.SLOW_CONSUMER);
    return false;
  }

  #writePush(text: string): boolean {
    const ok = this.#write(text);
    if (ok) this.context.counters.pushesSent++;
    return ok;
  }

  #overBuffered(): boolean {
    let pending = this.#connection.bufferedAmount;
    // Held pushes count only while a stream replays, which is rare: a plain write reads
    // one number.
    if (this.#catchUps !== undefined) {
      for (const c of this.#catchUps.values()) pending += c.heldBytes;
    }
    return pending > this.context.options.maxBufferedBytes;
  }

  #write(text: string): boolean {
    if (this.#state.kind === 'closed') return false;
    // A client that does not read makes the send buffer grow without bound; it is cut
    // off and told to resync rather than allowed to exhaust the gateway's memory.
    if (this.#overBuffered()) {
      this.close(CloseCode.SLOW_CONSUMER);
      return false;
    }
    try {
      this.#connection.send(text);
      return true;
    } catch (error) {
      this.fail(error, 'could not write to the connection');
      return false;
    }
  }

  // ------------------------------------------------------------ closing

  /** Send `close {code, reason}` and close the transport with the same code. Idempotent. */
  close(code: CloseCode, retryAfterMs?: number): void {
    if (this.#state.kind === 'closed') return;
    const reason = CLOSE_REASON[code];
    try {
      closeWithFrame(this.#connection, code, retryAfterMs);
    } catch (error) {
      this.context.options.logger.warn({ err: error, session: this.id }, 'close failed');
      this.#connection.terminate();
    }
    this.#release(code, reason);
  }

  /** Drop the transport without a closing handshake (shutdown stragglers). */
  terminate(): void {
    this.#connection.terminate();
    this.#release(CloseCode.ABNORMAL, CLOSE_REASON[CloseCode.ABNORMAL]);
  }

  expireIdle(): void {
    this.close(CloseCode.HEARTBEAT_TIMEOUT);
  }

  /** Report an unexpected error and close the session with 4008. */
  fail(error: unknown, message: string): void {
    this.report(error, message);
    this.close(CloseCode.SERVER_ERROR);
  }

  /** Log and emit an error without closing (a hook failed; the session carries on). */
  report(error: unknown, message: string): void {
    this.context.options.logger.error({ err: error, session: this.id }, message);
    const err = error instanceof Error ? error : new Error(String(error));
    this.context.events.emit('error', err, this.isOpen ? this.info() : undefined);
  }

  #release(code: number, reason: string): void {
    const state = this.#state;
    if (state.kind === 'closed') return;
    const profile = state.kind === 'open' ? state.profile : undefined;
    this.#state = { kind: 'closed', profile };
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#catchUps = undefined;
    if (profile === undefined) return;
    const streams = [profile.userStream, ...[...this.channels].map(channelStream)];
    this.context.registry.remove(this, streams);
    this.context.events.emit('closed', { session: this.info(), code, reason });
  }

  #protocolError(detail: string): void {
    this.context.options.logger.debug({ session: this.id, detail }, 'protocol error');
    this.close(CloseCode.PROTOCOL_ERROR);
  }

  // ------------------------------------------------------------ handshake

  #dispatch(frame: ClientFrame): void {
    const state = this.#state;
    switch (state.kind) {
      case 'awaiting-hello':
        if (frame.type !== 'hello') return this.#protocolError(`${frame.type} before hello`);
        this.#state = { kind: 'authenticating', queued: [] };
        void this.#authenticate(frame);
        return;
      case 'authenticating':
        if (frame.type === 'hello') return this.#protocolError('second hello');
        if (state.queued.length >= MAX_FRAMES_BEFORE_WELCOME) {
          return this.#protocolError('too many frames before welcome');
        }
        state.queued.push(frame);
        return;
      case 'open':
        if (frame.type === 'hello') return this.#protocolError('second hello');
        handleOpenFrame(this, frame);
        return;
      case 'closed':
        return;
    }
  }

  async #authenticate(hello: HelloFrame): Promise<void> {
    const { options } = this.context;
    let identity: Identity;
    try {
      identity = await options.authenticate({
        token: hello.token,
        device: hello.device,
        connection: this.#connection.info,
      });
    } catch (error) {
      if (this.#state.kind !== 'authenticating') return;
      if (!(error instanceof AuthError)) return this.fail(error, 'authenticate failed');
      options.logger.info({ session: this.id, err: error }, 'authentication refused');
      return this.close(error.expired ? CloseCode.AUTH_EXPIRED : CloseCode.AUTH_FAILED);
    }
    const state = this.#state;
    if (state.kind !== 'authenticating') return;
    try {
      const problem = identityProblem(identity);
      if (problem !== undefined) {
        this.report(new Error(problem), 'authenticate returned an unusable identity');
        return this.close(CloseCode.AUTH_FAILED);
      }
      if (identity.expiresAt !== undefined && identity.expiresAt <= options.clock.now()) {
        return this.close(CloseCode.AUTH_EXPIRED);
      }
      const start = await this.#startOf(hello, identity);
      if (this.#state !== state) return;
      this.#open(hello, identity, state.queued, start);
    } catch (error) {
      this.fail(error, 'could not open the session');
    }
  }

  /**
   * Where the session starts on the user's inbox when the client did not resume it: the
   * head now. It is read before the session joins the stream's receivers and then replayed
   * from, so nothing appended in between is missed, and `welcome` tells the client, so its
   * next reconnect resumes from here (PROTOCOL.md §10.2).
   */
  async #startOf(hello: HelloFrame, identity: Identity): Promise<StreamPosition | undefined> {
    const stream = userStream(identity.userId, identity.tenantId);
    if (hello.resume?.some((p) => p.stream === stream)) return undefined;
    const { messageLog, ackStore } = this.context.options;
    const head = await messageLog.head(stream);
    // An empty inbox: the session starts from the beginning of whatever comes.
    if (head === undefined) return { stream, epoch: EMPTY_EPOCH, offset: 0 };
    // A device owed `requireAck` messages gets them redelivered below the head (see
    // redelivery.ts); starting it at the head would make its client drop them. It starts
    // from the redelivered messages instead, which give its client a position.
    const consumer = { userId: identity.userId, tenantId: identity.tenantId, device: hello.device };
    const acked = (await ackStore.acked(consumer)).find((p) => p.stream === stream);
    const after = acked !== undefined && acked.epoch === head.epoch ? acked.offset : 0;
    const owed = await messageLog.readRequiringAck(stream, after, 1);
    if (owed !== undefined && owed.messages.length > 0) return undefined;
    return { stream, epoch: head.epoch, offset: head.offset };
  }

  #open(
    hello: HelloFrame,
    identity: Identity,
    queued: readonly ClientFrame[],
    start: StreamPosition | undefined,
  ): void {
    const { options, registry } = this.context;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const profile: Profile = {
      userId: identity.userId,
      tenantId: identity.tenantId,
      device: hello.device,
      client: hello.client,
      claims: identity.claims ?? NO_CLAIMS,
      userStream: userStream(identity.userId, identity.tenantId),
    };
    const verdict = admit(options.sessionPolicy, profile.device, [
      ...registry.receivers(profile.userStream),
    ]);
    if (!verdict.admit) return this.close(verdict.code);
    // The older sessions leave the registry before the newcomer joins it, so no push is
    // written to a session that is being replaced.
    for (const older of verdict.replace) older.close(CloseCode.REPLACED);
    this.#state = { kind: 'open', profile };
    this.#connection.opened?.();
    this.lastSeen = options.clock.now();
    registry.add(this, profile.userStream);
    // Only the user's own inbox resumes here; channels resume with `subscribe.from`.
    const resume = hello.resume?.find((p) => p.stream === profile.userStream) ?? start;
    if (resume !== undefined) this.beginCatchUp(resume);
    if (identity.expiresAt !== undefined) {
      this.#cancelTimer = this.context.scope.setDeadline(
        () => this.close(CloseCode.AUTH_EXPIRED),
        identity.expiresAt,
      );
    }
    const welcomed = this.send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      session: this.id,
      user: profile.userId,
      serverTime: this.lastSeen,
      pingIntervalMs: options.pingIntervalMs,
      idleTimeoutMs: options.idleTimeoutMs,
      maxFrameBytes: options.maxFrameBytes,
      ...(start === undefined ? {} : { positions: [start] }),
    });
    if (!welcomed) return;
    this.context.sweep.arm(this.lastSeen);
    this.context.events.emit('opened', this.info());
    if (resume !== undefined) this.serial(() => this.runCatchUp(resume.stream));
    for (const frame of queued) {
      if (!this.isOpen) return;
      this.#dispatch(frame);
    }
  }

  // ------------------------------------------------------------ helpers for open frames

  /** Run `op` after every earlier one; a failure closes the session with 4008. */
  serial(op: () => Promise<void>): void {
    const tail = this.#ops
      .then(() => (this.isOpen ? op() : undefined))
      .catch((error: unknown) => this.fail(error, 'unexpected error while handling a frame'));
    this.#ops = tail;
    // Nothing queued after it: the shared settled promise again, not one kept per session.
    void tail.then(() => {
      if (this.#ops === tail) this.#ops = SETTLED;
    });
  }

  /**
   * Hold live pushes of `position.stream` until {@link runCatchUp} has replayed history
   * (or announced a resync). Replaces a catch-up of the same stream that has not run: the
   * newer position's replay reads every message the older one held from the log.
   */
  beginCatchUp(position: StreamPosition): void {
    (this.#catchUps ??= new Map()).set(
      position.stream,
      new CatchUp(position.epoch, position.offset),
    );
  }

  /** Stop replaying or holding a stream (unsubscribe). */
  endCatchUp(stream: string): void {
    this.#dropCatchUp(stream, this.#catchUps?.get(stream));
  }

  /** Forget `stream`'s catch-up if it is still `catchUp`; the map goes once it is empty. */
  #dropCatchUp(stream: string, catchUp: CatchUp | undefined): void {
    const catchUps = this.#catchUps;
    if (catchUps === undefined || catchUp === undefined || catchUps.get(stream) !== catchUp) {
      return;
    }
    catchUps.delete(stream);
    if (catchUps.size === 0) this.#catchUps = undefined;
  }

  async runCatchUp(stream: string): Promise<void> {
    const catchUp = this.#catchUps?.get(stream);
    if (catchUp === undefined) return;
    try {
      await replay(this.context.options.messageLog, stream, catchUp, {
        writePush: (text, encoded) => {
          if (encoded) this.context.counters.pushesEncoded++;
          return this.#writePush(text);
        },
        writeResync: (frame) => this.send(frame),
        now: () => this.context.options.clock.now(),
        wants: (s, c) => this.isOpen && this.#catchUps?.get(s) === c,
      });
    } finally {
      this.#dropCatchUp(stream, catchUp);
    }
  }
}

const NO_CHANNELS: ReadonlySet<string> = new Set<string>();
const SETTLED: Promise<void> = Promise.resolve();
/** The claims of every session whose identity has none (read-only, as its type says). */
const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * A random UUID as one flat string. `randomUUID()` returns a string built by
 * concatenation, which V8 keeps as a wrapper around the flattened text once the id is
 * hashed as a map key: 32 more bytes for every session it is kept with.
 */
function flatUUID(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}
