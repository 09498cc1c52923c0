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
  /**
   * When the message expires (ms since the Unix epoch), if it was published with a TTL.
   * The log keeps an expired message like any other (retention decides when it goes);
   * the gateway stops pushing and replaying it.
   */
  readonly expiresAt?: number;
  /** Published with `requireAck`: redelivered to a user's devices that have not acked it. */
  readonly requireAck?: boolean;
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

/**
 * One publish: the message, and the position it got in each of its streams. `publish`
 * answers with it; `lookup` finds it again by id (the status API); an idempotency key
 * finds it again by key (a repeated publish).
 */
export interface PublishRecord {
  readonly id: string;
  readonly publishedAt: number;
  readonly expiresAt?: number;
  readonly requireAck?: boolean;
  /**
   * One position per stream. From `publish`, in the order the publish named the streams;
   * from `lookup`, only the streams that still retain the message, in no set order.
   */
  readonly positions: readonly StreamPosition[];
  /** The key the publish was made with (from `publish` and a duplicate only). */
  readonly idempotencyKey?: string;
  /** Opaque digest of what was published under the key, to tell a retry from a reuse. */
  readonly fingerprint?: string;
}

/** Remember a publish under a key, and refuse to publish it twice. */
export interface IdempotencyClaim {
  /** At most {@link MAX_IDEMPOTENCY_KEY_LENGTH} characters. */
  readonly key: string;
  /**
   * A record with this key published at or after this time (ms since the Unix epoch) is
   * a duplicate; an older one is forgotten and the key is given to the new publish.
   */
  readonly since: number;
  /** Stored with the record and handed back with a duplicate. */
  readonly fingerprint?: string;
}

/** What {@link MessageLog.publish} is given. */
export interface LogPublish {
  /** Distinct stream names; at least one. */
  readonly streams: readonly string[];
  readonly message: LogMessage;
  /**
   * `message.data` as JSON text, exactly what `JSON.stringify(message.data)` returns, when
   * the caller has it already: a log that stores text keeps this instead of serializing
   * the data a second time. Optional; a log may ignore it.
   */
  readonly json?: string;
  readonly idempotency?: IdempotencyClaim;
}

/**
 * The outcome of {@link MessageLog.publish}: the new record, or (`duplicate: true`) the
 * record an earlier publish with the same idempotency key left, in which case nothing
 * was appended.
 */
export interface LogPublished {
  readonly duplicate: boolean;
  readonly record: PublishRecord;
}

/** Longest idempotency key, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/**
 * How long, and how many, publish records a log keeps: the records a repeated idempotency
 * key finds its original publish by. The SQLite log writes one only for a publish with a
 * key; the in-memory log keeps one per publish, and finds messages by id through them, so
 * there `maxCount` also bounds which messages `lookup` finds.
 */
export interface RecordRetentionOptions {
  /**
   * Longest time a record is kept, in ms after its publish. This bounds the effective
   * idempotency window.
   * @default 86_400_000, 24 h ({@link DEFAULT_RECORD_MAX_AGE_MS})
   */
  readonly maxAgeMs?: number;
  /**
   * Most records kept; the oldest go first.
   * @default 100_000 in memory ({@link DEFAULT_MEMORY_RECORD_MAX_COUNT}), 10,000,000 in
   * SQLite ({@link DEFAULT_SQLITE_RECORD_MAX_COUNT})
   */
  readonly maxCount?: number;
}

/** Default of {@link RecordRetentionOptions.maxAgeMs}: 24 hours. */
export const DEFAULT_RECORD_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Default of {@link RecordRetentionOptions.maxCount} for the in-memory log. */
export const DEFAULT_MEMORY_RECORD_MAX_COUNT = 100_000;
/** Default of {@link RecordRetentionOptions.maxCount} for the SQLite log. */
export const DEFAULT_SQLITE_RECORD_MAX_COUNT = 10_000_000;

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
  /**
   * Append one message to one or more streams and record the publish, all or nothing.
   * With `idempotency`, a record already holding the key (published at or after
   * `since`) is returned instead, `duplicate: true`, and nothing is appended — also when
   * the two publishes run concurrently. Resolves once the publish is durable (as durable
   * as the implementation is).
   */
  publish(entry: LogPublish): Promise<LogPublished>;
  /** Append one message to a stream and return the position it was given (a one-stream {@link publish}). */
  append(stream: string, message: LogMessage): Promise<LogPosition>;
  /**
   * The publish of message `id`: its flags and its positions in the streams that still
   * retain it; `undefined` once none does (or the log never had it). Message ids are
   * expected to be unique per publish (the gateway's are).
   */
  lookup(id: string): Promise<PublishRecord | undefined>;
  /**
   * Up to `limit` retained messages with an offset above `afterOffset`, oldest first.
   * Resolves `undefined` when the log holds nothing for the stream (never appended to).
   */
  read(stream: string, afterOffset: number, limit: number): Promise<LogSlice | undefined>;
  /**
   * Like {@link read}, but only messages published with `requireAck`. Implementations
   * index them, so finding the few a device has not acknowledged is cheap.
   */
  readRequiringAck(
    stream: string,
    afterOffset: number,
    limit: number,
  ): Promise<LogSlice | undefined>;
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

