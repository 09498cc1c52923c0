/**
 * Redelivery of `requireAck` messages: when a session opens, the user's inbox messages
 * published with `requireAck` that its device (`hello.device`; all device-less sessions
 * of a user share one position) has not acknowledged are pushed to it, oldest first,
 * before any live push — whether or not `hello.resume` asked for them (a new device, a
 * cleared storage).
 *
 * Ordering is the whole difficulty: a client drops a push at or below the last position
 * it delivered, so an old message written after a newer live one would be lost. So, from
 * the moment the session is registered, live pushes of its inbox are held here (fan-out
 * asks {@link Redelivery.hold}); the unacknowledged messages are read from the log and
 * written; then the held pushes follow, and the session is live.
 *
 * Which old messages may be written before the held ones? Fan-out runs in offset order
 * per stream, so every offset below the first held push `h0` was fanned out before the
 * session was registered — a requireAck one among them is owed, the rest are not (the
 * session did not exist). Offsets from `h0` on are held or still to come. When nothing
 * is held yet, a publish may have appended a message and not fanned it out: the decision
 * then waits until every publish begun before it has fanned out, or a push gets held.
 * Publishes are counted per {@link Flight}, not per stream: a publish costs one counter
 * up and down, and a decision waits at most for the publishes of one commit or so.
 *
 * Redelivered pushes skip the offsets between them on purpose, so each names the offset
 * it follows (`push.after`, PROTOCOL.md §5): the device's acknowledged offset for the
 * first, the previous one written here after that; the first held push too, when it does
 * not continue from there. A client that has no position, or the position the device
 * acknowledged, delivers them without taking the skips for a gap. A session that did not
 * resume is treated as starting afresh.
 *
 * A session that also resumed its inbox (`hello.resume`) replays it as usual; pushes
 * written here go through `Session.deliver`, which holds them behind that replay, and the
 * client's de-duplication drops whatever both paths supply.
 */
import type { Clock } from '../env/index.js';
import {
  decodeServerFrame,
  encodeServerFrame,
  type PushFrame,
  type StreamPosition,
} from '../protocol/index.js';
import type { AckStore, LoggedMessage, MessageLog } from '../storage/types.js';
import type { Counters } from './session-context.js';
import type { ReceiptTracker } from './receipts.js';
import type { Session } from './session.js';
import { expired } from './store-views.js';

/** Messages read from the log per round trip while redelivering. */
export const REDELIVERY_BATCH = 256;

/**
 * Publishes begun between two redelivery decisions: how many are still in flight, and
 * the decisions waiting for them to land.
 */
export interface Flight {
  count: number;
  readonly waiting: (() => void)[];
}

function newFlight(): Flight {
  return { count: 0, waiting: [] };
}

interface HeldPush {
  readonly epoch: string;
  readonly offset: number;
  readonly text: string;
  readonly expiresAt: number | undefined;
}

interface Hold {
  readonly session: Session;
  readonly stream: string;
  readonly held: HeldPush[];
  /** Set while waiting for publishes in flight. */
  wake: (() => void) | undefined;
  /**
   * Once a message was redelivered: its epoch, and the offset the next push written
   * follows (what `push.after` names when the next one does not continue from it).
   */
  follows: { readonly epoch: string; offset: number } | undefined;
}

export interface RedeliveryDeps {
  readonly log: MessageLog;
  readonly acks: AckStore;
  readonly clock: Clock;
  readonly counters: Counters;
  readonly tracker: ReceiptTracker | undefined;
}

export class Redelivery {
  readonly #deps: RedeliveryDeps;
  /** By session id. */
  readonly #holds = new Map<string, Hold>();
  /** The flight publishes begin in now. */
  #current: Flight = newFlight();
  /** Earlier flights with publishes still in flight, oldest first. */
  readonly #landing: Flight[] = [];

  constructor(deps: RedeliveryDeps) {
    this.#deps = deps;
  }

  /** True while any session is being redelivered to; fan-out checks this first. */
  get active(): boolean {
    return this.#holds.size !== 0;
  }

  /** A publish is about to append; hand what this returns to {@link end}. */
  begin(): Flight {
    const flight = this.#current;
    flight.count++;
    return flight;
  }

