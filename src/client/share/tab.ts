/**
 * One tab's client when tabs share a connection: the same `LifelineClient` API, served by
 * whichever tab leads. Every tab, the leader's included, talks to the leader the same way
 * (the leader's own tab without the channel in between), so a tab that takes over keeps
 * its listeners, subscriptions and unanswered calls.
 *
 * What a tab keeps for itself: its state (the leader's, mirrored), its channels (it hears
 * only those), the position of the last message it showed per stream (it drops what it
 * already has when a new leader replays), and its unanswered calls (re-sent to a new
 * leader).
 */
import {
  CHANNEL_PATTERN,
  CHANNEL_STREAM_PREFIX,
  ClientClosedError,
  ConnectFailedError,
  InvalidOptionError,
  LifelineError,
  TimeoutError,
  type PublishTarget,
} from '../../protocol/index.js';
import { Scope, type Clock, type PageEvent, type PageLifecycle } from '../../env/index.js';
import type { ClientOptions, PositionStorage, TokenSource } from '../options.js';
import { deferred, type Deferred } from '../deferred.js';
import { isTerminal, sameState, terminalError, type ConnectionState } from '../state.js';
import type { Subscription } from '../subscriptions.js';
import type {
  ClientEvents,
  LifelineClient,
  PublishReceipt,
  RequestOptions,
  SendOptions,
  SendResult,
} from '../types.js';
import type {
  BroadcastChannelConstructorLike,
  BroadcastChannelLike,
  LockManagerLike,
} from './env.js';
import { TabEvents } from './events.js';
import type { CheckpointMemory } from './gate.js';
import { LeaderHost } from './host.js';
import { shareName } from './key.js';
import { fresh, moved, type Shown } from './shown.js';
import { TabCalls } from './calls.js';
import { holdPresence, presentTabs } from './presence.js';
import {
  asShareMessage,
  decodeError,
  decodeState,
  isToLeader,
  type FromLeader,
  type SharedEvent,
  type ToLeader,
} from './wire.js';

/** Leaders a tab remembers having left, to ignore their late messages. */
const MAX_RETIRED_LEADERS = 64;

export interface TabSetup {
  readonly url: string;
  readonly token: TokenSource | undefined;
  readonly shareKey: string | undefined;
  readonly locks: LockManagerLike;
  readonly BroadcastChannel: BroadcastChannelConstructorLike;
  readonly clock: Clock;
  readonly random: () => number;
  readonly requestTimeoutMs: number;
  readonly confirmTimeoutMs: number;
  readonly catchUpLimit: number;
  /** How often checkpoints are written to `storage`, in ms. */
  readonly saveDelayMs: number;
  /** The transport a tab says it is connecting over before the leader tells it more. */
  readonly transport: 'websocket' | 'polling';
  /** What the leader's real client is created with (sharing options removed). */
  readonly client: ClientOptions;
  readonly createClient: (options: ClientOptions) => LifelineClient;
  readonly positionsKey: string;
  readonly storage: PositionStorage | undefined;
  /** Where `pagehide`, `pageshow` and visibility come from; none outside browsers. */
  readonly page: PageLifecycle | undefined;
}

