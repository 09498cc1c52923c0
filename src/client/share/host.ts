/**
 * The leader's side of a shared connection: the one real client, and the broker between
 * it and every tab (the leader's own included). It runs what tabs ask for (requests,
 * publishes, sends, subscriptions, reconnects) and broadcasts what the client emits as
 * numbered events. Positions and acks are the real client's business; the checkpoint gate
 * decides which of its saves may become the next leader's starting point.
 */
import { channelStream, type StreamPosition } from '../../protocol/index.js';
import type { Scope } from '../../env/index.js';
import type { Subscription } from '../subscriptions.js';
import type { ClientOptions, PositionStorage } from '../options.js';
import type { LifelineClient, SendResult } from '../types.js';
import { RecentEvents } from './catch-up.js';
import { CheckpointGate, type CheckpointMemory } from './gate.js';
import {
  encodeError,
  encodeState,
  type FromLeader,
  type SharedEvent,
  type ToLeader,
} from './wire.js';

export interface HostOptions {
  /** The leader tab's id, which names its events. */
  readonly tab: string;
  /** Options of the real client; its `storage` is the gate's. */
  readonly client: ClientOptions;
  readonly createClient: (options: ClientOptions) => LifelineClient;
  /** The key the real client stores positions under. */
  readonly positionsKey: string;
  /** The application's own storage, if any. */
  readonly storage: PositionStorage | undefined;
  readonly memory: CheckpointMemory;
  readonly confirmTimeoutMs: number;
  /** Messages kept for tabs that come back (see catch-up.ts). */
  readonly catchUpLimit: number;
  /** The application's `storageSaveDelayMs`: how often checkpoints reach its storage. */
  readonly saveDelayMs: number;
  /** To every tab: the channel, and this tab's own view. */
  readonly post: (message: FromLeader) => void;
  /**
   * The tabs still alive (holding their presence lock, see presence.ts), asked every
   * `confirmTimeoutMs`; undefined where the browser cannot tell, which stops asking.
   */
  readonly present: () => Promise<ReadonlySet<string> | undefined>;
}

type Call = Extract<ToLeader, { t: 'call' }>;

export class LeaderHost {
  private readonly options_: HostOptions;
  private readonly client_: LifelineClient;
  private readonly gate_: CheckpointGate;
  private readonly heads_ = new Map<string, StreamPosition>();
  private readonly recent_: RecentEvents;
  /** Per tab, the channels held for it. */
  private readonly subscriptions_ = new Map<string, Map<string, Subscription>>();
  /** `tab rid` of calls under way: a call re-sent to the same leader runs once. */
  private readonly running_ = new Set<string>();
  /** Tabs that said hello, each with the number of its latest hello. */
  private readonly tabs_ = new Map<string, number>();
  private hellos_ = 0;
  private readonly scope_: Scope;
  private readonly detach_: (() => void)[] = [];
  private seq_ = 0;
  private resigned_ = false;

  constructor(scope: Scope, options: HostOptions) {
    this.options_ = options;
    this.scope_ = scope;
    this.recent_ = new RecentEvents(options.catchUpLimit);
    this.gate_ = new CheckpointGate(scope, {
      positionsKey: options.positionsKey,
      storage: options.storage,
      memory: options.memory,
      confirmTimeoutMs: options.confirmTimeoutMs,
      saveDelayMs: options.saveDelayMs,
      published: (text) => this.post_({ t: 'ckpt', leader: options.tab, text }),
      report: (error) => this.event_({ ev: 'error', error: encodeError(error) }),
    });
    const client = options.createClient({
      ...options.client,
      storage: this.gate_,
      storageKey: options.positionsKey,
      // Every save at once: the checkpoint should trail the tabs by a confirmation, not by
      // a save window (a leader that dies before its first save leaves none at all). The
      // gate throttles what reaches the application's storage instead.
      storageSaveDelayMs: 0,
    });
    this.client_ = client;
    this.detach_.push(
      client.on('message', (message) => {
        this.heads_.set(message.stream, position(message));
        this.event_({ ev: 'message', message });
      }),
      client.on('messages', (messages) => this.event_({ ev: 'messages', messages })),
      client.on('resync', (resync) => {
        if (resync.position === undefined) this.heads_.delete(resync.stream);
        else this.heads_.set(resync.stream, position(resync.position));
        this.event_({ ev: 'resync', resync });
      }),
      client.on('state', ({ to }) => this.event_({ ev: 'state', state: encodeState(to) })),
      client.on('error', (error) => this.event_({ ev: 'error', error: encodeError(error) })),
    );
  }

  /** Connect the real client: it resumes from the last checkpoint. */
  start(): void {
    this.client_.connect().catch(() => {
      // The state events carry the outcome to every tab.
    });
    this.sweep_();
  }

