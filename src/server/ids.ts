/**
 * Message ids: UUID version 7 (RFC 9562), whose first 48 bits are the time in ms. Ids made
 * later sort later, so the log's index of ids grows at its end instead of at random
 * pages, which keeps durable publishing fast as the index outgrows the cache.
 */
import { randomUUID } from 'node:crypto';

let lastMs = -1;
let lastPrefix = '';

/** A version 7 UUID for the time `now` (ms since the Unix epoch). */
export function messageId(now: number): string {
  const ms = Math.max(0, Math.min(Math.floor(now), 0xffff_ffff_ffff));
  if (ms !== lastMs) {
    // Formatted once per millisecond: a busy gateway makes dozens of ids in each.
    const time = ms.toString(16).padStart(12, '0');
    lastPrefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    lastMs = ms;
  }
  // The random part of a v4 UUID is a fine v7 random part: keep its variant bits and
  // everything after the version digit.
  return lastPrefix + randomUUID().slice(15);
}
