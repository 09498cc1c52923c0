/**
 * Validation of `publish` input. A backend calling `publish` wrongly gets a
 * {@link PublishError} that says what to fix and names the field, before anything is
 * appended.
 */
import { createHash } from 'node:crypto';
import {
  CHANNEL_PATTERN,
  CHANNEL_STREAM_PREFIX,
  MAX_NAME_LENGTH,
  channelStream,
  userStream,
} from '../protocol/index.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH, type LogMessage } from '../storage/types.js';
import { userProblem } from './identity.js';
import { MAX_PUBLISH_USERS } from './options.js';
import { MAX_TTL_SECONDS, PublishError, type PublishInput } from './types.js';

/** A validated publish: the streams to append to, the data as it goes on the wire, options. */
export interface PublishPlan {
  /** Distinct stream names, in the order the target named them. */
  readonly streams: readonly string[];
  /**
   * `data` as JSON text, serialized once here and handed on to the log and to fan-out:
   * what clients receive and the log stores, whatever the caller does to its object later.
   */
  readonly json: string;
  readonly ttlSeconds: number | undefined;
  readonly requireAck: boolean;
  readonly idempotencyKey: string | undefined;
  /**
   * Digest of everything a retry repeats (streams, data, TTL, requireAck), computed only
   * with an idempotency key: a key reused for another message is told from a retry.
   */
  readonly fingerprint: string | undefined;
}

function fail(message: string, field?: string): never {
  throw new PublishError(`Cannot publish: ${message}.`, field === undefined ? {} : { field });
}

function userTarget(user: unknown, tenant: unknown, where: string): string {
  const problem = userProblem(user, tenant);
  if (problem !== undefined) fail(`${where}: ${problem}`, where);
  return userStream(user as string, tenant as string | undefined);
}

function streamsOf(to: unknown): string[] {
  if (typeof to !== 'object' || to === null) {
    fail('`to` must be { user }, { users } or { channel }', 'to');
  }
  const target = to as Record<string, unknown>;
  const given =
    Number(target['user'] !== undefined) +
    Number(target['users'] !== undefined) +
    Number(target['channel'] !== undefined);
  if (given !== 1) {
    fail(`\`to\` must have exactly one of "user", "users" and "channel", got ${given}`, 'to');
  }
  if (target['channel'] !== undefined) {
    const channel = target['channel'];
    if (target['tenant'] !== undefined) {
      fail('`to.tenant` applies to users, not channels', 'to.tenant');
    }
    if (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel)) {
      fail(`to.channel must match ${String(CHANNEL_PATTERN)}`, 'to.channel');
    }
    if (channel.length > MAX_NAME_LENGTH - CHANNEL_STREAM_PREFIX.length) {
      fail(
        `to.channel may have at most ${MAX_NAME_LENGTH - CHANNEL_STREAM_PREFIX.length} characters`,
        'to.channel',
      );
    }
    return [channelStream(channel)];
  }
  const tenant = target['tenant'];
  if (target['user'] !== undefined) return [userTarget(target['user'], tenant, 'to.user')];
  const users = target['users'];
  if (!Array.isArray(users) || users.length === 0 || users.length > MAX_PUBLISH_USERS) {
    fail(`to.users must be an array of 1 to ${MAX_PUBLISH_USERS} user ids`, 'to.users');
  }
  // A user listed twice still gets the message once.
  return [...new Set(users.map((user, i) => userTarget(user, tenant, `to.users[${i}]`)))];
}

/** `data` as JSON text, or a PublishError. */
function serialize(data: unknown): string {
  if (data === undefined) fail('`data` is required (use null for "nothing")', 'data');
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new PublishError('Cannot publish: `data` is not serializable as JSON.', {
      field: 'data',
      cause,
    });
  }
  if (json === undefined) fail('`data` is not a JSON value', 'data');
  return json;
}

function ttlOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    fail('`ttlSeconds` must be a positive integer', 'ttlSeconds');
  }
  if (value > MAX_TTL_SECONDS) {
    fail(`\`ttlSeconds\` may be at most ${MAX_TTL_SECONDS} (30 days)`, 'ttlSeconds');
  }
  return value;
}

function keyOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    fail(
      `\`idempotencyKey\` must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      'idempotencyKey',
    );
  }
  return value;
}

/** Validate a publish. Throws {@link PublishError}. */
export function planPublish(input: PublishInput): PublishPlan {
  if (typeof input !== 'object' || input === null) fail('expected { to, data }');
  const streams = streamsOf(input.to);
  const json = serialize(input.data);
  const ttlSeconds = ttlOf(input.ttlSeconds);
  const requireAck = input.requireAck ?? false;
  if (typeof requireAck !== 'boolean') fail('`requireAck` must be a boolean', 'requireAck');
  if (requireAck && !('user' in input.to || 'users' in input.to)) {
    // Channels resume through `subscribe.from`; there is no "user who has not acked" there.
    fail(
      '`requireAck` applies to user targets ({ user } or { users }), not channels',
      'requireAck',
    );
  }
  const idempotencyKey = keyOf(input.idempotencyKey);
  const fingerprint =
    idempotencyKey === undefined
      ? undefined
      : createHash('sha256')
          .update(JSON.stringify([streams, ttlSeconds ?? null, requireAck]))
          .update('\n')
          .update(json)
          .digest('base64url');
  return { streams, json, ttlSeconds, requireAck, idempotencyKey, fingerprint };
}

/**
 * A message as the gateway hands it to the log. Its `data` is the published JSON text
 * parsed on first read: a log that stores the text (SQLite) never reads it, so a durable
 * publish does not build a copy of the data it already holds as text; a log that keeps
 * values (memory) gets a copy no later change by the caller can alter.
 */
export class PublishedMessage implements LogMessage {
  readonly id: string;
  readonly publishedAt: number;
  declare readonly expiresAt?: number;
  declare readonly requireAck?: boolean;
  readonly #json: string;
  #data: unknown;
  #parsed = false;

  constructor(
    id: string,
    json: string,
    publishedAt: number,
    expiresAt: number | undefined,
    requireAck: boolean,
  ) {
    this.id = id;
    this.#json = json;
    this.publishedAt = publishedAt;
    // Optional fields only when set, like every other LogMessage.
    if (expiresAt !== undefined) (this as { expiresAt?: number }).expiresAt = expiresAt;
    if (requireAck) (this as { requireAck?: boolean }).requireAck = true;
  }

  get data(): unknown {
    if (!this.#parsed) {
      this.#data = JSON.parse(this.#json) as unknown;
      this.#parsed = true;
    }
    return this.#data;
  }
}