  /** That publish fanned out (or failed). */
  end(flight: Flight): void {
    if (--flight.count > 0 || flight === this.#current) return;
    // Flights land in order: a decision waits for its flight and every earlier one.
    const landing = this.#landing;
    while (landing.length > 0 && (landing[0] as Flight).count === 0) {
      for (const wake of (landing.shift() as Flight).waiting) wake();
    }
  }

  /** Fan-out: keep this push for `session` if its redelivery is in progress. */
  hold(
    session: Session,
    stream: string,
    epoch: string,
    offset: number,
    text: string,
    expiresAt: number | undefined,
  ): boolean {
    const hold = this.#holds.get(session.id);
    if (hold === undefined || hold.stream !== stream) return false;
    hold.held.push({ epoch, offset, text, expiresAt });
    hold.wake?.();
    return true;
  }

  /** A session was registered: hold its inbox and redeliver what its device has not acked. */
  open(session: Session): void {
    const profile = session.profile;
    if (profile === undefined || this.#holds.has(session.id)) return;
    const hold: Hold = {
      session,
      stream: profile.userStream,
      held: [],
      wake: undefined,
      follows: undefined,
    };
    this.#holds.set(session.id, hold);
    this.#run(hold).then(
      () => this.#release(hold),
      (error: unknown) => {
        this.#release(hold);
        session.fail(error, 'could not redeliver unacknowledged messages');
      },
    );
  }

  /** A session closed: forget its hold. */
  forget(sessionId: string): void {
    const hold = this.#holds.get(sessionId);
    if (hold !== undefined) this.#drop(hold);
  }

  async #run(hold: Hold): Promise<void> {
    const { session, stream } = hold;
    const { log, acks } = this.#deps;
    const profile = session.profile;
    if (profile === undefined) return;
    const consumer = { userId: profile.userId, tenantId: profile.tenantId, device: profile.device };
    const acked: StreamPosition | undefined = (await acks.acked(consumer)).find(
      (p) => p.stream === stream,
    );
    let cursor = acked?.offset ?? 0;
    let epoch = acked?.epoch;
    // What the first redelivered push follows: what the device acknowledged.
    let from = cursor;
    for (;;) {
      if (!session.isOpen) return;
      let slice = await log.readRequiringAck(stream, cursor, REDELIVERY_BATCH);
      if (slice === undefined) return;
      if (epoch !== undefined && slice.epoch !== epoch) {
        // Acked in a history the log no longer has: everything retained is unacked.
        cursor = from = 0;
        slice = await log.readRequiringAck(stream, cursor, REDELIVERY_BATCH);
        if (slice === undefined) return;
      }
      epoch = slice.epoch;
      if (slice.messages.length === 0) return;
      await this.#settled(hold);
      if (!session.isOpen) return;
      const first = hold.held[0];
      if (first !== undefined && first.epoch !== epoch) return;
      const bound = first?.offset ?? Number.POSITIVE_INFINITY;
      for (const m of slice.messages) {
        if (m.offset >= bound) return;
        if (!this.#write(hold, epoch, from, m)) return;
      }
      if (slice.messages.length < REDELIVERY_BATCH) return;
      cursor = (slice.messages.at(-1) as LoggedMessage).offset;
    }
  }

  /** Resolves once what may be written before the held pushes is known. */
  #settled(hold: Hold): Promise<void> {
    if (hold.held.length > 0) return Promise.resolve();
    const current = this.#current;
    if (current.count > 0) {
      // Every publish begun until now must land first: later ones find the session
      // registered, and hold their pushes here.
      this.#landing.push(current);
      this.#current = newFlight();
    }
    const last = this.#landing.at(-1);
    if (last === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        hold.wake = undefined;
        resolve();
      };
      hold.wake = wake;
      // Called by the flight, unless a held push or the session's end woke it first.
      last.waiting.push(() => {
        if (hold.wake === wake) wake();
      });
    });
  }

  /** Write one redelivered message; false when the session can take no more. */
  #write(hold: Hold, epoch: string, from: number, m: LoggedMessage): boolean {
    const { clock, counters, tracker } = this.#deps;
    const now = clock.now();
    if (expired(m, now)) return true;
    hold.follows ??= { epoch, offset: from };
    const frame: PushFrame = {
      type: 'push',
      id: m.id,
      stream: hold.stream,
      epoch,
      offset: m.offset,
      data: m.data,
      publishedAt: m.publishedAt,
    };
    const after = hold.follows.offset;
    const text = encodeServerFrame(after === m.offset - 1 ? frame : { ...frame, after });
    counters.pushesEncoded++;
    if (!hold.session.deliver(hold.stream, epoch, m.offset, text)) return false;
    hold.follows.offset = m.offset;
    tracker?.delivered(hold.session, hold.stream, epoch, m.offset, now);
    return true;
  }

  /** Write the held pushes and let live ones through. */
  #release(hold: Hold): void {
    if (this.#holds.get(hold.session.id) !== hold) return;
    this.#drop(hold);
    const { clock, counters, tracker } = this.#deps;
    const now = clock.now();
    const follows = hold.follows;
    for (const push of hold.held) {
      if (push.expiresAt !== undefined && push.expiresAt <= now) continue;
      let text = push.text;
      if (follows !== undefined && follows.epoch === push.epoch) {
        // The shared bytes say "follows offset − 1"; after a redelivery that may be untrue
        // for this session: re-encode this one push with what it does follow.
        if (push.offset !== follows.offset + 1) {
          text = encodeServerFrame({
            ...(decodeServerFrame(push.text) as PushFrame),
            after: follows.offset,
          });
          counters.pushesEncoded++;
        }
        follows.offset = push.offset;
      }
      if (!hold.session.deliver(hold.stream, push.epoch, push.offset, text)) return;
      tracker?.delivered(hold.session, hold.stream, push.epoch, push.offset, now);
    }
  }

  #drop(hold: Hold): void {
    if (this.#holds.get(hold.session.id) === hold) this.#holds.delete(hold.session.id);
    // A waiting run resumes, finds the session gone, and ends.
    hold.wake?.();
  }
}
