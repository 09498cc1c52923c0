/**
 * Catching a session up on a stream from a position it already has (`hello.resume`,
 * `subscribe.from`, `resume`), without a gap or a duplicate where history meets live
 * traffic — or saying with `resync` that the position cannot be served (PROTOCOL.md §10).
 *
 * The session is listed as a receiver of the stream *before* the log is read, and live
 * pushes for that stream are held in a {@link CatchUp} instead of being written. After
 * the replay, held pushes at or below the last offset read from the log are dropped (the
 * log already supplied them) and the rest are written in order. Whatever the timing of a
 * concurrent publish — appended before the read, after it, or fanned out in between —
 * each message reaches the session exactly once, in offset order.
 *
 * Messages past their TTL are read but not written. The next push written then names the
 * offset it follows (`after`), so the client does not take the skip for a gap.
 *
 * A resync moves the CatchUp to the stream's head instead: held pushes up to the head are
 * dropped (the resync covers them) and the rest are written, so live delivery continues
 * right after the position the `resync` frame announces.
 */
import {
  EMPTY_EPOCH,
  decodeServerFrame,
  encodeServerFrame,
  type PushFrame,
  type ResyncFrame,
  type ResyncReason,
} from '../protocol/index.js';
import type { LoggedMessage, MessageLog, StreamHead } from '../storage/types.js';

/** What a replay needs of the message log. */
export type ReplaySource = Pick<MessageLog, 'head' | 'read'>;

/** Messages read from the log per round trip while replaying. */
export const REPLAY_BATCH = 256;

interface HeldPush {
  readonly epoch: string;
  readonly offset: number;
  readonly text: string;
}

/** Replay state of one stream of one session. */
export class CatchUp {
  /** Epoch of the client's position; history of another epoch is not replayed. */
  epoch: string;
  /** Highest offset of {@link epoch} the client has (from its position, then from replay). */
  lastSent: number;
  /** Highest offset of {@link epoch} read from the log, written or skipped as expired. */
  lastRead: number;
  readonly held: HeldPush[] = [];
  heldBytes = 0;

  constructor(epoch: string, offset: number) {
    this.epoch = epoch;
    this.lastSent = this.lastRead = offset;
  }

  hold(epoch: string, offset: number, text: string): void {
    this.held.push({ epoch, offset, text });
    this.heldBytes += text.length;
  }

  /** Continue from the stream's head (or from nothing, when it has no history). */
  rebase(head: StreamHead | undefined): void {
    // No epoch is the empty string, which no log assigns: every held push is newer.
    this.epoch = head?.epoch ?? '';
    this.lastSent = this.lastRead = head?.offset ?? 0;
  }
}

export interface ReplayTarget {
  /** Write one push frame; false when the session can no longer take frames. */
  writePush(text: string, encoded: boolean): boolean;
  /** Write a `resync` frame; false when the session can no longer take frames. */
  writeResync(frame: ResyncFrame): boolean;
  /** Is this replay still wanted (session open, stream still subscribed, same CatchUp)? */
  wants(stream: string, catchUp: CatchUp): boolean;
  /** The time TTLs are checked against, in ms since the Unix epoch. */
  now(): number;
}

/**
 * Whether the log can serve everything after a position, judged against the stream's
 * head: `undefined` when it can, otherwise why not.
 */
export function judge(
  position: { readonly epoch: string; readonly offset: number },
  head: StreamHead | undefined,
): ResyncReason | undefined {
  if (position.epoch === EMPTY_EPOCH && position.offset === 0) {
    // "From the beginning": servable while the stream's first message is still retained.
    return head === undefined || head.firstOffset <= 1 ? undefined : 'trimmed';
  }
  if (head === undefined || head.epoch !== position.epoch) return 'epoch_changed';
  if (position.offset > head.offset) return 'ahead';
  if (position.offset < head.firstOffset - 1) return 'trimmed';
  return undefined;
}

/** The replay ended early because the session went away or the replay is no longer wanted. */
const STOPPED = Symbol('stopped');

/**
 * Write the stream's history after `catchUp.lastSent` — or a `resync` when it cannot be
 * served completely — then the live pushes held meanwhile.
 */
