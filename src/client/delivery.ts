/**
 * Everything between a `push` frame and the application: de-duplication, live gap
 * detection and repair, resync, batching, acknowledgements and persisted positions
 * (PROTOCOL.md §10). The rule it keeps: the application sees each message of a stream
 * once and in offset order, or a `resync` event saying that it will not.
 *
 * Delivered positions move only when a message was handed over — on `message` without
 * batching, on `messages` with it — and only they are acknowledged and persisted.
 */
import {
  CHANNEL_STREAM_PREFIX,
  EMPTY_EPOCH,
  type LifelineError,
  type PushFrame,
  type ReplyFrame,
  type ResyncFrame,
  type ResyncReason,
  type StreamPosition,
} from '../protocol/index.js';
import type { Scope } from '../env/index.js';
import { AckBatcher } from './acks.js';
import { Batcher } from './batch.js';
import type { Emitter } from './emitter.js';
import { GapRepair } from './gaps.js';
import type { ResolvedOptions } from './options.js';
import { ackTexts } from './outbound.js';
import type { PersistedPositions } from './persisted.js';
import { Positions } from './positions.js';
import type { ClientEvents, PushMessage } from './types.js';

/** The client's options deliveries read; a gap repair may take `requestTimeoutMs`. */
export type DeliveryOptions = Pick<
  ResolvedOptions,
  'batch' | 'ackDelayMs' | 'channelAckDelayMs' | 'requestTimeoutMs'
>;

/** The open session deliveries talk back through. */
export interface DeliveryLink {
  send(text: string): boolean;
  /** The session cannot repair a gap: drop it and reconnect. */
  broken(error: LifelineError): void;
  readonly maxFrameBytes: number;
}

export class Delivery {
  /** Last received position per stream: de-duplication, gaps, `hello.resume`, `subscribe.from`. */
  readonly received = new Positions();
  /**
   * Last position per stream handed to the application: what acks and storage carry.
   * Without batching a message is handed over as it is received, so this is `received`
   * itself: one table to keep, and one less object for every push to touch.
   */
  readonly delivered: Positions;
  private readonly events_: Emitter<ClientEvents>;
  private readonly options_: DeliveryOptions;
  private readonly nextId_: () => string;
  private readonly batch_: Batcher<PushMessage> | null;
  private readonly acks_: AckBatcher;
  /** The ack windows, read per message: here rather than behind `options_`. */
  private readonly ackDelayMs_: number;
  private readonly channelAckDelayMs_: number;
  private persisted_: PersistedPositions | null = null;
  private link_: DeliveryLink | null = null;
  private repair_: GapRepair | null = null;

  /** `scope` is the client's: a pending batch and pending acks outlive sessions. */
  constructor(
    scope: Scope,
    events: Emitter<ClientEvents>,
    options: DeliveryOptions,
    nextId: () => string,
  ) {
    this.events_ = events;
    this.options_ = options;
    this.nextId_ = nextId;
    this.batch_ =
      options.batch === undefined
        ? null
        : new Batcher(scope.child(), options.batch, (batch) => this.handedOver_(batch));
    this.delivered = this.batch_ === null ? this.received : new Positions();
    this.acks_ = new AckBatcher(scope.child(), (positions) => this.sendAcks_(positions));
    this.ackDelayMs_ = options.ackDelayMs;
    this.channelAckDelayMs_ = options.channelAckDelayMs;
  }

  /** Save delivered positions through `persisted` from now on. */
  persistWith(persisted: PersistedPositions): void {
    this.persisted_ = persisted;
  }

  /**
   * Starting points without a message behind them: positions loaded from storage, or where
   * the gateway started a session or subscription. A stream this client already knows
   * keeps its own. Nothing is acknowledged for them.
   */
  restore(positions: readonly StreamPosition[]): void {
    let adopted = false;
    for (const p of positions) {
      if (this.received.of(p.stream) !== undefined) continue;
      this.received.set(p);
      if (this.delivered !== this.received) this.delivered.set(p);
      adopted = true;
    }
    // Saved too: a reload must resume from here rather than from a later head.
    if (adopted) this.persisted_?.changed();
  }

