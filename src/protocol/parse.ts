/**
 * Decoding and encoding of frames. Incoming text is `unknown` until one of the
 * `decode*` functions returns a member of the frame union; outgoing frames are checked
 * by the `encode*` functions before they are serialized. Both throw {@link ProtocolError}.
 *
 * Only the envelope is validated: `data` is application JSON and passes through as is.
 */
import { ProtocolError } from './errors.js';
import type {
  ClientFrame,
  ServerFrame,
  StreamPosition,
  ReplyError,
  CloseFrame,
  PushFrame,
  ResyncFrame,
  ResyncReason,
  WelcomeFrame,
} from './frames.js';

/** Longest id (`request`, `subscribe`, `unsubscribe`, `push`), in characters. */
export const MAX_ID_LENGTH = 64;
/** Longest token in `hello`, in characters. */
export const MAX_TOKEN_LENGTH = 8192;
/** Longest stream, channel, device or client name, in characters. */
export const MAX_NAME_LENGTH = 200;
/** Most positions in one `hello.resume`, `resume` or `ack`. */
export const MAX_POSITIONS = 1000;
/** Every {@link ResyncReason}, in the order PROTOCOL.md lists them. */
export const RESYNC_REASONS: readonly ResyncReason[] = ['epoch_changed', 'trimmed', 'ahead'];
/** Channel names: letters, digits and `_ - . : @ /`, 1 to {@link MAX_NAME_LENGTH} characters. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_\-.:@/]{1,200}$/;

type Obj = Record<string, unknown>;

function fail(message: string): never {
  throw new ProtocolError(message);
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(obj: Obj, key: string, max: number, where: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    fail(`${where}.${key} must be a non-empty string of at most ${max} characters`);
  }
  return v;
}

function optStr(obj: Obj, key: string, max: number, where: string): string | undefined {
  return obj[key] === undefined ? undefined : str(obj, key, max, where);
}

/** An epoch: like an id, but the empty string (the history before a first message) is allowed. */
function epochOf(obj: Obj, where: string): string {
  const v = obj['epoch'];
  if (typeof v !== 'string' || v.length > MAX_ID_LENGTH) {
    fail(`${where}.epoch must be a string of at most ${MAX_ID_LENGTH} characters`);
  }
  return v;
}

function offset(obj: Obj, key: string, where: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    fail(`${where}.${key} must be a non-negative integer`);
  }
  return v;
}

