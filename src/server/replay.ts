/**
 * Catching a session up on a stream from a position it already has (`hello.resume`,
 * `subscribe.from`), without a gap or a duplicate where history meets live traffic.
 *
 * The session is listed as a receiver of the stream *before* the log is read, and live
 * pushes for that stream are held in a {@link CatchUp} instead of being written. After
 * the replay, held pushes at or below the last replayed offset are dropped (the log
 * already supplied them) and the rest are written in order. Whatever the timing of a
 * concurrent publish — appended before the read, after it, or fanned out in between —
 * each message reaches the session exactly once, in offset order.
 */
import { encodeServerFrame } from '../protocol/index.js';
import type { MessageLog } from '../storage/types.js';

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
  readonly epoch: string;
  /** Highest offset of {@link epoch} the client has (from its position, then from replay). */
  lastSent: number;
  readonly held: HeldPush[] = [];
  heldBytes = 0;

  constructor(epoch: string, offset: number) {
    this.epoch = epoch;
    this.lastSent = offset;
  }

  hold(epoch: string, offset: number, text: string): void {
    this.held.push({ epoch, offset, text });
    this.heldBytes += text.length;
  }
}

export interface ReplayTarget {
  /** Write one push frame; false when the session can no longer take frames. */
  writePush(text: string, encoded: boolean): boolean;
  /** Is this replay still wanted (session open, stream still subscribed, same CatchUp)? */
  wants(stream: string, catchUp: CatchUp): boolean;
}

/**
 * Write the stream's history after `catchUp.lastSent`, then the live pushes held
 * meanwhile. A position of an epoch the log no longer has replays nothing: PROTOCOL.md
 * §4 says such a position is treated as absent.
 */
export async function replay(
  log: MessageLog,
  stream: string,
  catchUp: CatchUp,
  target: ReplayTarget,
): Promise<void> {
  for (;;) {
    const slice = await log.read(stream, catchUp.lastSent, REPLAY_BATCH);
    if (!target.wants(stream, catchUp)) return;
    if (slice === undefined || slice.epoch !== catchUp.epoch) break;
    for (const m of slice.messages) {
      const text = encodeServerFrame({
        type: 'push',
        id: m.id,
        stream,
        epoch: slice.epoch,
        offset: m.offset,
        data: m.data,
        publishedAt: m.publishedAt,
      });
      if (!target.writePush(text, true)) return;
      catchUp.lastSent = m.offset;
    }
    if (slice.messages.length < REPLAY_BATCH) break;
  }
  for (const push of catchUp.held) {
    // Released from the hold before it is written, so the send-buffer check does not
    // count it twice.
    catchUp.heldBytes -= push.text.length;
    if (push.epoch === catchUp.epoch && push.offset <= catchUp.lastSent) continue;
    if (!target.writePush(push.text, false)) return;
  }
  catchUp.held.length = 0;
}
