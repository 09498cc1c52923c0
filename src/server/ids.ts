/**
 * Message ids: UUID version 7 (RFC 9562), whose first 48 bits are the time in ms. Ids made
 * later sort later, so the log's index of ids grows at its end instead of at random
 * pages, which keeps durable publishing fast as the index outgrows the cache.
 *
 * An id is made per publish, so its random part comes from a pool: random bytes for
 * {@link POOL_IDS} ids at a time, written out as ASCII once, and each id is the time
 * prefix joined to its slice of that text. `randomUUID()` builds each id from twenty
 * concatenations instead, and that garbage was a tenth of what a durable publish
 * allocated.
 */
import { randomFillSync } from 'node:crypto';

/** Ids whose random part is drawn and written at once. */
const POOL_IDS = 256;
/** Random bytes per id: its 74 random bits (12 + 62) come from these. */
const RANDOM_BYTES = 10;
/** `rrr-vrrr-rrrrrrrrrrrr`: the part of an id after its version digit. */
const SUFFIX_LENGTH = 21;

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;
const random = Buffer.alloc(RANDOM_BYTES * POOL_IDS);
const ascii = Buffer.alloc(SUFFIX_LENGTH * POOL_IDS);
let suffixes = '';
let next = POOL_IDS;

let lastMs = -1;
let lastPrefix = '';

/** The ASCII code of the hex digit of `value`'s low four bits. */
function hex(value: number): number {
  return HEX[value & 0xf] as number;
}

/** Draw random bytes for the next {@link POOL_IDS} ids and write their suffixes. */
function refill(): void {
  randomFillSync(random);
  for (let i = 0, r = 0, o = 0; i < POOL_IDS; i++, r += RANDOM_BYTES, o += SUFFIX_LENGTH) {
    // rand_a: 12 bits after the version digit.
    ascii[o] = hex(random[r] as number);
    ascii[o + 1] = hex((random[r + 1] as number) >> 4);
    ascii[o + 2] = hex(random[r + 1] as number);
    ascii[o + 3] = DASH;
    // The variant (binary 10) in the top bits of this digit, then the rest of rand_b.
    ascii[o + 4] = hex(0x8 | ((random[r + 2] as number) & 0x3));
    ascii[o + 5] = hex((random[r + 2] as number) >> 4);
    ascii[o + 6] = hex((random[r + 3] as number) >> 4);
    ascii[o + 7] = hex(random[r + 3] as number);
    ascii[o + 8] = DASH;
    for (let k = 0; k < 6; k++) {
      const byte = random[r + 4 + k] as number;
      ascii[o + 9 + 2 * k] = hex(byte >> 4);
      ascii[o + 10 + 2 * k] = hex(byte);
    }
  }
  suffixes = ascii.toString('latin1');
  next = 0;
}

/** A version 7 UUID for the time `now` (ms since the Unix epoch). */
export function messageId(now: number): string {
  const ms = Math.max(0, Math.min(Math.floor(now), 0xffff_ffff_ffff));
  if (ms !== lastMs) {
    // Formatted once per millisecond: a busy gateway makes dozens of ids in each.
    const time = ms.toString(16).padStart(12, '0');
    lastPrefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    lastMs = ms;
  }
  if (next === POOL_IDS) refill();
  const at = next++ * SUFFIX_LENGTH;
  return lastPrefix + suffixes.slice(at, at + SUFFIX_LENGTH);
}
