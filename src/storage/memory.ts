/**
 * The in-memory {@link MessageLog}: history lives as long as the process. Each stream gets
 * a fresh random epoch the first time it is appended to, so positions a client kept from
 * a previous process are never mistaken for positions in this one.
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../env/index.js';
import { InvalidOptionError, type StreamPosition } from '../protocol/index.js';
import { createMemoryRecords } from './memory-records.js';
import { checkPublish, loggedMessage, publishRecord } from './publish-check.js';
import {
  DEFAULT_RETENTION_MAX_AGE_MS,
  DEFAULT_RETENTION_MAX_MESSAGES,
  type LoggedMessage,
  type LogMessage,
  type LogPosition,
  type LogPublish,
  type LogPublished,
  type LogSlice,
  type MessageLog,
  type PublishRecord,
  type RecordRetentionOptions,
  type RetentionOptions,
  type StreamHead,
} from './types.js';

export interface MemoryLogOptions {
  /** How many messages, and for how long, each stream keeps. */
  readonly retention?: RetentionOptions;
  /**
   * How many publish records, and for how long, the log keeps (idempotency keys, status).
   * @default { maxAgeMs: 86_400_000, maxCount: 100_000 }
   */
  readonly records?: RecordRetentionOptions;
  /** Clock used for age-based retention. @default the system clock */
  readonly clock?: Clock;
}

interface StreamState {
  readonly epoch: string;
  /** Offset of the newest message ever appended (0 before the first). */
  last: number;
  /** Retained messages live in `entries[start..]`; dropping one is `start++`, not a shift. */
  entries: LoggedMessage[];
  start: number;
  /** Offsets of `requireAck` messages, ascending; may still list dropped ones. */
  required: number[];
}

/** Dropped slots are reclaimed in one copy once they are this many and half the array. */
const COMPACT_MIN_DROPPED = 1024;

function limit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const ok = value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value > 0);
  if (!ok) {
    throw new InvalidOptionError(
      `retention.${name} must be a positive integer or Infinity, got ${String(value)}.`,
    );
  }
  return value;
}

