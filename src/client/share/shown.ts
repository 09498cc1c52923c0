/**
 * What a tab has shown of each stream: the position of the last message it handed to its
 * listeners. A new leader replays from its checkpoint, and every tab drops, by position,
 * what it already showed.
 */
import type { StreamPosition } from '../../protocol/index.js';
import type { PushMessage, ResyncEvent } from '../types.js';

export type Shown = Map<string, { epoch: string; offset: number }>;

/** Whether `m` is past what this tab showed of its stream; if so it is now the last one. */
export function fresh(last: Shown, m: PushMessage): boolean {
  const seen = last.get(m.stream);
  if (seen !== undefined && seen.epoch === m.epoch && m.offset <= seen.offset) return false;
  last.set(m.stream, { epoch: m.epoch, offset: m.offset });
  return true;
}

/** Apply a resync; false when this tab is already at or past its position (a replayed one). */
export function moved(last: Shown, r: ResyncEvent): boolean {
  const seen = last.get(r.stream);
  const p: StreamPosition | undefined = r.position;
  if (p === undefined) return last.delete(r.stream) || seen === undefined;
  if (seen !== undefined && seen.epoch === p.epoch && seen.offset >= p.offset) return false;
  last.set(r.stream, { epoch: p.epoch, offset: p.offset });
  return true;
}