/** A consumer's acknowledged offset in one stream and epoch. */
export interface AckerPosition {
  readonly consumer: AckConsumer;
  readonly offset: number;
}

/** Which consumers {@link AckStore.ackers} lists. */
export interface AckersQuery {
  /** Only positions of this epoch (offsets of two epochs do not compare). */
  readonly epoch: string;
  /** Only consumers that acknowledged at least this offset; 0 lists every consumer of the epoch. */
  readonly minOffset: number;
  /** Most consumers returned. */
  readonly limit: number;
}

/**
 * A run of consecutive offsets of one stream that the gateway delivered to one session,
 * or that one consumer acknowledged, within one short window of time. The gateway keeps
 * these in memory and writes them in batches, so recording costs nothing per message;
 * per-message times are derived from them (see the status API).
 *
 * - `delivered`: the session was written every offset in `fromOffset..toOffset`, between
 *   `firstAt` and `lastAt`.
 * - `acked`: the consumer's acknowledged offset rose to `fromOffset` at `firstAt` and to
 *   `toOffset` at `lastAt` (acks are cumulative, so each covers everything below it).
 */
export interface Receipt {
  readonly kind: 'delivered' | 'acked';
  readonly stream: string;
  readonly epoch: string;
  readonly consumer: AckConsumer;
  /** The session written to (`delivered` only). */
  readonly session?: string;
  readonly fromOffset: number;
  readonly toOffset: number;
  /** ms since the Unix epoch. */
  readonly firstAt: number;
  readonly lastAt: number;
}

/** Which receipts {@link AckStore.receipts} returns. */
export interface ReceiptsQuery {
  readonly epoch: string;
  /** Only receipts with `toOffset` at or above this. */
  readonly minOffset: number;
  /** Most receipts returned. */
  readonly limit: number;
}

/** How long an ack store keeps receipts. */
export interface ReceiptRetentionOptions {
  /**
   * Longest time a receipt is kept, in ms after its `lastAt`.
   * @default 86_400_000, 24 h ({@link DEFAULT_RECEIPT_MAX_AGE_MS})
   */
  readonly maxAgeMs?: number;
  /**
   * Most receipts kept per stream by the in-memory store (the SQLite store is bounded by
   * age only); the oldest go first.
   * @default 256 ({@link DEFAULT_MEMORY_RECEIPTS_PER_STREAM})
   */
  readonly maxPerStream?: number;
}

/** Default of {@link ReceiptRetentionOptions.maxAgeMs}: 24 hours. */
export const DEFAULT_RECEIPT_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Default of {@link ReceiptRetentionOptions.maxPerStream}. */
export const DEFAULT_MEMORY_RECEIPTS_PER_STREAM = 256;

/**
 * Delivery state: acknowledgements and receipts. `ack` frames are cumulative per stream
 * and epoch, so a store keeps one position per consumer and stream: the highest
 * acknowledged offset. Receipts record when ranges of offsets were delivered and acked.
 */
export interface AckStore {
  /** Record that the consumer delivered everything up to each position. */
  ack(consumer: AckConsumer, positions: readonly StreamPosition[]): Promise<void>;
  /** The highest acknowledged position of every stream the consumer acknowledged. */
  acked(consumer: AckConsumer): Promise<readonly StreamPosition[]>;
  /**
   * Consumers whose acknowledged position in `stream` is of `query.epoch` and at least
   * `query.minOffset`, at most `query.limit`, in a stable order.
   */
  ackers(stream: string, query: AckersQuery): Promise<readonly AckerPosition[]>;
  /** Store a batch of receipts. */
  record(receipts: readonly Receipt[]): Promise<void>;
  /** Receipts of `stream` and `query.epoch` reaching `query.minOffset`, by ascending `toOffset`. */
  receipts(stream: string, query: ReceiptsQuery): Promise<readonly Receipt[]>;
  /** Release connections and timers. */
  close(): Promise<void>;
}
