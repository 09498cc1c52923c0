/**
 * Checks every {@link MessageLog} implementation applies to what it is asked to store,
 * before anything is written: a bad entry must fail alone, not the batch it would have
 * been committed with.
 */
import {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  type LoggedMessage,
  type LogMessage,
  type LogPublish,
} from './types.js';

/** Why `entry` cannot be stored, or `undefined`. Data is checked by the caller (JSON). */
export function checkPublish(entry: LogPublish): TypeError | undefined {
  const { streams, message, idempotency } = entry;
  if (!Array.isArray(streams) || streams.length === 0) {
    return new TypeError('publish needs at least one stream.');
  }
  if (new Set(streams).size !== streams.length) {
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
  const stored: LoggedMessage = {
    id: message.id,
    data: message.data,
    publishedAt: message.publishedAt,
    offset,
    ...(message.expiresAt === undefined ? {} : { expiresAt: message.expiresAt }),
    ...(message.requireAck === true ? { requireAck: true } : {}),
  };
  return stored;
}
