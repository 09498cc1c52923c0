/**
 * Storage seams of the gateway. The gateway talks to storage only through these
 * interfaces, so the in-memory implementations can be swapped for durable ones (SQLite,
 * Redis) without touching the core. Every method is asynchronous for that reason, even
 * where the memory implementation could answer at once.
 */
import type { StreamPosition } from '../protocol/index.js';

/** A message as the gateway hands it to the log. */
export interface LogMessage {
  /** Message id, the same in every stream the message was published to. */
  readonly id: string;
  /** The JSON value, exactly as it is written to clients. */
  readonly data: unknown;
  /** When the gateway accepted the publish (ms since the Unix epoch). */
  readonly publishedAt: number;
}

/** A message read back from the log, with the offset the log assigned to it. */
export interface LoggedMessage extends LogMessage {
  readonly offset: number;
}

/** Where an appended message landed. */
export interface LogPosition {
  /** The stream's history generation; changes when the log loses the stream's history. */
  readonly epoch: string;
  /** 1 for the first message of an epoch, then strictly increasing by one. */
  readonly offset: number;
}

/** The state of one stream. */
export interface StreamHead {
  readonly epoch: string;
  /** Offset of the newest message ever appended in this epoch (0 when none). */
  readonly offset: number;
  /**
   * Offset of the oldest message still retained; `offset + 1` when retention removed
   * all of them. A reader whose position is below `firstOffset − 1` has missed messages.
   */
  readonly firstOffset: number;
}

/** A run of consecutive messages of one stream. */
export interface LogSlice {
  readonly epoch: string;
  /** Ascending by offset. */
  readonly messages: readonly LoggedMessage[];
}

/** How long a log keeps messages. A message is dropped as soon as either limit is passed. */
export interface RetentionOptions {
  /**
   * Most messages kept per stream; older ones are dropped first.
   * @default 10_000 ({@link DEFAULT_RETENTION_MAX_MESSAGES})
   */
  readonly maxMessages?: number;
  /**
   * Longest time a message is kept, in ms after it was published.
   * @default 86_400_000, 24 h ({@link DEFAULT_RETENTION_MAX_AGE_MS})
   */
  readonly maxAgeMs?: number;
}

/** Default of {@link RetentionOptions.maxMessages}. */
export const DEFAULT_RETENTION_MAX_MESSAGES = 10_000;
/** Default of {@link RetentionOptions.maxAgeMs}: 24 hours. */
export const DEFAULT_RETENTION_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * The ordered, per-stream history of published messages.
 *
 * Positions are assigned by the log, not by the gateway, so that an implementation
 * shared by several gateway processes (Redis) can assign them atomically. For one
 * stream, appends resolve in the order they were called; the gateway relies on that to
 * push live messages in offset order.
 */
export interface MessageLog {
  /** Append one message to a stream and return the position it was given. */
  append(stream: string, message: LogMessage): Promise<LogPosition>;
  /**
   * Up to `limit` retained messages with an offset above `afterOffset`, oldest first.
   * Resolves `undefined` when the log holds nothing for the stream (never appended to).
   */
  read(stream: string, afterOffset: number, limit: number): Promise<LogSlice | undefined>;
  /** The stream's epoch and offsets, or `undefined` when the stream was never appended to. */
  head(stream: string): Promise<StreamHead | undefined>;
  /**
   * Apply the retention limits to one stream now. Appends trim as they go; this is for
   * streams that stopped receiving messages but must still age out.
   * Resolves the number of messages dropped.
   */
  trim(stream: string): Promise<number>;
  /** Release connections and timers. The log is unusable afterwards. */
  close(): Promise<void>;
}

/** Whose acknowledgements an {@link AckStore} records: one user's device, or the user. */
export interface AckConsumer {
  readonly userId: string;
  readonly tenantId: string | undefined;
  /** `hello.device`, when the client sent one. */
  readonly device: string | undefined;
}

/**
 * Delivery acknowledgements. `ack` frames are cumulative per stream and epoch, so a store
 * keeps one position per consumer and stream: the highest acknowledged offset.
 */
export interface AckStore {
  /** Record that the consumer delivered everything up to each position. */
  ack(consumer: AckConsumer, positions: readonly StreamPosition[]): Promise<void>;
  /** The highest acknowledged position of every stream the consumer acknowledged. */
  acked(consumer: AckConsumer): Promise<readonly StreamPosition[]>;
  /** Release connections and timers. */
  close(): Promise<void>;
}