function num(obj: Obj, key: string, where: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}.${key} must be a number`);
  return v;
}

function optNum(obj: Obj, key: string, where: string): number | undefined {
  return obj[key] === undefined ? undefined : num(obj, key, where);
}

function channel(obj: Obj, where: string): string {
  const v = obj['channel'];
  if (typeof v !== 'string' || !CHANNEL_PATTERN.test(v)) {
    fail(`${where}.channel must match ${String(CHANNEL_PATTERN)}`);
  }
  return v;
}

function positions(obj: Obj, key: string, where: string): StreamPosition[] {
  return validatePositions(obj[key], `${where}.${key}`);
}

/**
 * Validate a list of stream positions as frames carry them (at most {@link MAX_POSITIONS},
 * names and epochs within their limits). Also used for positions a client kept in storage.
 * Throws {@link ProtocolError}.
 */
export function validatePositions(value: unknown, where: string): StreamPosition[] {
  if (!Array.isArray(value) || value.length > MAX_POSITIONS) {
    fail(`${where} must be an array of at most ${MAX_POSITIONS} positions`);
  }
  return value.map((p: unknown, i) => {
    if (!isObject(p)) fail(`${where}[${i}] must be an object`);
    const at = `${where}[${i}]`;
    const position = {
      stream: str(p, 'stream', MAX_NAME_LENGTH, at),
      epoch: epochOf(p, at),
      offset: offset(p, 'offset', at),
    };
    // The empty epoch is the history before a first message: there is no offset in it.
    if (position.epoch === '' && position.offset !== 0) fail(`${at}: an empty epoch has offset 0`);
    return position;
  });
}

function parseJson(text: string): Obj {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('frame is not valid JSON');
  }
  if (!isObject(value)) fail('frame must be a JSON object');
  if (typeof value['type'] !== 'string') fail('frame.type must be a string');
  return value;
}

/** Validate a value already parsed from JSON as a client frame. */
export function validateClientFrame(f: Obj): ClientFrame {
  const type = f['type'];
  switch (type) {
    case 'hello': {
      const token = f['token'];
      if (token !== undefined && (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH)) {
        fail(`hello.token must be a string of at most ${MAX_TOKEN_LENGTH} characters`);
      }
      const device = optStr(f, 'device', MAX_NAME_LENGTH, 'hello');
      const client = optStr(f, 'client', MAX_NAME_LENGTH, 'hello');
      const resume = f['resume'] === undefined ? undefined : positions(f, 'resume', 'hello');
      return {
        type,
        ...(token === undefined ? {} : { token }),
        ...(device === undefined ? {} : { device }),
        ...(client === undefined ? {} : { client }),
        ...(resume === undefined ? {} : { resume }),
      };
    }
    case 'ping': {
      const t = optNum(f, 't', 'ping');
      return t === undefined ? { type } : { type, t };
    }
    case 'ack':
      return { type, positions: positions(f, 'positions', 'ack') };
    case 'request':
      if (!('data' in f)) fail('request.data is required');
      return { type, id: str(f, 'id', MAX_ID_LENGTH, 'request'), data: f['data'] };
    case 'publish': {
      if (!('data' in f)) fail('publish.data is required');
      const to = f['to'];
      if (!isObject(to)) fail('publish.to must be an object');
      const target =
        to['channel'] !== undefined
          ? { channel: channel(to, 'publish.to') }
          : { user: str(to, 'user', MAX_NAME_LENGTH, 'publish.to') };
      if ('user' in to && 'channel' in to) fail('publish.to names either user or channel');
      return { type, id: str(f, 'id', MAX_ID_LENGTH, 'publish'), to: target, data: f['data'] };
    }
    case 'subscribe': {
      const id = str(f, 'id', MAX_ID_LENGTH, 'subscribe');
      const name = channel(f, 'subscribe');
      const from = f['from'];
      if (from === undefined) return { type, id, channel: name };
      if (!isObject(from)) fail('subscribe.from must be an object');
      return {
        type,
        id,
        channel: name,
        from: {
          epoch: epochOf(from, 'subscribe.from'),
          offset: offset(from, 'offset', 'subscribe.from'),
        },
      };
    }
    case 'unsubscribe':
      return {
        type,
        id: str(f, 'id', MAX_ID_LENGTH, 'unsubscribe'),
        channel: channel(f, 'unsubscribe'),
      };
    case 'resume':
      return {
        type,
        id: str(f, 'id', MAX_ID_LENGTH, 'resume'),
        positions: positions(f, 'positions', 'resume'),
      };
    default:
      return fail(`unknown client frame type ${JSON.stringify(type).slice(0, 40)}`);
  }
}

function replyError(f: Obj): ReplyError {
  const e = f['error'];
  if (!isObject(e)) fail('reply.error must be an object');
  const message = e['message'];
  if (typeof message !== 'string') fail('reply.error.message must be a string');
  return { code: str(e, 'code', MAX_NAME_LENGTH, 'reply.error'), message };
}

function push(f: Obj): PushFrame {
  if (!('data' in f)) fail('push.data is required');
  const frame: PushFrame = {
    type: 'push',
    id: str(f, 'id', MAX_ID_LENGTH, 'push'),
    stream: str(f, 'stream', MAX_NAME_LENGTH, 'push'),
    epoch: str(f, 'epoch', MAX_ID_LENGTH, 'push'),
    offset: offset(f, 'offset', 'push'),
    data: f['data'],
    publishedAt: num(f, 'publishedAt', 'push'),
  };
  if (f['after'] === undefined) return frame;
  const after = offset(f, 'after', 'push');
  if (after >= frame.offset) fail('push.after must be below push.offset');
  return { ...frame, after };
}

function resync(f: Obj): ResyncFrame {
  const stream = str(f, 'stream', MAX_NAME_LENGTH, 'resync');
  const reason = f['reason'];
  if (!RESYNC_REASONS.includes(reason as ResyncReason)) {
    fail(`resync.reason must be one of ${RESYNC_REASONS.join(', ')}`);
  }
  const r = reason as ResyncReason;
  if (f['epoch'] === undefined && f['offset'] === undefined) {
    return { type: 'resync', stream, reason: r };
  }
  return {
    type: 'resync',
    stream,
    reason: r,
    epoch: str(f, 'epoch', MAX_ID_LENGTH, 'resync'),
    offset: offset(f, 'offset', 'resync'),
  };
}

/** Validate a value already parsed from JSON as a server frame. */
export function validateServerFrame(f: Obj): ServerFrame {
  const type = f['type'];
  switch (type) {
    case 'welcome': {
      const start =
        f['positions'] === undefined ? {} : { positions: positions(f, 'positions', 'welcome') };
      return {
        ...start,
        type,
        protocol: num(f, 'protocol', 'welcome'),
        session: str(f, 'session', MAX_ID_LENGTH, 'welcome'),
        user: str(f, 'user', MAX_NAME_LENGTH, 'welcome'),
        serverTime: num(f, 'serverTime', 'welcome'),
        pingIntervalMs: offset(f, 'pingIntervalMs', 'welcome'),
        idleTimeoutMs: offset(f, 'idleTimeoutMs', 'welcome'),
        maxFrameBytes: offset(f, 'maxFrameBytes', 'welcome'),
      } satisfies WelcomeFrame;
    }
    case 'pong': {
      const t = optNum(f, 't', 'pong');
      return t === undefined ? { type } : { type, t };
    }
    case 'push':
      return push(f);
    case 'reply': {
      const id = str(f, 'id', MAX_ID_LENGTH, 'reply');
      if (f['ok'] === true)
        return 'data' in f ? { type, id, ok: true, data: f['data'] } : { type, id, ok: true };
      if (f['ok'] === false) return { type, id, ok: false, error: replyError(f) };
      return fail('reply.ok must be a boolean');
    }
    case 'close': {
      const code = offset(f, 'code', 'close');
      const reason = f['reason'];
      if (typeof reason !== 'string') fail('close.reason must be a string');
      const retryAfterMs =
        f['retryAfterMs'] === undefined ? undefined : offset(f, 'retryAfterMs', 'close');
      return (
        retryAfterMs === undefined ? { type, code, reason } : { type, code, reason, retryAfterMs }
      ) satisfies CloseFrame;
    }
    case 'resync':
      return resync(f);
    default:
      return fail(`unknown server frame type ${JSON.stringify(type).slice(0, 40)}`);
  }
}

/** Decode one client frame from its JSON text. Throws {@link ProtocolError}. */
export function decodeClientFrame(text: string): ClientFrame {
  return validateClientFrame(parseJson(text));
}

/** Decode one server frame from its JSON text. Throws {@link ProtocolError}. */
export function decodeServerFrame(text: string): ServerFrame {
  return validateServerFrame(parseJson(text));
}

function stringify(frame: { type: string }): string {
  try {
    return JSON.stringify(frame);
  } catch (cause) {
    throw new ProtocolError(`${frame.type} frame is not serializable as JSON`, { cause });
  }
}

function checkData(frame: object): void {
  if ('data' in frame && frame.data === undefined) {
    // `undefined` would vanish from the JSON and the peer would reject the frame.
    throw new ProtocolError('data must be a JSON value (use null for "nothing")');
  }
}

/** Validate and serialize a client frame. Throws {@link ProtocolError}. */
export function encodeClientFrame(frame: ClientFrame): string {
  checkData(frame);
  validateClientFrame(frame as unknown as Obj);
  return stringify(frame);
}

/** Validate and serialize a server frame. Throws {@link ProtocolError}. */
export function encodeServerFrame(frame: ServerFrame): string {
  if (frame.type !== 'reply' || frame.ok) checkData(frame);
  validateServerFrame(frame as unknown as Obj);
  return stringify(frame);
}

/** Length of `text` in UTF-8 bytes, without allocating an encoded copy. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
