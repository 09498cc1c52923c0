/**
 * The body of `POST /api/publish`, validated with zod and turned into the gateway's
 * {@link PublishInput}. Every rejection names the field it is about, so a backend
 * developer sees `to.channel must match …` rather than "invalid input".
 */
import { z } from 'zod';
import { CHANNEL_PATTERN, MAX_NAME_LENGTH } from '../protocol/index.js';
import { MAX_PUBLISH_USERS } from '../server/options.js';
import { MAX_TTL_SECONDS, type PublishInput, type Target } from '../server/types.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../storage/types.js';
import { HttpError, HttpErrorCode } from './http-errors.js';

const name = (what: string) =>
  z
    .string({ error: `must be a ${what} string` })
    .min(1, `must not be empty`)
    .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);

const requiredObject = (what: string) => ({
  error: (issue: { input: unknown }) =>
    issue.input === undefined ? 'is required' : `must be ${what}`,
});

const targetSchema = z
  .strictObject(
    {
      user: name('user id').optional(),
      users: z
        .array(name('user id'), { error: 'must be an array of user ids' })
        .min(1, 'must list at least one user')
        .max(MAX_PUBLISH_USERS, `must list at most ${MAX_PUBLISH_USERS} users`)
        .optional(),
      channel: z
        .string({ error: 'must be a channel name string' })
        .regex(CHANNEL_PATTERN, `must match ${String(CHANNEL_PATTERN)}`)
        .optional(),
    },
    requiredObject('an object with one of "user", "users" or "channel"'),
  )
  .superRefine((to, ctx) => {
    const given = (['user', 'users', 'channel'] as const).filter((k) => to[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? 'must have one of "user", "users" or "channel"'
            : `must have only one of ${given.map((k) => `"${k}"`).join(', ')}`,
      });
    }
  });

/** The `Idempotency-Key` request header, which may stand in for the body field. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

const idempotencyKeySchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(MAX_IDEMPOTENCY_KEY_LENGTH, `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);

/** `POST /api/publish` request body. */
export const publishBodySchema = z
  .strictObject(
    {
      to: targetSchema,
      tenant: name('tenant id').optional(),
      data: z.unknown().refine((v) => v !== undefined, 'is required (any JSON value)'),
      idempotencyKey: idempotencyKeySchema.optional(),
      ttlSeconds: z
        .number({ error: 'must be a number of seconds' })
        .int('must be a whole number of seconds')
        .min(1, 'must be at least 1')
        .max(MAX_TTL_SECONDS, `must be at most ${MAX_TTL_SECONDS} (30 days)`)
        .optional(),
      requireAck: z.boolean({ error: 'must be true or false' }).optional(),
    },
    requiredObject('a JSON object'),
  )
  .superRefine((body, ctx) => {
    if (body.tenant !== undefined && body.to.channel !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tenant'],
        message: 'applies only to user targets, not to channels',
      });
    }
    if (body.requireAck === true && body.to.channel !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['requireAck'],
        message: 'applies only to user targets, not to channels',
      });
    }
  });

export type PublishBody = z.infer<typeof publishBodySchema>;

/** The field a zod issue is about (dotted path) and a sentence naming it. */
export function describeIssue(issue: z.core.$ZodIssue): {
  field: string | undefined;
  text: string;
} {
  const field = issue.path.length === 0 ? undefined : issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = field === undefined ? '' : `${field}.`;
    return {
      field: `${where}${issue.keys[0] ?? ''}`,
      text: `unknown field ${issue.keys.map((k) => `"${where}${k}"`).join(', ')}`,
    };
  }
  return {
    field,
    text: field === undefined ? `body ${issue.message}` : `${field} ${issue.message}`,
  };
}

function invalid(text: string, field: string | undefined): HttpError {
  return new HttpError(400, HttpErrorCode.BAD_REQUEST, `Invalid publish request: ${text}.`, {
    ...(field === undefined ? {} : { field }),
  });
}

/**
 * Validate an untrusted JSON value as a publish request, with the `Idempotency-Key`
 * header's value if one was sent (it must then equal any `idempotencyKey` in the body).
 * Throws a 400 {@link HttpError} whose message names the first bad field (`field` holds
 * its path).
 */
export function parsePublishBody(value: unknown, headerKey?: string): PublishInput {
  const result = publishBodySchema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    const { field, text } =
      first === undefined ? { field: undefined, text: 'body is invalid' } : describeIssue(first);
    throw invalid(text, field);
  }
  const { to, tenant, data, idempotencyKey, ttlSeconds, requireAck } = result.data;
  let key = idempotencyKey;
  if (headerKey !== undefined) {
    const checked = idempotencyKeySchema.safeParse(headerKey);
    if (!checked.success) {
      throw invalid(
        `the Idempotency-Key header ${checked.error.issues[0]?.message ?? 'is invalid'}`,
        'idempotencyKey',
      );
    }
    if (key !== undefined && key !== headerKey) {
      throw invalid('idempotencyKey differs from the Idempotency-Key header', 'idempotencyKey');
    }
    key = headerKey;
  }
  return {
    to: toTarget(to, tenant),
    data,
    ...(key === undefined ? {} : { idempotencyKey: key }),
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
    ...(requireAck === undefined ? {} : { requireAck }),
  };
}

function toTarget(to: PublishBody['to'], tenant: string | undefined): Target {
  const tenantPart = tenant === undefined ? {} : { tenant };
  if (to.user !== undefined) return { user: to.user, ...tenantPart };
  if (to.users !== undefined) return { users: to.users, ...tenantPart };
  if (to.channel !== undefined) return { channel: to.channel };
  // Unreachable: the schema accepts exactly one of the three.
  throw new HttpError(400, HttpErrorCode.BAD_REQUEST, 'Invalid publish request: to is empty.', {
    field: 'to',
  });
}
