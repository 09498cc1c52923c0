/**
 * Message ids: UUID version 7 (RFC 9562), whose first 48 bits are the time in ms. Ids made
 * later sort later, so the log's index of ids grows at its end instead of at random
 * pages, which keeps durable publishing fast as the index outgrows the cache.
 */
import { randomUUID } from 'node:crypto';

/** A version 7 UUID for the time `now` (ms since the Unix epoch). */
export function messageId(now: number): string {
  // The random part of a v4 UUID is a fine v7 random part: keep its variant bits and
  // everything after the version digit, put the time in front and a 7 as the version.
  const random = randomUUID();
  const time = Math.max(0, Math.min(Math.floor(now), 0xffff_ffff_ffff))
    .toString(16)
    .padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
