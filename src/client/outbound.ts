/**
 * Client frames whose size depends on how much the client knows: `hello` (with resume
 * positions) and `ack` (with positions of many streams). Both must fit the gateway's
 * `maxFrameBytes`, or the gateway closes with 4002.
 */
import {
  MAX_POSITIONS,
  utf8Length,
  type ClientFrame,
  type StreamPosition,
} from '../protocol/index.js';
import { encodeClientFrame } from './wire.js';

/** Sent in `hello.client`, for the gateway's logs. */
export const CLIENT_NAME = 'lifeline-js';
/** Frame limit assumed for `hello` before any `welcome` told the real one (PROTOCOL.md §2). */
export const DEFAULT_MAX_FRAME_BYTES = 65_536;

export interface HelloInput {
  readonly token: string | undefined;
  readonly device: string | undefined;
  /** Delivered positions, oldest first; the newest are kept when they do not all fit. */
  readonly resume: readonly StreamPosition[];
  readonly maxFrameBytes: number;
}

/** The `hello` frame, or undefined when it cannot fit even without resume positions. */
export function helloText({
  token,
  device,
  resume,
  maxFrameBytes,
}: HelloInput): string | undefined {
  return encodeFitting(
    (positions) => ({
      type: 'hello',
      client: CLIENT_NAME,
      ...(token === undefined ? {} : { token }),
      ...(device === undefined ? {} : { device }),
      ...(positions.length === 0 ? {} : { resume: positions }),
    }),
    resume,
    maxFrameBytes,
  );
}

/** As few `ack` frames as carry every position within `maxFrameBytes` each. */
export function ackTexts(positions: readonly StreamPosition[], maxFrameBytes: number): string[] {
  return encodeChunked((p) => ({ type: 'ack', positions: p }), positions, maxFrameBytes);
}

/**
 * Encode a frame carrying positions so that it fits in `maxBytes`, dropping the oldest
 * positions when it would not. Returns undefined when not even an empty list fits.
 */
function encodeFitting(
  build: (positions: readonly StreamPosition[]) => ClientFrame,
  positions: readonly StreamPosition[],
  maxBytes: number,
): string | undefined {
  let list = positions.slice(-MAX_POSITIONS);
  for (;;) {
    const text = encodeClientFrame(build(list));
    if (utf8Length(text) <= maxBytes) return text;
    if (list.length === 0) return undefined;
    list = list.slice(Math.ceil(list.length / 2));
  }
}

/**
 * Split positions into as few frames as fit in `maxBytes` each (acks of many streams can
 * exceed one frame). A position that cannot fit even alone is skipped.
 */
function encodeChunked(
  build: (positions: readonly StreamPosition[]) => ClientFrame,
  positions: readonly StreamPosition[],
  maxBytes: number,
): string[] {
  const frames: string[] = [];
  let rest = positions.slice();
  while (rest.length > 0) {
    let take = Math.min(rest.length, MAX_POSITIONS);
    for (;;) {
      const text = encodeClientFrame(build(rest.slice(0, take)));
      if (utf8Length(text) <= maxBytes) {
        frames.push(text);
        break;
      }
      if (take === 1) break;
      take = Math.ceil(take / 2);
    }
    rest = rest.slice(take);
  }
  return frames;
}
