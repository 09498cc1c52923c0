/**
 * Stream names. Every user inbox and every channel is one ordered stream; its name is
 * what `push` frames, acks and resume positions carry.
 */

export const USER_STREAM_PREFIX = 'user:';

/**
 * The epoch of a stream's history before its first message. No log assigns it. A position
 * `{ epoch: EMPTY_EPOCH, offset: 0 }` means "from the very beginning": it continues in
 * whatever epoch the stream's first message creates (PROTOCOL.md §10.2).
 */
export const EMPTY_EPOCH = '';
export const CHANNEL_STREAM_PREFIX = 'channel:';

/** The inbox stream of a user, scoped to a tenant when there is one. */
export function userStream(userId: string, tenantId?: string): string {
  return tenantId === undefined
    ? `${USER_STREAM_PREFIX}${userId}`
    : `${USER_STREAM_PREFIX}${tenantId}/${userId}`;
}

/** The stream of a channel. */
export function channelStream(channel: string): string {
  return `${CHANNEL_STREAM_PREFIX}${channel}`;
}

/** The channel name of a channel stream, or `undefined` for any other stream. */
export function channelOfStream(stream: string): string | undefined {
  return stream.startsWith(CHANNEL_STREAM_PREFIX)
    ? stream.slice(CHANNEL_STREAM_PREFIX.length)
    : undefined;
}