  /** A session opened: acks held meanwhile go out, gaps can be repaired in it. */
  attach(scope: Scope, link: DeliveryLink): void {
    this.link_ = link;
    this.repair_ = new GapRepair(scope, link, this.nextId_, this.options_.requestTimeoutMs);
    this.acks_.flush();
  }

  /** The session is gone. Unfinished repairs end with it: `hello.resume` takes over. */
  detach(): void {
    this.link_ = null;
    this.repair_ = null;
  }

  push(frame: PushFrame): void {
    const { id, stream, epoch, offset, data, publishedAt } = frame;
    const last = this.received.of(stream);
    // A start "from the beginning" (EMPTY_EPOCH) continues in the stream's first epoch.
    if (last !== undefined && (last.epoch === epoch || last.epoch === EMPTY_EPOCH)) {
      if (offset <= last.offset) return; // a duplicate: replay overlapping live traffic
      if (last.offset < (frame.after ?? offset - 1)) {
        // A live gap: never deliver out of order. The replay brings this push again.
        this.repair_?.start(last);
        return;
      }
    } else if (last !== undefined) {
      // The stream's history was replaced without a resync frame saying so (PROTOCOL.md §10.3).
      this.resync_(stream, 'epoch_changed', { stream, epoch, offset: offset - 1 });
    }
    const message: PushMessage = { id, stream, epoch, offset, data, publishedAt };
    this.received.set(message);
    if (this.batch_ === null) {
      this.recordOne_(message);
      this.persisted_?.changed();
      this.events_.emit('message', message);
    } else {
      this.batch_.hold(message);
      this.events_.emit('message', message);
      this.batch_.settle();
    }
  }

  /** The gateway cannot serve the position it was given for `frame.stream`. */
  resync(frame: ResyncFrame): void {
    const { stream, reason, epoch, offset } = frame;
    const position =
      epoch === undefined || offset === undefined ? undefined : { stream, epoch, offset };
    this.resync_(stream, reason, position);
  }

  /** The reply to a gap repair's `resume`. Returns false when the id is not one of ours. */
  settle(reply: ReplyFrame): boolean {
    return this.repair_?.settle(reply) ?? false;
  }

  /** Hand the pending batch over, send pending acks, save positions: before the client ends. */
  flush(): void {
    this.batch_?.flush();
    this.acks_.flush();
    this.persisted_?.flush();
  }

  private resync_(
    stream: string,
    reason: ResyncReason,
    position: StreamPosition | undefined,
  ): void {
    // What arrived before the resync reaches the application before it.
    this.batch_?.flush();
    this.received.reset(stream, position);
    if (this.delivered !== this.received) this.delivered.reset(stream, position);
    this.persisted_?.changed();
    this.events_.emit('resync', { stream, recovered: false, reason, position });
  }

  /** A batch is handed to the `messages` listeners. */
  private handedOver_(batch: readonly PushMessage[]): void {
    this.record_(batch);
    this.events_.emit('messages', batch);
  }

  /**
   * Messages are being handed over: their positions become delivered, to be acknowledged
   * and saved. Recorded just before the listeners run (acks leave on a later timer), so
   * a listener that closes the client still has them sent and saved by `close()`.
   */
  private record_(messages: readonly PushMessage[]): void {
    for (const m of messages) this.recordOne_(m);
    this.persisted_?.changed();
  }

  private recordOne_(m: PushMessage): void {
    if (this.delivered !== this.received) this.delivered.set(m);
    this.acks_.add(
      m,
      m.stream.startsWith(CHANNEL_STREAM_PREFIX) ? this.channelAckDelayMs_ : this.ackDelayMs_,
    );
  }

  private sendAcks_(positions: readonly StreamPosition[]): boolean {
    const link = this.link_;
    if (link === null) return false;
    for (const text of ackTexts(positions, link.maxFrameBytes)) {
      if (!link.send(text)) return false;
    }
    this.events_.emit('ack', positions);
    return true;
  }
}
