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
  encodeClientFrame,
  type LifelineError,
  type ReplyFrame,
  type StreamPosition,
} from '../protocol/index.js';
import type { Disposer, Scope } from '../env/index.js';

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
  readonly #scope: Scope;
  readonly #link: GapRepairLink;
  readonly #nextId: () => string;
  readonly #timeoutMs: number;
  // Frame id → the repair its reply ends.
  #byId = new Map<string, Repair>();
  #streams = new Set<string>();

  /** `scope` is the session's: repairs end with it. */
  constructor(scope: Scope, link: GapRepairLink, nextId: () => string, timeoutMs: number) {
    this.#scope = scope;
    this.#link = link;
    this.#nextId = nextId;
    this.#timeoutMs = timeoutMs;
  }

  /** Ask for everything after `from` (the last position delivered), unless already asked. */
  start(from: StreamPosition): void {
    const { stream } = from;
    if (this.#streams.has(stream)) return;
    const id = this.#nextId();
    const cancel = this.#scope.setTimeout(() => {
      this.#end(id);
      this.#link.broken(
        new TimeoutError(
          `The gateway did not repair a gap in "${stream}" within ${this.#timeoutMs} ms.`,
          { closeCode: CloseCode.NORMAL },
        ),
      );
    }, this.#timeoutMs);
    this.#byId.set(id, { stream, cancel });
    this.#streams.add(stream);
    this.#link.send(encodeClientFrame({ type: 'resume', id, positions: [from] }));
  }

  /** Handle the reply to a `resume`. Returns false when the id is not one of ours. */
  settle(reply: ReplyFrame): boolean {
    const repair = this.#end(reply.id);
    if (repair === undefined) return false;
    if (!reply.ok) {
      this.#link.broken(
        new RequestFailedError(
          reply.error.code,
          `The gateway refused to repair a gap in "${repair.stream}": ${reply.error.message}`,
          { closeCode: CloseCode.NORMAL },
        ),
      );
    }
    return true;
  }

  #end(id: string): Repair | undefined {
    const repair = this.#byId.get(id);
    if (repair === undefined) return undefined;
    this.#byId.delete(id);
    this.#streams.delete(repair.stream);
    repair.cancel();
    return repair;
  }
}
