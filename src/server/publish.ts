/**
 * Validation of `publish` input. A backend calling `publish` wrongly gets a
 * {@link PublishError} that says what to fix, before anything is appended.
 */
import {
  CHANNEL_PATTERN,
  CHANNEL_STREAM_PREFIX,
  MAX_NAME_LENGTH,
  channelStream,
  userStream,
} from '../protocol/index.js';
import { userProblem } from './identity.js';
import { MAX_PUBLISH_USERS } from './options.js';
import { PublishError, type PublishInput } from './types.js';

/** A validated publish: the streams to append to, and the data as it goes on the wire. */
export interface PublishPlan {
  /** Distinct stream names, in the order the target named them. */
  readonly streams: readonly string[];
  /** `data` after a JSON round trip: what clients will receive and the log stores. */
  readonly data: unknown;
}

function fail(message: string): never {
  throw new PublishError(`Cannot publish: ${message}.`);
}

function userTarget(user: unknown, tenant: unknown, where: string): string {
  const problem = userProblem(user, tenant);
  if (problem !== undefined) fail(`${where}: ${problem}`);
  return userStream(user as string, tenant as string | undefined);
}

function streamsOf(to: unknown): string[] {
  if (typeof to !== 'object' || to === null) {
    fail('`to` must be { user }, { users } or { channel }');
  }
  const target = to as Record<string, unknown>;
  const given = ['user', 'users', 'channel'].filter((k) => target[k] !== undefined);
  if (given.length !== 1) {
    fail(`\`to\` must have exactly one of "user", "users" and "channel", got ${given.length}`);
  }
  if (target['channel'] !== undefined) {
    const channel = target['channel'];
    if (target['tenant'] !== undefined) fail('`to.tenant` applies to users, not channels');
    if (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel)) {
      fail(`to.channel must match ${String(CHANNEL_PATTERN)}`);
    }
    if (channel.length > MAX_NAME_LENGTH - CHANNEL_STREAM_PREFIX.length) {
      fail(
        `to.channel may have at most ${MAX_NAME_LENGTH - CHANNEL_STREAM_PREFIX.length} characters`,
      );
    }
    return [channelStream(channel)];
  }
  const tenant = target['tenant'];
  if (target['user'] !== undefined) return [userTarget(target['user'], tenant, 'to.user')];
  const users = target['users'];
  if (!Array.isArray(users) || users.length === 0 || users.length > MAX_PUBLISH_USERS) {
    fail(`to.users must be an array of 1 to ${MAX_PUBLISH_USERS} user ids`);
  }
  // A user listed twice still gets the message once.
  return [...new Set(users.map((user, i) => userTarget(user, tenant, `to.users[${i}]`)))];
}

function normalize(data: unknown): unknown {
  if (data === undefined) fail('`data` is required (use null for "nothing")');
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new PublishError('Cannot publish: `data` is not serializable as JSON.', { cause });
  }
  if (json === undefined) fail('`data` is not a JSON value');
  // The copy is what the log keeps and clients receive: later changes the caller makes
  // to its object cannot alter a message that was already published.
  return JSON.parse(json) as unknown;
}

/** Validate a publish. Throws {@link PublishError}. */
export function planPublish(input: PublishInput): PublishPlan {
  if (typeof input !== 'object' || input === null) fail('expected { to, data }');
  return { streams: streamsOf(input.to), data: normalize(input.data) };
}
