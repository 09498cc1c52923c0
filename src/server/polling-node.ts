/**
 * One gateway node's part in HTTP long-polling (PROTOCOL.md §11.6), without HTTP: the
 * sessions this node owns, the `GET`s it holds, and its side of the store — its heartbeat,
 * frames other nodes forwarded to its sessions, and the end of sessions whose owner went
 * silent. `src/adapters/polling-http.ts` turns requests into calls of this class.
 */
import { Scope } from '../env/index.js';
import {
  CLOSE_REASON,
  CloseCode,
  encodeServerFrame,
  utf8Length,
  type CloseCode as CloseCodeType,
} from '../protocol/index.js';
import type { PollingForward, PollingStore, PollingTake } from '../storage/polling.js';
import type { GatewayCore } from './gateway.js';
import { PollingSession } from './polling-session.js';
import type { ConnectionInfo } from './types.js';

export interface PollingNodeOptions {
  readonly store: PollingStore;
  /** Close the store with the node: it was made for this node alone. */
  readonly ownStore: boolean;
  /** This node's name in the store. */
  readonly id: string;
  /** How often to look in the store for what other nodes did, in ms. */
  readonly crossNodeCheckMs: number;
  /** A node silent in the store for this long is gone, in ms. */
  readonly nodeTimeoutMs: number;
}

export class PollingNode {
  readonly store: PollingStore;
  /** Settles once the node's first heartbeat was tried (a failure is logged). */
  readonly ready: Promise<void>;
  readonly #core: GatewayCore;
  readonly #options: PollingNodeOptions;
  readonly #scope: Scope;
  /** The sessions this node runs. */
  readonly #owned = new Map<string, PollingSession>();
  /** `GET`s held on this node, by session id: call to re-check the store. */
  readonly #held = new Map<string, () => void>();
  /** When other nodes last beat, as last read. */
  readonly #seen = new Map<string, number>();
  #lastBeat = -Infinity;
  #closed = false;