export class SharedTab implements LifelineClient {
  private readonly setup_: TabSetup;
  private readonly id_: string;
  private readonly events_ = new TabEvents();
  /** Timers of calls and of the leader's gate; replaced by `close()`, which may not be the end. */
  private scope_: Scope;
  private state_: ConnectionState = { kind: 'idle' };
  /** Bumped by `close()`: a join still resolving the share name belongs to an older life. */
  private life_ = 0;
  private channel_: BroadcastChannelLike | null = null;
  private host_: LeaderHost | null = null;
  /** Owns the leader's timers while this tab leads. */
  private hostScope_: Scope | null = null;
  private releaseLock_: (() => void) | null = null;
  private releasePresence_: (() => void) | null = null;
  /** The share's name (the lead lock's), once known. */
  private share_ = '';
  private abortLock_: AbortController | null = null;
  private leader_: string | null = null;
  private readonly retired_ = new Set<string>();
  private seen_ = 0;
  /**
   * Back from being away: the hello says what this tab showed, and live events wait here
   * until the welcome brings what it missed (null while not catching up).
   */
  private held_: Extract<FromLeader, { t: 'ev' }>[] | null = null;
  private confirming_ = false;
  private ready_: Deferred | null = null;
  private readonly calls_: TabCalls;
  private readonly unsubscribing_ = new Map<string, () => void>();
  private readonly channels_ = new Map<string, number>();
  private readonly shown_: Shown = new Map();
  private readonly shownInBatches_: Shown = new Map();
  private readonly checkpoint_: CheckpointMemory = { text: undefined };
  private unwatchPage_: (() => void) | null = null;

  constructor(setup: TabSetup) {
    this.setup_ = setup;
    this.scope_ = new Scope(setup.clock);
    let id = '';
    while (id.length < 12) id += Math.floor(setup.random() * 36).toString(36);
    this.id_ = id;
    this.calls_ = new TabCalls({
      tab: id,
      clock: setup.clock,
      requestTimeoutMs: setup.requestTimeoutMs,
      scope: () => this.scope_,
      post: (message) => {
        if (this.channel_ !== null) this.post_(message);
      },
    });
  }

  get state(): ConnectionState {
    return this.state_;
  }

  connect(): Promise<void> {
    if (this.state_.kind === 'open') return Promise.resolve();
    const ready = (this.ready_ ??= quiet(deferred()));
    if (this.channel_ === null) this.join_();
    else if (isTerminal(this.state_)) this.post_({ t: 'ctl', tab: this.id_, op: 'connect' });
    return ready.promise;
  }

  async close(): Promise<void> {
    if (this.channel_ === null && isTerminal(this.state_)) return;
    const closed = new ClientClosedError('The client was closed.');
    this.calls_.rejectAll(closed);
    for (const done of [...this.unsubscribing_.values()]) done();
    const left = this.leave_();
    this.unwatchPage_?.();
    this.unwatchPage_ = null;
    this.transition_({ kind: 'closed', reason: { initiator: 'client' } });
    this.scope_.dispose();
    this.scope_ = new Scope(this.setup_.clock);
    await left;
  }

  reconnect(): void {
    if (this.channel_ === null) void this.connect().catch(() => {});
    else this.post_({ t: 'ctl', tab: this.id_, op: 'reconnect' });
  }

  checkLiveness(): void {
    if (this.channel_ !== null) this.post_({ t: 'ctl', tab: this.id_, op: 'check' });
  }

  on<K extends keyof ClientEvents>(
    event: K,
    listener: (payload: ClientEvents[K]) => void,
  ): () => void {
    return this.events_.on(event, listener);
  }

  request(data: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (isTerminal(this.state_)) return Promise.reject(terminalError(this.state_));
    return this.calls_.call('request', data, undefined, options);
  }

  publish(to: PublishTarget, data: unknown, options: RequestOptions = {}): Promise<PublishReceipt> {
    if (isTerminal(this.state_)) return Promise.reject(terminalError(this.state_));
    return this.calls_.call('publish', data, to, options) as Promise<PublishReceipt>;
  }

  send(data: unknown, options: SendOptions = {}): SendResult {
    if (isTerminal(this.state_)) throw terminalError(this.state_);
    // Written to a socket only when this tab leads an open session; otherwise it is on
    // its way to the leader (or waiting for one).
    const status = this.host_ !== null && this.state_.kind === 'open' ? 'sent' : 'queued';
    return this.calls_.send(data, options, status);
  }

