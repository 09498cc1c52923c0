/**
 * The client's codec. Server frames are checked as far as the client's safety needs:
 * every field the client reads has the type it relies on, positions are well formed (they
 * go back to the gateway in `hello.resume`), and anything else is a `ProtocolError`.
 * Lighter than the protocol's full validators (which the gateway uses), so the browser
 * bundle stays small. Outgoing frames are built by the client from checked parts; a
 * development build validates them against the protocol once more.
 */
import {
  CHANNEL_PATTERN,
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_POSITIONS,
  ProtocolError,
  RESYNC_REASONS,
  validateClientFrame,
  type ClientFrame,
  type PublishTarget,
  type ServerFrame,
  type StreamPosition,
} from '../protocol/index.js';
import { DEV } from '../env/index.js';

declare const LIFELINE_DEV: boolean | undefined;

type Obj = Record<string, unknown>;

function fail(detail: string, cause?: unknown): never {
  throw new ProtocolError(DEV ? `Protocol error: ${detail}.` : detail, { cause });
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isOffset = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Field checks, one letter each: `s` a non-empty string of at most 200 characters, `t` any string, `n` a finite number, `o` a non-negative integer,
 * `b` a boolean, `d` present, `p` a list of positions, `r` a resync reason. A trailing `?`
 * makes the field optional.
 */
const CHECKS: Record<string, (v: unknown) => boolean> = {
  s: (v) => typeof v === 'string' && v !== '' && v.length <= MAX_NAME_LENGTH,
  t: (v) => typeof v === 'string',
  n: (v) => typeof v === 'number' && Number.isFinite(v),
  o: isOffset,
  b: (v) => typeof v === 'boolean',
  d: () => true,
  p: (v) => positionsOf(v) !== undefined,
  r: (v) => (RESYNC_REASONS as readonly unknown[]).includes(v),
};

const SPECS: Record<string, string> = {
  welcome:
    'protocol:n session:s user:s serverTime:n pingIntervalMs:o idleTimeoutMs:o maxFrameBytes:o positions:p?',
  pong: 't:n?',
  push: 'id:s stream:s epoch:s offset:o data:d publishedAt:n after:o?',
  reply: 'id:s ok:b',
  close: 'code:o reason:t retryAfterMs:o?',
  resync: 'stream:s reason:r epoch:s? offset:o?',
};

/**
 * The specs compiled once, not per frame: per field its key, its check and whether it is
 * optional. The decoder loops over them by index (no iterator, no lookups per field):
 * it runs for every pushed message.
 */
type Field = [key: string, check: (v: unknown) => boolean, optional: boolean];
const FRAMES: Record<string, Field[]> = {};
for (const type in SPECS)
  FRAMES[type] = (SPECS[type] as string).split(' ').map((f) => {
    const [key = '', check = ''] = f.split(':');
    return [key, CHECKS[check[0] as string] as (v: unknown) => boolean, check[1] === '?'];
  });

/** Decode one server frame from its JSON text. Throws {@link ProtocolError}. */
export function decodeServerFrame(text: string): ServerFrame {
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch (cause) {
    fail(DEV ? 'a frame that is not JSON' : 'JSON', cause);
  }
  if (!isObject(f)) fail(DEV ? 'a frame that is not an object' : 'object');
  const type = f['type'];
  // An array or nothing: `constructor` and friends are no frame types.
  const spec: unknown = typeof type === 'string' ? FRAMES[type] : undefined;
  if (!Array.isArray(spec)) fail(DEV ? 'an unknown frame type' : 'type');
  const fields = spec as Field[];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as Field;
    const key = field[0];
    const value = f[key];
    // JSON has no `undefined`: a field that is undefined is absent.
    if (value === undefined ? !field[2] : !field[1](value))
      fail(DEV ? `a malformed ${type}.${key}` : key);
  }
  if (type === 'push' && (f['after'] as number) >= (f['offset'] as number))
    fail(DEV ? 'a malformed push.after' : 'after');
  if (type === 'resync' && (f['epoch'] === undefined) !== (f['offset'] === undefined))
    fail(DEV ? 'a malformed resync position' : 'resync');
  if (type === 'reply' && f['ok'] === false) {
    const e = f['error'];
    if (!isObject(e) || !CHECKS['s']?.(e['code']) || typeof e['message'] !== 'string')
      fail(DEV ? 'a malformed reply.error' : 'error');
  }
  return f as unknown as ServerFrame;
}

/**
 * Positions as frames and storage carry them: at most {@link MAX_POSITIONS}, names and
 * epochs within their limits, offset 0 in the empty epoch. Clean copies, or undefined.
 */
export function positionsOf(value: unknown): StreamPosition[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_POSITIONS) return undefined;
  const positions: StreamPosition[] = [];
  for (const p of value as unknown[]) {
    if (!isObject(p)) return undefined;
    const { stream, epoch, offset } = p;
    if (
      !CHECKS['s']?.(stream) ||
      typeof epoch !== 'string' ||
      epoch.length > MAX_ID_LENGTH ||
      !isOffset(offset) ||
      (epoch === '' && offset !== 0)
    )
      return undefined;
    positions.push({ stream: stream as string, epoch, offset });
  }
  return positions;
}

/** A publish target the gateway accepts: exactly one of a user name or a channel name. */
export function isPublishTarget(to: unknown): to is PublishTarget {
  const { user, channel } = (to ?? {}) as { user?: unknown; channel?: unknown };
  return typeof user === 'string'
    ? channel === undefined && user !== '' && user.length <= MAX_NAME_LENGTH
    : typeof channel === 'string' && CHANNEL_PATTERN.test(channel);
}

/** Serialize a client frame. Throws {@link ProtocolError} for `data` that is not JSON. */
export function encodeClientFrame(frame: ClientFrame): string {
  const data: unknown = 'data' in frame ? frame.data : null;
  if (data === undefined || typeof data === 'function' || typeof data === 'symbol')
    // It would vanish from the JSON and the gateway would reject the frame.
    fail(DEV ? 'data must be a JSON value (use null for "nothing")' : 'data is not JSON');
  let text: string;
  try {
    text = JSON.stringify(frame);
  } catch (cause) {
    fail(DEV ? `${frame.type} frame is not serializable as JSON` : 'not JSON', cause);
  }
  // A development build checks what the client builds against the protocol's validators.
  // `LIFELINE_DEV` itself, not `DEV`: only a define seen here drops the validators from
  // the production bundle (an imported constant is inlined after tree shaking).
  if (typeof LIFELINE_DEV === 'undefined' || LIFELINE_DEV)
    validateClientFrame(JSON.parse(text) as Obj);
  return text;
}
