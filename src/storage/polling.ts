/**
 * Where HTTP long-polling sessions live (PROTOCOL.md §11.6). Every request of a polling
 * session — the held `GET`, a `POST` of client frames, the closing `DELETE` — can be
 * answered by any gateway node that shares the store: the frames written to a session wait
 * here for its next `GET`, and frames posted to a node that does not run the session wait
 * here for the node that does.
 *
 * One node **owns** each session: it runs the gateway session (identity, subscriptions,
 * catch-up) and is the only writer of its outbound frames. Nodes prove they are alive by
 * {@link PollingStore.heartbeat}; a session whose owner stopped beating is ended by the
 * first node that notices, and its client resumes on a new session like a WebSocket client
 * whose node died.
 *
 * Every method is asynchronous so that a networked store fits the same seam; the memory
 * and SQLite implementations answer at once.
 */

/** Why a request could not start. */
export type PollingBegin = 'ok' | 'busy' | 'gone';

/** A session as the store keeps it. */
export interface PollingSessionRecord {
  readonly id: string;
  /** The node running the gateway session. */
  readonly node: string;
  /** When the session was created (ms since the Unix epoch). */
  readonly openedAt: number;
  /** When a `GET` last began or ended. */
  readonly polledAt: number;
  /** A `GET` is in flight until this time (0: none). */
  readonly getUntil: number;
  /** A `POST` is in flight until this time (0: none). */
  readonly postUntil: number;
  /** Bytes of the frames written and not yet taken. */
  readonly queuedBytes: number;
  /** Frames are waiting for a `GET`. */
  readonly queued: boolean;
  /** The session ended: its last frames (ending with `close`, if any) are queued. */
  readonly ended: boolean;
  /** When the session ended (0: open). */
  readonly endedAt: number;
}

/** What a `GET` takes. */
export interface PollingTake {
  /** Encoded server frames, oldest first. */
  readonly frames: readonly string[];
  /** The session ended and these were its last frames: the store forgot it. */
  readonly last: boolean;
}

/** Something a non-owner node passes to a session's owner. */
export type PollingForward =
  | { readonly kind: 'frames'; readonly frames: readonly string[] }
  /** End the session with `code` (an overlapping request, a bad body, `DELETE` as 1000). */
  | { readonly kind: 'end'; readonly code: number };

/** A {@link PollingForward} addressed to one session. */
export interface ForwardedToSession {
  readonly id: string;
  readonly item: PollingForward;
}

export interface PollingStore {
  /** Record that `node` is alive at `now`. */
  heartbeat(node: string, now: number): Promise<void>;
  /** When `node` last beat; `undefined` for a node never seen (or gone for long). */
  nodeSeenAt(node: string): Promise<number | undefined>;
  /** Create a session owned by `node`. */
  create(id: string, node: string, now: number): Promise<void>;
  get(id: string): Promise<PollingSessionRecord | undefined>;
  /**
   * Append frames the owner wrote, in order; with `end`, the session ends after them.
   * Resolves to the bytes now queued, or `undefined` when the session is gone or already
   * ended (the frames are dropped: the owner must forget the session).
   */
  write(
    id: string,
    frames: readonly string[],
    bytes: number,
    end: boolean,
    now: number,
  ): Promise<number | undefined>;
  /**
   * End a session whose owner is gone: queue `closeFrame` as its last frame. Resolves to
   * false when it was gone or had ended already.
   */
  abandon(id: string, closeFrame: string, now: number): Promise<boolean>;
  /**
   * Mark a `GET` in flight until `until`. `busy` when one already is, `gone` when the
   * session does not exist or ended with nothing left to take.
   */
  beginGet(id: string, now: number, until: number): Promise<PollingBegin>;
  /**
   * Take every queued frame and clear the `GET` mark. After the last frames of an ended
   * session, the session is forgotten.
   */
  take(id: string, now: number): Promise<PollingTake>;
  /** Clear the `GET` mark without taking (the client gave up on the request). */
  endGet(id: string, now: number): Promise<void>;
  /** Mark a `POST` in flight until `until`; `busy` or `gone` as for {@link beginGet}. */
  beginPost(id: string, now: number, until: number): Promise<PollingBegin>;
  endPost(id: string): Promise<void>;
  /** Pass `item` to the session's owner. False when the session is gone or ended. */
  forward(id: string, item: PollingForward): Promise<boolean>;
  /** Take, oldest first, what was forwarded to the sessions `node` owns. */
  takeForwarded(node: string): Promise<readonly ForwardedToSession[]>;
  /** Forget a session and everything queued for it. */
  delete(id: string): Promise<void>;
  /**
   * Forget sessions that ended before `endedBefore` (their client never took the `close`
   * frame), and nodes last seen before `nodesSeenBefore` together with the sessions they
   * owned. Resolves to the number of sessions forgotten.
   */
  sweep(endedBefore: number, nodesSeenBefore: number): Promise<number>;
  /** Release what the store holds (connections); the data stays for other nodes. */
  close(): Promise<void>;
}