  subscribe(channel: string): Subscription {
    if (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel))
      throw new InvalidOptionError(`channel must match ${String(CHANNEL_PATTERN)}`);
    const handles = this.channels_.get(channel) ?? 0;
    this.channels_.set(channel, handles + 1);
    if (handles === 0 && this.channel_ !== null) this.post_({ t: 'sub', tab: this.id_, channel });
    let released: Promise<void> | undefined;
    const unsubscribe = (): Promise<void> => (released ??= this.release_(channel));
    return { channel, unsubscribe, [Symbol.asyncDispose]: unsubscribe };
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------------ joining

  private join_(): void {
    const life = this.life_;
    const { url, token, shareKey, transport, page } = this.setup_;
    if (page !== undefined) this.unwatchPage_ ??= page.subscribe((e) => this.paged_(e));
    this.transition_({ kind: 'connecting', attempt: 0, transport });
    shareName(url, token, shareKey).then(
      (name) => {
        if (life !== this.life_) return;
        const channel = new this.setup_.BroadcastChannel(name);
        channel.addEventListener('message', (event) => this.received_(event.data));
        this.channel_ = channel;
        this.share_ = name;
        const abort = new AbortController();
        this.abortLock_ = abort;
        const { locks } = this.setup_;
        const lost = (cause: unknown): void => {
          if (life === this.life_)
            this.failed_(new ConnectFailedError('Could not wait for the lead.', { cause }));
        };
        // Present before the first hello: a leader that knows this tab can ask the
        // browser whether it still lives.
        holdPresence(locks, name, this.id_, abort.signal).then((release) => {
          if (life !== this.life_) return release();
          this.releasePresence_ = release;
          locks.request(name, { signal: abort.signal }, () => this.lead_(life)).catch(lost);
          this.held_ = [...this.shown_.keys()].some((s) => this.wants_(s)) ? [] : null;
          this.hello_();
          for (const ch of this.channels_.keys())
            this.post_({ t: 'sub', tab: this.id_, channel: ch });
        }, lost);
      },
      (cause: unknown) => {
        if (life !== this.life_) return;
        this.failed_(
          cause instanceof LifelineError
            ? cause
            : new ConnectFailedError('Could not tell which connection to share.', { cause }),
        );
      },
    );
  }

  private failed_(error: LifelineError): void {
    void this.leave_();
    this.transition_({ kind: 'failed', error });
  }

  /**
   * Stop taking part: say goodbye, hand the connection over if this tab leads (its client
   * closes, then the lock goes to the next tab), stop waiting for the lock. What this tab
   * wants — channels, unanswered calls — stays, for a later `join_()`.
   */
  private leave_(): Promise<void> {
    this.life_++;
    if (this.channel_ !== null) this.post_({ t: 'bye', tab: this.id_ });
    const host = this.host_;
    const hostScope = this.hostScope_;
    const release = this.releaseLock_;
    const channel = this.channel_;
    const presence = this.releasePresence_;
    this.host_ = null;
    this.hostScope_ = null;
    this.releaseLock_ = null;
    this.releasePresence_ = null;
    this.channel_ = null;
    this.leader_ = null;
    this.abortLock_?.abort();
    this.abortLock_ = null;
    return (async () => {
      try {
        await host?.resign();
      } finally {
        hostScope?.dispose();
        release?.();
        presence?.();
        channel?.close();
      }
    })();
  }

  /**
   * The page lifecycle, as the client's own: `pagehide` leaves (a page in the back/forward
   * cache must not hold the connection, nor hold back checkpoints) and waits `suspended`;
   * `pageshow` from the cache joins again; becoming visible checks the connection.
   */
  private paged_(event: PageEvent): void {
    if (event.type === 'visible') return this.checkLiveness();
    if (event.type === 'pagehide') {
      if (this.channel_ === null || isTerminal(this.state_)) return;
      void this.leave_();
      this.transition_({ kind: 'suspended' });
    } else if (event.persisted && this.state_.kind === 'suspended') this.join_();
  }