  constructor(core: GatewayCore, options: PollingNodeOptions) {
    this.#core = core;
    this.#options = options;
    this.store = options.store;
    this.#scope = new Scope(core.options.clock);
    // A store that fails here fails each open request again (500), not the process.
    this.ready = this.#beat().catch((error: unknown) => {
      core.options.logger.error({ err: error }, 'polling store heartbeat failed');
    });
    this.#schedule();
  }

  /** Sessions this node runs. */
  get sessions(): number {
    return this.#owned.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Create a session owned by this node, hand it to the core and give it its `hello`.
   * The caller then {@link collect}s the first frames, as a `GET` would.
   */
  async open(id: string, info: ConnectionInfo, hello: string): Promise<void> {
    const { clock, handshakeTimeoutMs, idleTimeoutMs, logger } = this.#core.options;
    const now = clock.now();
    await this.ready;
    await this.store.create(id, this.#options.id, now);
    // The open request waits for the first frames like a GET.
    await this.store.beginGet(id, now, now + handshakeTimeoutMs + GET_MARK_SLACK_MS);
    const session = new PollingSession({
      id,
      info,
      store: this.store,
      clock,
      logger,
      scope: this.#scope.child(),
      idleTimeoutMs,
      wrote: (sid) => this.#held.get(sid)?.(),
      gone: (s) => {
        if (this.#owned.get(s.id) === s) this.#owned.delete(s.id);
      },
    });
    this.#owned.set(id, session);
    session.handler = this.#core.accept(session);
    session.handler.message(hello, utf8Length(hello));
  }

  /**
   * Wait up to `ms` for frames of session `id` (or its end), then take them; `undefined`
   * when `signal` aborted first (the client went away: the frames stay for its next `GET`).
   */
  async collect(id: string, ms: number, signal: AbortSignal): Promise<PollingTake | undefined> {
    const { clock } = this.#core.options;
    const deadline = clock.now() + ms;
    let current: { cancel(): void } | undefined;
    const onAbort = (): void => current?.cancel();
    signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        // Listen before looking, so a write in between is not missed.
        const waiting = this.#hold(id, Math.max(0, deadline - clock.now()));
        current = waiting;
        const record = await this.store.get(id);
        if (record === undefined || record.queued || record.ended || signal.aborted) {
          waiting.cancel();
        } else if (record.node !== this.#options.id && !(await this.#alive(record.node))) {
          await this.store.abandon(id, GONE_FRAME, clock.now());
          waiting.cancel();
        }
        const woken = await waiting.promise;
        if (signal.aborted) {
          await this.store.endGet(id, clock.now());
          return undefined;
        }
        if (!woken) break;
      }
      const taken = await this.store.take(id, clock.now());
      this.#owned.get(id)?.taken();
      return taken;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Hand client frames to session `id`: at once on its owner (after frames posted earlier
   * through other nodes), else through the store. False when the session is gone.
   */
  async post(id: string, frames: readonly string[]): Promise<boolean> {
    if (this.#owned.has(id)) await this.#drainForwarded();
    const session = this.#owned.get(id);
    if (session === undefined) return this.store.forward(id, { kind: 'frames', frames });
    deliver(session, { kind: 'frames', frames });
    return true;
  }

  /** End session `id` from the transport, on whichever node runs it (1000: the client left). */
  async end(id: string, code: CloseCodeType): Promise<void> {
    const session = this.#owned.get(id);
    if (session !== undefined) deliver(session, { kind: 'end', code });
    else await this.store.forward(id, { kind: 'end', code });
  }

  /** Answer held `GET`s, end this node's sessions, stop its timers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const sessions = [...this.#owned.values()];
    for (const session of sessions) session.terminate();
    await Promise.all(sessions.map((session) => session.flushed()));
    // Held GETs take what the sessions wrote last (their close frames) and answer.
    for (const wake of [...this.#held.values()]) wake();
    this.#scope.dispose();
    if (this.#options.ownStore) await this.store.close();
  }

  // ---------------------------------------------------------------- internals

  /**
   * Resolve with true when the session may have frames (a write on this node, or the
   * cross-node check), with false after `ms` or on `cancel`. One waiter per session on a
   * node: the store refuses a second `GET` first.
   */
  #hold(id: string, ms: number): { readonly promise: Promise<boolean>; cancel(): void } {
    let done: (woken: boolean) => void = () => {};
    const promise = new Promise<boolean>((resolve) => (done = resolve));
    const finish = (woken: boolean): void => {
      cancelTimer();
      if (this.#held.get(id) === wake) this.#held.delete(id);
      done(woken);
    };
    const wake = (): void => finish(true);
    const cancelTimer = this.#scope.setTimeout(() => finish(false), ms);
    this.#held.set(id, wake);
    return { promise, cancel: () => finish(false) };
  }

  async #beat(): Promise<void> {
    const now = this.#core.options.clock.now();
    const { idleTimeoutMs } = this.#core.options;
    this.#lastBeat = now;
    await this.store.heartbeat(this.#options.id, now);
    // Sessions that ended unseen, and nodes (with their sessions) long gone.
    await this.store.sweep(now - idleTimeoutMs, now - 3 * this.#options.nodeTimeoutMs);
  }

  #schedule(): void {
    this.#scope.setTimeout(() => {
      void this.#tick().finally(() => {
        if (!this.#closed) this.#schedule();
      });
    }, this.#options.crossNodeCheckMs);
  }

  /** One check: the heartbeat when due, forwarded frames, GETs held for other nodes' sessions. */
  async #tick(): Promise<void> {
    if (this.#closed) return;
    try {
      const now = this.#core.options.clock.now();
      if (now - this.#lastBeat >= this.#options.nodeTimeoutMs / 4) await this.#beat();
      // Nothing is forwarded to a node that owns no session: no query on an idle gateway.
      if (this.#owned.size > 0) await this.#drainForwarded();
      for (const [id, wake] of this.#held) if (!this.#owned.has(id)) wake();
    } catch (error) {
      this.#core.options.logger.error({ err: error }, 'polling store check failed');
    }
  }

  async #drainForwarded(): Promise<void> {
    for (const { id, item } of await this.store.takeForwarded(this.#options.id)) {
      const session = this.#owned.get(id);
      if (session !== undefined) deliver(session, item);
    }
  }

  /** Whether `node` beat within `nodeTimeoutMs`; a fresh enough reading is reused. */
  async #alive(node: string): Promise<boolean> {
    const now = this.#core.options.clock.now();
    const { nodeTimeoutMs, crossNodeCheckMs } = this.#options;
    const known = this.#seen.get(node);
    if (known !== undefined && now - known < nodeTimeoutMs - crossNodeCheckMs) return true;
    const at = await this.store.nodeSeenAt(node);
    if (at === undefined) return false;
    this.#seen.set(node, at);
    return now - at < nodeTimeoutMs;
  }
}

/** How long past its hold a `GET` mark outlives a node that died while holding it, in ms. */
export const GET_MARK_SLACK_MS = 5_000;

/** What a session whose owner went silent ends with: the client resumes elsewhere. */
const GONE_FRAME = encodeServerFrame({
  type: 'close',
  code: CloseCode.SHUTTING_DOWN,
  reason: CLOSE_REASON[CloseCode.SHUTTING_DOWN],
});

function deliver(session: PollingSession, item: PollingForward): void {
  if (item.kind === 'end') {
    if (item.code === CloseCode.NORMAL) session.leave();
    else session.fail(item.code as CloseCodeType);
    return;
  }
  for (const text of item.frames) {
    if (session.ended) break;
    // Each frame is checked by the core as it would be on WebSocket (size 4002, shape 4000).
    session.handler.message(text, utf8Length(text));
  }
}
