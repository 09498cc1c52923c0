/**
 * Channel subscriptions. The set of wanted channels belongs to the application and
 * outlives connections: every time a session opens, each channel is subscribed again,
 * from the last position delivered on it when one is known.
 */
import {
  CHANNEL_PATTERN,
  InvalidOptionError,
  RequestFailedError,
  TimeoutError,
  channelStream,
  type LifelineError,
  type ReplyFrame,
  type StreamPosition,
} from '../protocol/index.js';
import { DEV, type Scope } from '../env/index.js';
import { encodeClientFrame, positionsOf } from './wire.js';

/** A handle on one channel subscription. */
export interface Subscription extends AsyncDisposable {
  readonly channel: string;
  /**
   * Stop receiving the channel. Resolves when the gateway confirmed, or at once when no
   * session is open (the next one will not subscribe it). Idempotent per handle.
   */
  unsubscribe(): Promise<void>;
}

/** Where subscription frames go while a session is open. */
export interface SubscriptionLink {
  send(text: string): boolean;
}

interface Entry {
  readonly channel: string;
  handles: number;
}

type Awaiting =
  | { readonly kind: 'subscribe'; readonly entry: Entry }
  | {
      readonly kind: 'unsubscribe';
      readonly channel: string;
      readonly done: (error?: LifelineError) => void;
    };

/** The `position` a subscribe reply may carry, if it is a well-formed one. */
function startOf(data: unknown): StreamPosition | undefined {
  const p =
    typeof data === 'object' && data !== null ? (data as { position?: unknown }).position : 0;
  // Checked like every position from the gateway: it goes back in `hello.resume`.
  return positionsOf([p])?.[0];
}

export interface SubscriptionOptions {
  readonly nextId: () => string;
  /** Last delivered position of a stream, for `subscribe.from`. */
  readonly positionOf: (stream: string) => StreamPosition | undefined;
  /** The gateway said where a subscription without `from` starts (PROTOCOL.md §10.2). */
  readonly started: (position: StreamPosition) => void;
  /** Errors nobody awaits (a refused subscribe) go here. */
  readonly report: (error: LifelineError) => void;
  /** How long `unsubscribe()` waits for the gateway's reply, in ms. */
  readonly timeoutMs: number;
}

export class Subscriptions {
  private readonly scope_: Scope;
  private readonly options_: SubscriptionOptions;
  private active_ = new Map<string, Entry>();
  // Frame id → what its reply answers. Only for the current session.
  private awaiting_ = new Map<string, Awaiting>();
  private link_: SubscriptionLink | null = null;

  constructor(scope: Scope, options: SubscriptionOptions) {
    this.scope_ = scope;
    this.options_ = options;
  }

  /** Several handles may share a channel; it is unsubscribed when the last one lets go. */
  add(channel: string): Subscription {
    if (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel)) {
      throw new InvalidOptionError(
        DEV ? `channel must match ${String(CHANNEL_PATTERN)}` : 'channel',
      );
    }
    let entry = this.active_.get(channel);
    if (entry === undefined) {
      entry = { channel, handles: 0 };
      this.active_.set(channel, entry);
      if (this.link_ !== null) this.subscribe_(entry, this.link_);
    }
    entry.handles++;
    const held = entry;
    let released: Promise<void> | undefined;
    const unsubscribe = (): Promise<void> => (released ??= this.release_(held));
    return { channel, unsubscribe, [Symbol.asyncDispose]: unsubscribe };
  }

  attach(link: SubscriptionLink): void {
    this.link_ = link;
    for (const entry of this.active_.values()) {
      if (this.link_ !== link) return; // a failed send ended the session
      this.subscribe_(entry, link);
    }
  }

  /** The session ended. Pending unsubscribes are done: a new session will not have them. */
  detach(): void {
    this.link_ = null;
    const awaiting = [...this.awaiting_.values()];
    this.awaiting_.clear();
    for (const a of awaiting) if (a.kind === 'unsubscribe') a.done();
  }

  /** Handle the reply to one of our frames. Returns false when the id is not ours. */
  settle(reply: ReplyFrame): boolean {
    const awaiting = this.awaiting_.get(reply.id);
    if (awaiting === undefined) return false;
    this.awaiting_.delete(reply.id);
    if (awaiting.kind === 'unsubscribe') {
      awaiting.done(
        reply.ok
          ? undefined
          : new RequestFailedError(
              reply.error.code,
              DEV
                ? `Unsubscribing from channel "${awaiting.channel}" was refused: ${reply.error.message}`
                : awaiting.channel,
            ),
      );
      return true;
    }
    if (reply.ok) {
      const start = startOf(reply.data);
      if (start !== undefined) this.options_.started(start);
      return true;
    }
    // Refused (forbidden, say): stop asking on every reconnect and tell the application.
    const { entry } = awaiting;
    if (this.active_.get(entry.channel) === entry) this.active_.delete(entry.channel);
    this.options_.report(
      new RequestFailedError(
        reply.error.code,
        DEV
          ? `Subscribing to channel "${entry.channel}" was refused: ${reply.error.message}`
          : entry.channel,
      ),
    );
    return true;
  }

  private subscribe_(entry: Entry, link: SubscriptionLink): void {
    const id = this.options_.nextId();
    const at = this.options_.positionOf(channelStream(entry.channel));
    const from = at === undefined ? undefined : { epoch: at.epoch, offset: at.offset };
    this.awaiting_.set(id, { kind: 'subscribe', entry });
    link.send(
      encodeClientFrame({
        type: 'subscribe',
        id,
        channel: entry.channel,
        ...(from === undefined ? {} : { from }),
      }),
    );
  }

  private release_(entry: Entry): Promise<void> {
    entry.handles--;
    if (entry.handles > 0 || this.active_.get(entry.channel) !== entry) return Promise.resolve();
    this.active_.delete(entry.channel);
    const link = this.link_;
    if (link === null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const id = this.options_.nextId();
      const cancel = this.scope_.setTimeout(() => {
        this.awaiting_.delete(id);
        reject(
          new TimeoutError(
            DEV ? `The gateway did not confirm unsubscribing "${entry.channel}".` : entry.channel,
          ),
        );
      }, this.options_.timeoutMs);
      const done = (error?: LifelineError): void => {
        cancel();
        if (error === undefined) resolve();
        else reject(error);
      };
      this.awaiting_.set(id, { kind: 'unsubscribe', channel: entry.channel, done });
      link.send(encodeClientFrame({ type: 'unsubscribe', id, channel: entry.channel }));
    });
  }
}
