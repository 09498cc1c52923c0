/**
 * The in-memory {@link MessageLog}: history lives as long as the process. Each stream gets
 * a fresh random epoch the first time it is appended to, so positions a client kept from
 * a previous process are never mistaken for positions in this one.
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../env/index.js';
import { InvalidOptionError } from '../protocol/index.js';
import {
  DEFAULT_RETENTION_MAX_AGE_MS,
  DEFAULT_RETENTION_MAX_MESSAGES,
  type LoggedMessage,
  type LogMessage,
  type LogPosition,
  type LogSlice,
  type MessageLog,
  type RetentionOptions,
  type StreamHead,
} from './types.js';

export interface MemoryLogOptions {
  /** How many messages, and for how long, each stream keeps. */
  readonly retention?: RetentionOptions;
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
    }
    return dropped;
  }

  function firstOffset(state: StreamState): number {
    return state.last - retained(state) + 1;
  }

  return {
    append(stream: string, message: LogMessage): Promise<LogPosition> {
      let state = streams.get(stream);
      if (state === undefined) {
        state = { epoch: randomUUID(), last: 0, entries: [], start: 0 };
        streams.set(stream, state);
      }
      state.last += 1;
      state.entries.push({
        id: message.id,
        data: message.data,
        publishedAt: message.publishedAt,
        offset: state.last,
      });
      enforce(state);
      return Promise.resolve({ epoch: state.epoch, offset: state.last });
    },

    read(stream: string, afterOffset: number, max: number): Promise<LogSlice | undefined> {
      if (!Number.isSafeInteger(max) || max < 1) {
        return Promise.reject(new RangeError(`limit must be a positive integer, got ${max}`));
      }
      const state = streams.get(stream);
      if (state === undefined) return Promise.resolve(undefined);
      enforce(state);
      const from = state.start + Math.max(0, afterOffset + 1 - firstOffset(state));
      const messages = state.entries.slice(from, from + max);
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
      return Promise.resolve();
    },
  };
}