  /** The lock is ours: hold it, and the connection, until this tab closes (or dies). */
  private lead_(life: number): Promise<void> {
    if (life !== this.life_) return Promise.resolve();
    return new Promise<void>((release) => {
      this.releaseLock_ = release;
      const s = this.setup_;
      this.hostScope_ = this.scope_.child();
      this.host_ = new LeaderHost(this.hostScope_, {
        tab: this.id_,
        // This tab follows the page lifecycle for its client (see paged_).
        client: { ...s.client, page: false },
        createClient: s.createClient,
        positionsKey: s.positionsKey,
        storage: s.storage,
        memory: this.checkpoint_,
        confirmTimeoutMs: s.confirmTimeoutMs,
        catchUpLimit: s.catchUpLimit,
        saveDelayMs: s.saveDelayMs,
        post: (message) => this.broadcast_(message),
        present: () => presentTabs(s.locks, this.share_),
      });
      this.broadcast_({ t: 'lead', leader: this.id_ });
      this.host_.start();
    });
  }

  // ------------------------------------------------------------------ the channel

  /** To the leader: straight to the host in the leader's tab, over the channel elsewhere. */
  private post_(message: ToLeader): void {
    if (this.host_ !== null) this.host_.receive(message);
    else this.channel_?.postMessage(message);
  }

  /** From this tab's host to every tab, this one included. */
  private broadcast_(message: FromLeader): void {
    this.channel_?.postMessage(message);
    this.fromLeader_(message);
  }

  private received_(data: unknown): void {
    const message = asShareMessage(data);
    if (message === undefined) return;
    if (isToLeader(message)) this.host_?.receive(message);
    else this.fromLeader_(message);
  }

  private fromLeader_(message: FromLeader): void {
    if (this.channel_ === null) return;
    if ('to' in message && message.to !== this.id_) return;
    if (message.leader !== this.leader_) {
      // Late words of a leader this tab has left, or of another leader while it leads.
      if (this.retired_.has(message.leader)) return;
      if (this.host_ !== null && message.leader !== this.id_) return;
      this.follow_(message.leader);
    }
    switch (message.t) {
      case 'welcome':
        this.seen_ = message.seq;
        for (const head of message.heads) {
          if (!this.shown_.has(head.stream)) this.shown_.set(head.stream, head);
          if (!this.shownInBatches_.has(head.stream)) this.shownInBatches_.set(head.stream, head);
        }
        this.mirror_(decodeState(message.state));
        if (this.held_ !== null) {
          // What was missed first, then what arrived meanwhile: de-duplication by
          // position drops whatever both carry.
          const held = this.held_;
          this.held_ = null;
          for (const event of message.replay ?? []) this.event_(event);
          for (const event of held) this.fromLeader_(event);
        }
        return;
      case 'ev':
        if (this.held_ !== null) return void this.held_.push(message);
        this.seen_ = message.seq;
        this.event_(message);
        this.confirm_();
        return;
      case 'result':
        return this.settle_(message);
      case 'ckpt':
        this.checkpoint_.text = message.text;
        return;
      case 'lead':
        return;
    }
  }

  /** A new leader: greet it and re-send what is unanswered (it runs each call once). */
  private follow_(leader: string): void {
    if (this.leader_ !== null) {
      this.retired_.add(this.leader_);
      if (this.retired_.size > MAX_RETIRED_LEADERS)
        this.retired_.delete(this.retired_.values().next().value as string);
    }
    this.leader_ = leader;
    this.seen_ = 0;
    // An unsubscribe in flight is done: the new leader never subscribed the channel.
    for (const done of [...this.unsubscribing_.values()]) done();
    this.hello_();
    for (const channel of this.channels_.keys()) this.post_({ t: 'sub', tab: this.id_, channel });
    this.calls_.repost();
  }

