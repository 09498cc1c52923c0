/**
 * Checks every {@link MessageLog} implementation applies to what it is asked to store,
 * before anything is written (a bad entry must fail alone, not the batch it would have
 * been committed with), and the shapes they store and answer. Objects are built field by
 * field rather than with conditional spreads: this runs once per publish.
 */
import type { StreamPosition } from '../protocol/index.js';
import {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  type IdempotencyClaim,
  type LoggedMessage,
  type LogMessage,
  type LogPublish,
  type PublishRecord,
} from './types.js';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Why `entry` cannot be stored, or `undefined`. Data is checked by the caller (JSON). */
export function checkPublish(entry: LogPublish): TypeError | undefined {
  const { streams, message, idempotency } = entry;
  if (!Array.isArray(streams) || streams.length === 0) {
    return new TypeError('publish needs at least one stream.');
  }
  if (streams.length > 1 && new Set(streams).size !== streams.length) {
    return new TypeError('publish streams must be distinct.');
  }
  if (typeof message.id !== 'string' || !Number.isFinite(message.publishedAt)) {
    return new TypeError('message.id must be a string, publishedAt a number.');
  }
  if (message.expiresAt !== undefined && !Number.isFinite(message.expiresAt)) {
    return new TypeError('message.expiresAt must be a number.');
  }
  if (idempotency !== undefined) {
    const { key, since } = idempotency;
    if (typeof key !== 'string' || key === '' || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      return new TypeError(
        `idempotency.key must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`,
      );
    }
    if (!Number.isFinite(since)) return new TypeError('idempotency.since must be a number.');
  }
  return undefined;
}

/** The stored form of a message: optional fields only when set. */
export function loggedMessage(message: LogMessage, offset: number): LoggedMessage {
  const stored: Writable<LoggedMessage> = {
    id: message.id,
    data: message.data,
    publishedAt: message.publishedAt,
    offset,
  };
  if (message.expiresAt !== undefined) stored.expiresAt = message.expiresAt;
  if (message.requireAck === true) stored.requireAck = true;
  return stored;
}

/** The record of a publish: optional fields only when set. */
export function publishRecord(
  message: LogMessage,
  positions: readonly StreamPosition[],
  idempotency: IdempotencyClaim | undefined,
): PublishRecord {
  const record: Writable<PublishRecord> = {
    id: message.id,
    publishedAt: message.publishedAt,
    positions,
  };
  if (message.expiresAt !== undefined) record.expiresAt = message.expiresAt;
  if (message.requireAck === true) record.requireAck = true;
  if (idempotency !== undefined) {
    record.idempotencyKey = idempotency.key;
    if (idempotency.fingerprint !== undefined) record.fingerprint = idempotency.fingerprint;
  }
  return record;
}