  receive(message: ToLeader): void {
    if (this.resigned_) return;
    switch (message.t) {
      case 'hello':
        this.tabs_.set(message.tab, ++this.hellos_);
        this.gate_.join(message.tab, this.seq_);
        this.post_({
          t: 'welcome',
          leader: this.options_.tab,
          to: message.tab,
          seq: this.seq_,
          state: encodeState(this.client_.state),
          heads: [...this.heads_.values()],
          ...(message.since === undefined
            ? {}
            : { replay: this.recent_.catchUp(message.since, this.heads_) }),
        });
        return;
      case 'conf':
        if (message.leader === this.options_.tab) this.gate_.confirm(message.tab, message.seq);
        return;
      case 'call':
        return this.call_(message);
      case 'sub':
        return this.subscribe_(message.tab, message.channel);
      case 'unsub':
        return this.unsubscribe_(message.tab, message.rid, message.channel);
      case 'ctl':
        if (message.op === 'connect') this.start();
        else if (message.op === 'reconnect') this.client_.reconnect();
        else this.client_.checkLiveness();
        return;
      case 'bye':
        this.tabs_.delete(message.tab);
        this.gate_.leave(message.tab);
        for (const subscription of this.subscriptions_.get(message.tab)?.values() ?? [])
          void subscription.unsubscribe().catch(() => {});
        this.subscriptions_.delete(message.tab);
        return;
    }
  }

  /**
   * Hand the connection over: close the real client without telling the tabs (they wait
   * for the next leader, and re-send through it what is still unanswered).
   */
  async resign(): Promise<void> {
    if (this.resigned_) return;
    this.resigned_ = true;
    for (const off of this.detach_) off();
    // Closing saves positions one last time, through the gate: only confirmed ones land.
    await this.client_.close();
    this.gate_.dispose();
  }

  /**
   * Every `confirmTimeoutMs`, a tab whose presence lock is gone (closed or crashed without
   * a goodbye) is treated as if it had said goodbye. Only tabs known before the question
   * was asked, and not greeted again since: a tab that joins meanwhile is not in the answer.
   */
  private sweep_(): void {
    this.scope_.setTimeout(() => {
      const known = new Map(this.tabs_);
      this.options_.present().then(
        (alive) => {
          if (this.resigned_ || alive === undefined) return;
          for (const [tab, hello] of known) {
            if (tab !== this.options_.tab && !alive.has(tab) && this.tabs_.get(tab) === hello)
              this.receive({ t: 'bye', tab });
          }
          this.sweep_();
        },
        () => {
          if (!this.resigned_) this.sweep_();
        },
      );
    }, this.options_.confirmTimeoutMs);
  }

  private call_(call: Call): void {
    const key = `${call.tab} ${call.rid}`;
    if (this.running_.has(key)) return;
    this.running_.add(key);
    const answer = (ok: boolean, value: unknown): void => {
      this.running_.delete(key);
      if (this.resigned_) return;
      const { tab: to, rid } = call;
      const leader = this.options_.tab;
      this.post_(
        ok
          ? { t: 'result', leader, to, rid, ok, value }
          : { t: 'result', leader, to, rid, ok, error: encodeError(value) },
      );
    };
    let outcome: Promise<unknown>;
    try {
      const data = JSON.parse(call.data) as unknown;
      // The calling tab's id for the call goes on the wire: re-sent through the next
      // leader after this one died, the call runs once on the gateway.
      const id = call.rid;
      const options = call.timeoutMs === undefined ? { id } : { id, timeoutMs: call.timeoutMs };
      if (call.op === 'request') outcome = this.client_.request(data, options);
      else if (call.op === 'publish' && call.to !== undefined)
        outcome = this.client_.publish(call.to, data, options);
      else {
        const sent: SendResult = this.client_.send(data, { id });
        outcome = sent.delivered;
      }
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (value) => answer(true, value),
      (error: unknown) => answer(false, error),
    );
  }

  private subscribe_(tab: string, channel: string): void {
    let held = this.subscriptions_.get(tab);
    if (held === undefined) this.subscriptions_.set(tab, (held = new Map()));
    if (held.has(channel)) return;
    try {
      held.set(channel, this.client_.subscribe(channel));
    } catch (error) {
      this.event_({ ev: 'error', error: encodeError(error) });
    }
  }

  private unsubscribe_(tab: string, rid: string, channel: string): void {
    const held = this.subscriptions_.get(tab);
    const subscription = held?.get(channel);
    held?.delete(channel);
    const leader = this.options_.tab;
    const done = (error?: unknown): void => {
      if (this.resigned_) return;
      this.post_(
        error === undefined
          ? { t: 'result', leader, to: tab, rid, ok: true }
          : { t: 'result', leader, to: tab, rid, ok: false, error: encodeError(error) },
      );
    };
    if (subscription === undefined) return done();
    subscription.unsubscribe().then(() => done(), done);
    // Messages of a channel no tab holds any more stop being announced as heads.
    if (![...this.subscriptions_.values()].some((h) => h.has(channel)))
      this.heads_.delete(channelStream(channel));
  }

  private event_(event: SharedEvent): void {
    this.recent_.add(event);
    this.seq_++;
    this.gate_.seq = this.seq_;
    this.post_({ t: 'ev', leader: this.options_.tab, seq: this.seq_, ...event });
  }

  private post_(message: FromLeader): void {
    this.options_.post(message);
  }
}

function position(p: StreamPosition): StreamPosition {
  return { stream: p.stream, epoch: p.epoch, offset: p.offset };
}