export async function replay(
  log: ReplaySource,
  stream: string,
  catchUp: CatchUp,
  target: ReplayTarget,
): Promise<void> {
  let head = await log.head(stream);
  if (!target.wants(stream, catchUp)) return;
  let problem: ResyncReason | typeof STOPPED | undefined = judge(
    { epoch: catchUp.epoch, offset: catchUp.lastSent },
    head,
  );
  if (problem === undefined && head !== undefined) {
    // A position from the beginning continues in the epoch the stream has now.
    if (catchUp.epoch === EMPTY_EPOCH) catchUp.epoch = head.epoch;
    problem = await copy(log, stream, catchUp, target, head.offset);
    if (problem === STOPPED) return;
    if (problem !== undefined) {
      // The head read first is stale by now; the resync names the one that is current.
      head = await log.head(stream);
      if (!target.wants(stream, catchUp)) return;
    }
  }
  if (problem !== undefined) {
    catchUp.rebase(head);
    const frame: ResyncFrame =
      head === undefined
        ? { type: 'resync', stream, reason: problem }
        : { type: 'resync', stream, reason: problem, epoch: head.epoch, offset: head.offset };
    if (!target.writeResync(frame)) return;
  }
  release(catchUp, target);
}

/**
 * Copy history from the log, checking that it is contiguous: retention may drop messages
 * between the head check and the reads, and a replay with a hole must not pass as whole.
 */
async function copy(
  log: ReplaySource,
  stream: string,
  catchUp: CatchUp,
  target: ReplayTarget,
  headOffset: number,
): Promise<ResyncReason | typeof STOPPED | undefined> {
  for (;;) {
    const slice = await log.read(stream, catchUp.lastRead, REPLAY_BATCH);
    if (!target.wants(stream, catchUp)) return STOPPED;
    if (slice === undefined || slice.epoch !== catchUp.epoch) return 'epoch_changed';
    const now = target.now();
    for (const m of slice.messages) {
      if (m.offset !== catchUp.lastRead + 1) return 'trimmed';
      catchUp.lastRead = m.offset;
      if (m.expiresAt !== undefined && m.expiresAt <= now) continue;
      if (!target.writePush(encode(stream, slice.epoch, m, catchUp.lastSent), true)) {
        return STOPPED;
      }
      catchUp.lastSent = m.offset;
    }
    if (slice.messages.length < REPLAY_BATCH) break;
  }
  // Everything up to the head seen before the replay existed then; if the reads stopped
  // short of it, retention removed the rest meanwhile.
  return catchUp.lastRead < headOffset ? 'trimmed' : undefined;
}

/** Write the held live pushes the replay did not cover, in order. */
function release(catchUp: CatchUp, target: ReplayTarget): void {
  for (const push of catchUp.held) {
    // Released from the hold before it is written, so the send-buffer check does not
    // count it twice.
    catchUp.heldBytes -= push.text.length;
    let text = push.text;
    if (push.epoch === catchUp.epoch) {
      if (push.offset <= catchUp.lastRead) continue;
      // The replay skipped expired messages just before this one: say what it follows.
      if (push.offset === catchUp.lastRead + 1 && catchUp.lastSent < catchUp.lastRead) {
        text = withAfter(push.text, catchUp.lastSent);
      }
      catchUp.lastSent = catchUp.lastRead = push.offset;
    }
    if (!target.writePush(text, text !== push.text)) return;
  }
  catchUp.held.length = 0;
}

function encode(stream: string, epoch: string, m: LoggedMessage, lastSent: number): string {
  const frame: PushFrame = {
    type: 'push',
    id: m.id,
    stream,
    epoch,
    offset: m.offset,
    data: m.data,
    publishedAt: m.publishedAt,
  };
  return encodeServerFrame(lastSent === m.offset - 1 ? frame : { ...frame, after: lastSent });
}

/** A shared live push, re-encoded for one session with `after`. */
function withAfter(text: string, after: number): string {
  const frame = decodeServerFrame(text) as PushFrame;
  return encodeServerFrame({ ...frame, after });
}