  /** Say hello; while catching up, with the last position shown of each stream wanted. */
  private hello_(): void {
    const since = [...this.shown_]
      .filter(([stream]) => this.held_ !== null && this.wants_(stream))
      .map(([stream, { epoch, offset }]) => ({ stream, epoch, offset }));
    this.post_({ t: 'hello', tab: this.id_, ...(since.length > 0 ? { since } : {}) });
  }

  /** Tell the leader, once per turn of the event loop, how far this tab got. */
  private confirm_(): void {
    if (this.confirming_) return;
    this.confirming_ = true;
    queueMicrotask(() => {
      this.confirming_ = false;
      const leader = this.leader_;
      if (leader !== null && this.channel_ !== null)
        this.post_({ t: 'conf', tab: this.id_, leader, seq: this.seen_ });
    });
  }

  // ------------------------------------------------------------------ events

  private event_(event: SharedEvent): void {
    switch (event.ev) {
      case 'message': {
        const m = event.message;
        if (this.wants_(m.stream) && fresh(this.shown_, m)) this.events_.emit('message', m);
        return;
      }
      case 'messages': {
        const batch = event.messages.filter(
          (m) => this.wants_(m.stream) && fresh(this.shownInBatches_, m),
        );
        if (batch.length > 0) this.events_.emit('messages', batch);
        return;
      }
      case 'resync': {
        const r = event.resync;
        if (!this.wants_(r.stream)) return;
        const a = moved(this.shown_, r);
        const b = moved(this.shownInBatches_, r);
        if (a || b) this.events_.emit('resync', r);
        return;
      }
      case 'state':
        return this.mirror_(decodeState(event.state));
      case 'error':
        return this.events_.emit('error', decodeError(event.error));
    }
  }

  /** The user's own streams always; a channel only while this tab holds it. */
  private wants_(stream: string): boolean {
    return (
      !stream.startsWith(CHANNEL_STREAM_PREFIX) ||
      this.channels_.has(stream.slice(CHANNEL_STREAM_PREFIX.length))
    );
  }

  private mirror_(state: ConnectionState): void {
    if (this.channel_ === null) return;
    // Not idle: this tab asked to connect, whatever the leader had done before.
    this.transition_(state.kind === 'idle' ? this.state_ : state);
  }

  private transition_(to: ConnectionState): void {
    const from = this.state_;
    if (sameState(from, to)) return;
    this.state_ = to;
    const ready = this.ready_;
    if (ready !== null && (to.kind === 'open' || isTerminal(to))) {
      this.ready_ = null;
      if (isTerminal(to)) ready.reject(terminalError(to));
      else ready.resolve();
    }
    this.events_.emit('state', { from, to });
  }

  // ------------------------------------------------------------------ calls and channels

  private settle_(result: Extract<FromLeader, { t: 'result' }>): void {
    const unsubscribed = this.unsubscribing_.get(result.rid);
    if (unsubscribed !== undefined) return unsubscribed();
    this.calls_.settle(result);
  }

  private release_(channel: string): Promise<void> {
    const handles = (this.channels_.get(channel) ?? 0) - 1;
    if (handles > 0) {
      this.channels_.set(channel, handles);
      return Promise.resolve();
    }
    if (!this.channels_.delete(channel) || this.channel_ === null) return Promise.resolve();
    const rid = this.calls_.nextId();
    return new Promise<void>((resolve, reject) => {
      const cancel = this.scope_.setTimeout(() => {
        this.unsubscribing_.delete(rid);
        reject(new TimeoutError(`The gateway did not confirm unsubscribing "${channel}".`));
      }, this.setup_.requestTimeoutMs);
      this.unsubscribing_.set(rid, () => {
        this.unsubscribing_.delete(rid);
        cancel();
        resolve();
      });
      this.post_({ t: 'unsub', tab: this.id_, rid, channel });
    });
  }
}

/** connect() callers may drop the promise; a rejection must not surface as unhandled. */
function quiet(d: Deferred): Deferred {
  d.promise.catch(() => {});
  return d;
}