/** Create an in-memory message log. */
export function createMemoryLog(options: MemoryLogOptions = {}): MessageLog {
  const clock = options.clock ?? systemClock;
  const maxMessages = limit(
    options.retention?.maxMessages,
    DEFAULT_RETENTION_MAX_MESSAGES,
    'maxMessages',
  );
  const maxAgeMs = limit(options.retention?.maxAgeMs, DEFAULT_RETENTION_MAX_AGE_MS, 'maxAgeMs');
  const streams = new Map<string, StreamState>();
  const records = createMemoryRecords(clock, options.records);

  function retained(state: StreamState): number {
    return state.entries.length - state.start;
  }

  /** Drop what retention no longer allows; returns how many messages were dropped. */
  function enforce(state: StreamState): number {
    const before = state.start;
    const excess = retained(state) - maxMessages;
    if (excess > 0) state.start += excess;
    const oldest = clock.now() - maxAgeMs;
    while (state.start < state.entries.length) {
      const entry = state.entries[state.start];
      if (entry === undefined || entry.publishedAt > oldest) break;
      state.start++;
    }
    const dropped = state.start - before;
    if (state.start >= COMPACT_MIN_DROPPED && state.start * 2 >= state.entries.length) {
      state.entries = state.entries.slice(state.start);
      state.start = 0;
      const first = firstOffset(state);
      state.required = state.required.filter((offset) => offset >= first);
    }
    return dropped;
  }

  function firstOffset(state: StreamState): number {
    return state.last - retained(state) + 1;
  }

  /** The stored message at `offset`, which must be retained. */
  function at(state: StreamState, offset: number): LoggedMessage | undefined {
    return state.entries[state.start + offset - firstOffset(state)];
  }

  function appendTo(stream: string, message: LogMessage): StreamPosition {
    let state = streams.get(stream);
    if (state === undefined) {
      state = { epoch: randomUUID(), last: 0, entries: [], start: 0, required: [] };
      streams.set(stream, state);
    }
    state.last += 1;
    state.entries.push(loggedMessage(message, state.last));
    if (message.requireAck === true) state.required.push(state.last);
    enforce(state);
    return { stream, epoch: state.epoch, offset: state.last };
  }

  function publish(entry: LogPublish): LogPublished {
    const { message, idempotency } = entry;
    if (idempotency !== undefined) {
      const earlier = records.byKey(idempotency.key, idempotency.since);
      if (earlier !== undefined) return { duplicate: true, record: earlier };
    }
    const positions = entry.streams.map((stream) => appendTo(stream, message));
    const record = publishRecord(message, positions, idempotency);
    records.add(record);
    return { duplicate: false, record };
  }

  function checkLimit(max: number): Error | undefined {
    return Number.isSafeInteger(max) && max >= 1
      ? undefined
      : new RangeError(`limit must be a positive integer, got ${max}`);
  }

  return {
    publish(entry: LogPublish): Promise<LogPublished> {
      const problem = checkPublish(entry);
      if (problem !== undefined) return Promise.reject(problem);
      return Promise.resolve(publish(entry));
    },

    append(stream: string, message: LogMessage): Promise<LogPosition> {
      const problem = checkPublish({ streams: [stream], message });
      if (problem !== undefined) return Promise.reject(problem);
      const { epoch, offset } = publish({ streams: [stream], message }).record
        .positions[0] as StreamPosition;
      return Promise.resolve({ epoch, offset });
    },

    lookup(id: string): Promise<PublishRecord | undefined> {
      const record = records.byId(id);
      if (record === undefined) return Promise.resolve(undefined);
      // Only the streams that still retain the message, like the SQLite log.
      const positions = record.positions.filter((p) => {
        const state = streams.get(p.stream);
        if (state === undefined || state.epoch !== p.epoch) return false;
        enforce(state);
        return p.offset >= firstOffset(state);
      });
      if (positions.length === 0) return Promise.resolve(undefined);
      const { idempotencyKey: _key, fingerprint: _fingerprint, ...found } = record;
      return Promise.resolve({ ...found, positions });
    },

    read(stream: string, afterOffset: number, max: number): Promise<LogSlice | undefined> {
      const problem = checkLimit(max);
      if (problem !== undefined) return Promise.reject(problem);
      const state = streams.get(stream);
      if (state === undefined) return Promise.resolve(undefined);
      enforce(state);
      const from = state.start + Math.max(0, afterOffset + 1 - firstOffset(state));
      const messages = state.entries.slice(from, from + max);
      return Promise.resolve({ epoch: state.epoch, messages });
    },

    readRequiringAck(stream, afterOffset, max): Promise<LogSlice | undefined> {
      const problem = checkLimit(max);
      if (problem !== undefined) return Promise.reject(problem);
      const state = streams.get(stream);
      if (state === undefined) return Promise.resolve(undefined);
      enforce(state);
      const after = Math.max(afterOffset, firstOffset(state) - 1);
      const messages: LoggedMessage[] = [];
      // Binary search: the first listed offset above `after`.
      let lo = 0;
      let hi = state.required.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((state.required[mid] as number) <= after) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < state.required.length && messages.length < max; i++) {
        const found = at(state, state.required[i] as number);
        if (found !== undefined) messages.push(found);
      }
      return Promise.resolve({ epoch: state.epoch, messages });
    },

    head(stream: string): Promise<StreamHead | undefined> {
      const state = streams.get(stream);
      if (state === undefined) return Promise.resolve(undefined);
      enforce(state);
      return Promise.resolve({
        epoch: state.epoch,
        offset: state.last,
        firstOffset: firstOffset(state),
      });
    },

    trim(stream: string): Promise<number> {
      const state = streams.get(stream);
      return Promise.resolve(state === undefined ? 0 : enforce(state));
    },

    close(): Promise<void> {
      streams.clear();
      records.clear();
      return Promise.resolve();
    },
  };
}
