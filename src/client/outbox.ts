/**
 * The outbox: every `request` (and `publish`) frame the client owes the gateway, from
 * `send()`, `request()` and `publish()` alike, until its `reply` arrives. A message waits here while the client is
 * not open, is sent once a session opens, and is sent again with the SAME id when the
 * connection drops before the reply (the gateway de-duplicates by id). Sending order is
 * insertion order, after a reconnect too.
 *
 * The outbox is bounded by message count and by the UTF-8 bytes of the encoded frames;
 * a message that does not fit is refused with `OutboxFullError`, never dropped. Every
 * entry ends in exactly one of: reply, failed reply, timeout, too large, client closed.
 */
import {
  FrameTooLargeError,
  OutboxFullError,
  RequestFailedError,
  TimeoutError,
  utf8Length,
  type LifelineError,
  type PublishFrame,
  type ReplyFrame,
  type RequestFrame,
} from '../protocol/index.js';
import { DEV, type Disposer, type Scope } from '../env/index.js';
import { callId } from './options.js';
import { DEFAULT_MAX_FRAME_BYTES } from './outbound.js';
import { encodeClientFrame } from './wire.js';

/** Ids unique for the client's lifetime: a random prefix (unique across clients) and a counter. */
export function idSource(random: () => number): () => string {
  let prefix = '';
  while (prefix.length < 10) prefix += Math.floor(random() * 36).toString(36);
  let counter = 0;
  return () => `${prefix}.${(++counter).toString(36)}`;
}

/** Frames the outbox carries: each is answered by one `reply` with the same id. */
export type OutboxFrame = RequestFrame | PublishFrame;

const requestFrame = (id: string, data: unknown): OutboxFrame => ({ type: 'request', id, data });

/** Where outbox frames go while a session is open. */
export interface OutboxLink {
  /** Hand one frame to the transport; false when it could not be sent. */
  send(text: string): boolean;
  readonly maxFrameBytes: number;
}

/** How an entry's caller learns the outcome. */
export interface Settle {
  resolve(data: unknown): void;
  reject(error: LifelineError): void;
}

interface Entry extends Settle {
  readonly text: string;
  readonly bytes: number;
  sent: boolean;
  readonly cancelTimer: Disposer | null;
}

export interface OutboxOptions {
  /** Most entries (waiting or awaiting their reply) at once. */
  readonly maxMessages: number;
  /** Most UTF-8 bytes of encoded frames held at once. */
  readonly maxBytes: number;
  readonly nextId: () => string;
}

export class Outbox {
  private readonly scope_: Scope;
  private readonly options_: OutboxOptions;
  private readonly entries_ = new Map<string, Entry>();
  private bytes_ = 0;
  private link_: OutboxLink | null = null;
  // The newest limit a gateway announced; checked before queueing so that an oversized
  // message is refused at once instead of after the next `welcome`.
  private maxFrameBytes_ = DEFAULT_MAX_FRAME_BYTES;

  /** Timers belong to `scope`, the client's lifetime. */
  constructor(scope: Scope, options: OutboxOptions) {
    this.scope_ = scope;
    this.options_ = options;
  }

  /**
   * Queue `data` as a `request` frame and send it at once when a session is open.
   * `timeoutMs` (counted from now) removes it unanswered; undefined waits until the reply
   * or the end of the client. Throws, without queueing anything: `ProtocolError` (data
   * that is not JSON), `FrameTooLargeError`, `OutboxFullError`. Returns the frame's id and
   * whether it went out on an open session.
   */
  add(
    data: unknown,
    settle: Settle,
    timeoutMs?: number,
    frame: (id: string, data: unknown) => OutboxFrame = requestFrame,
    chosen?: string,
  ): { id: string; sent: boolean } {
    const id = callId(chosen, (id) => this.entries_.has(id)) ?? this.options_.nextId();
    const text = encodeClientFrame(frame(id, data));
    const bytes = utf8Length(text);
    if (bytes > this.maxFrameBytes_) throw tooLarge(id, bytes, this.maxFrameBytes_);
    const { maxMessages, maxBytes } = this.options_;
    if (this.entries_.size >= maxMessages)
      throw new OutboxFullError(
        DEV
          ? `The outbox is full: ${this.entries_.size} messages (outbox.maxMessages).`
          : 'maxMessages',
      );
    if (this.bytes_ + bytes > maxBytes)
      throw new OutboxFullError(
        DEV
          ? `The outbox is full: ${this.bytes_} + ${bytes} > ${maxBytes} bytes (outbox.maxBytes).`
          : 'maxBytes',
      );
    const cancelTimer =
      timeoutMs === undefined
        ? null
        : this.scope_.setTimeout(() => {
            this.remove_(id, entry);
            entry.reject(
              new TimeoutError(DEV ? `No reply to request ${id} within ${timeoutMs} ms.` : id),
            );
          }, timeoutMs);
    const entry: Entry = {
      text,
      bytes,
      sent: false,
      resolve: settle.resolve,
      reject: settle.reject,
      cancelTimer,
    };
    this.entries_.set(id, entry);
    this.bytes_ += bytes;
    if (this.link_ !== null) this.transmit_(id, entry, this.link_);
    return { id, sent: entry.sent };
  }

  /** A session opened: send everything not sent on it yet, in order. */
  attach(link: OutboxLink): void {
    this.link_ = link;
    this.maxFrameBytes_ = link.maxFrameBytes;
    for (const [id, entry] of this.entries_) {
      if (this.link_ !== link) return; // a failed send ended the session
      if (!entry.sent) this.transmit_(id, entry, link);
    }
  }

  /** The session ended: nothing in flight will be answered on it; send again on the next. */
  detach(): void {
    this.link_ = null;
    for (const entry of this.entries_.values()) entry.sent = false;
  }

  /** Settle the entry `reply` answers. Returns false when no entry has that id. */
  settle(reply: ReplyFrame): boolean {
    const entry = this.entries_.get(reply.id);
    if (entry === undefined) return false;
    this.remove_(reply.id, entry);
    if (reply.ok) entry.resolve(reply.data);
    else
      entry.reject(
        new RequestFailedError(
          reply.error.code,
          DEV ? `The gateway refused the request: ${reply.error.message}` : reply.error.message,
        ),
      );
    return true;
  }

  /** End every entry with `error` (the client closed or failed). */
  rejectAll(error: LifelineError): void {
    const all = [...this.entries_.entries()];
    for (const [id, entry] of all) this.remove_(id, entry);
    for (const [, entry] of all) entry.reject(error);
  }

  private transmit_(id: string, entry: Entry, link: OutboxLink): void {
    // Another gateway may announce a smaller limit than the one the entry was checked against.
    if (entry.bytes > link.maxFrameBytes) {
      this.remove_(id, entry);
      entry.reject(tooLarge(id, entry.bytes, link.maxFrameBytes));
      return;
    }
    entry.sent = link.send(entry.text);
  }

  private remove_(id: string, entry: Entry): void {
    if (this.entries_.get(id) !== entry) return;
    entry.cancelTimer?.();
    this.entries_.delete(id);
    this.bytes_ -= entry.bytes;
  }
}

function tooLarge(id: string, bytes: number, max: number): FrameTooLargeError {
  return new FrameTooLargeError(
    DEV ? `Message ${id} is ${bytes} bytes; the gateway accepts at most ${max}.` : id,
  );
}
