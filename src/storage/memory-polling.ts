/**
 * A {@link PollingStore} in this process's memory: the default. Every node that shares it
 * has to run in this process, so in practice it serves one gateway; a deployment of
 * several nodes shares the SQLite store (one machine) or a networked one.
 */
import type {
  ForwardedToSession,
  PollingBegin,
  PollingForward,
  PollingSessionRecord,
  PollingStore,
  PollingTake,
} from './polling.js';

interface Entry {
  readonly id: string;
  readonly node: string;
  readonly openedAt: number;
  polledAt: number;
  getUntil: number;
  postUntil: number;
  frames: string[];
  bytes: number;
  endedAt: number;
  forwarded: PollingForward[];
}

const NO_FRAMES: PollingTake = { frames: [], last: false };

function recordOf(e: Entry): PollingSessionRecord {
  return {
    id: e.id,
    node: e.node,
    openedAt: e.openedAt,
    polledAt: e.polledAt,
    getUntil: e.getUntil,
    postUntil: e.postUntil,
    queuedBytes: e.bytes,
    queued: e.frames.length > 0,
    ended: e.endedAt > 0,
    endedAt: e.endedAt,
  };
}

export function createMemoryPollingStore(): PollingStore {
  const sessions = new Map<string, Entry>();
  const nodes = new Map<string, number>();
  // Ids of sessions with forwarded items, in the order the first one arrived.
  const pending = new Set<string>();

  function begin(e: Entry | undefined, busyUntil: number, now: number): PollingBegin {
    if (e === undefined || (e.endedAt > 0 && e.frames.length === 0)) return 'gone';
    return busyUntil > now ? 'busy' : 'ok';
  }

  return {
    async heartbeat(node, now) {
      nodes.set(node, now);
    },
    async nodeSeenAt(node) {
      return nodes.get(node);
    },
    async create(id, node, now) {
      sessions.set(id, {
        id,
        node,
        openedAt: now,
        polledAt: now,
        getUntil: 0,
        postUntil: 0,
        frames: [],
        bytes: 0,
        endedAt: 0,
        forwarded: [],
      });
    },
    async get(id) {
      const e = sessions.get(id);
      return e === undefined ? undefined : recordOf(e);
    },
    async write(id, frames, bytes, end, now) {
      const e = sessions.get(id);
      if (e === undefined || e.endedAt > 0) return undefined;
      for (const frame of frames) e.frames.push(frame);
      e.bytes += bytes;
      if (end) e.endedAt = now;
      return e.bytes;
    },
    async abandon(id, closeFrame, now) {
      const e = sessions.get(id);
      if (e === undefined || e.endedAt > 0) return false;
      e.frames.push(closeFrame);
      e.endedAt = now;
      return true;
    },
    async beginGet(id, now, until) {
      const e = sessions.get(id);
      const answer = begin(e, e?.getUntil ?? 0, now);
      if (answer === 'ok' && e !== undefined) {
        e.getUntil = until;
        e.polledAt = now;
      }
      return answer;
    },
    async take(id, now) {
      const e = sessions.get(id);
      if (e === undefined) return NO_FRAMES;
      const frames = e.frames;
      e.frames = [];
      e.bytes = 0;
      e.getUntil = 0;
      e.polledAt = now;
      const last = e.endedAt > 0;
      if (last) {
        sessions.delete(id);
        pending.delete(id);
      }
      return { frames, last };
    },
    async endGet(id, now) {
      const e = sessions.get(id);
      if (e === undefined) return;
      e.getUntil = 0;
      e.polledAt = now;
    },
    async beginPost(id, now, until) {
      const e = sessions.get(id);
      const answer = begin(e, e?.postUntil ?? 0, now);
      if (answer === 'ok' && e !== undefined) e.postUntil = until;
      return answer;
    },
    async endPost(id) {
      const e = sessions.get(id);
      if (e !== undefined) e.postUntil = 0;
    },
    async forward(id, item) {
      const e = sessions.get(id);
      if (e === undefined || e.endedAt > 0) return false;
      e.forwarded.push(item);
      pending.add(id);
      return true;
    },
    async takeForwarded(node) {
      const out: ForwardedToSession[] = [];
      for (const id of pending) {
        const e = sessions.get(id);
        if (e === undefined) {
          pending.delete(id);
          continue;
        }
        if (e.node !== node) continue;
        for (const item of e.forwarded) out.push({ id, item });
        e.forwarded = [];
        pending.delete(id);
      }
      return out;
    },
    async delete(id) {
      sessions.delete(id);
      pending.delete(id);
    },
    async sweep(endedBefore, nodesSeenBefore) {
      let forgotten = 0;
      for (const [node, seen] of nodes) if (seen < nodesSeenBefore) nodes.delete(node);
      for (const [id, e] of sessions) {
        const ownerGone = !nodes.has(e.node);
        if ((e.endedAt > 0 && e.endedAt < endedBefore) || ownerGone) {
          sessions.delete(id);
          pending.delete(id);
          forgotten += 1;
        }
      }
      return forgotten;
    },
    async close() {},
  };
}
