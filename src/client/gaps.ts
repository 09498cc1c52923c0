/**
 * Live gap repair for one open session (PROTOCOL.md §10.3). When a push skips offsets, the
 * client asks the gateway to replay the stream from its last position with a `resume`
 * frame, at most one per stream at a time. An error reply or no reply in time means the
 * session cannot repair itself; the client then reconnects, and `hello.resume` repairs.
 */
import {
  RequestFailedError,
  TimeoutError,
  CloseCode,
  type LifelineError,
  type ReplyFrame,
  type StreamPosition,
} from '../protocol/index.js';
import { DEV, type Disposer, type Scope } from '../env/index.js';
import { encodeClientFrame } from './wire.js';

export interface GapRepairLink {
  send(text: string): boolean;
  /** The session cannot repair a gap: drop it and reconnect. */
  broken(error: LifelineError): void;
}

interface Repair {
  readonly stream: string;
  readonly cancel: Disposer;
}

export class GapRepair {
  private readonly scope_: Scope;
  private readonly link_: GapRepairLink;
  private readonly nextId_: () => string;
  private readonly timeoutMs_: number;
  // Frame id → the repair its reply ends.
  private byId_ = new Map<string, Repair>();
  private streams_ = new Set<string>();

  /** `scope` is the session's: repairs end with it. */
  constructor(scope: Scope, link: GapRepairLink, nextId: () => string, timeoutMs: number) {
    this.scope_ = scope;
    this.link_ = link;
    this.nextId_ = nextId;
    this.timeoutMs_ = timeoutMs;
  }

  /** Ask for everything after `from` (the last position delivered), unless already asked. */
  start(from: StreamPosition): void {
    const { stream } = from;
    if (this.streams_.has(stream)) return;
    const id = this.nextId_();
    const cancel = this.scope_.setTimeout(() => {
      this.end_(id);
      this.link_.broken(
        new TimeoutError(
          DEV
            ? `The gateway did not repair a gap in "${stream}" within ${this.timeoutMs_} ms.`
            : stream,
          { closeCode: CloseCode.NORMAL },
        ),
      );
    }, this.timeoutMs_);
    this.byId_.set(id, { stream, cancel });
    this.streams_.add(stream);
    this.link_.send(encodeClientFrame({ type: 'resume', id, positions: [from] }));
  }

  /** Handle the reply to a `resume`. Returns false when the id is not one of ours. */
  settle(reply: ReplyFrame): boolean {
    const repair = this.end_(reply.id);
    if (repair === undefined) return false;
    if (!reply.ok) {
      this.link_.broken(
        new RequestFailedError(
          reply.error.code,
          DEV
            ? `The gateway refused to repair a gap in "${repair.stream}": ${reply.error.message}`
            : repair.stream,
          { closeCode: CloseCode.NORMAL },
        ),
      );
    }
    return true;
  }

  private end_(id: string): Repair | undefined {
    const repair = this.byId_.get(id);
    if (repair === undefined) return undefined;
    this.byId_.delete(id);
    this.streams_.delete(repair.stream);
    repair.cancel();
    return repair;
  }
}
