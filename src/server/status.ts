/**
 * The delivery status of one message (`gateway.messageStatus`, `GET /api/messages/:id`),
 * derived rather than stored per message:
 *
 * - where it went: the log's publish record (positions per stream);
 * - acked or not: acks are cumulative, so a device acked the message at offset n when its
 *   acked position in that stream and epoch is ≥ n (the ack store);
 * - when: receipts — runs of offsets delivered to a session or acked by a device (see
 *   receipts.ts) — stored, or still in memory.
 *
 * User inboxes get one entry per session written to and per known device; channels get
 * the devices that acked (deliveries to subscribers are not recorded, to keep broadcasts
 * free of bookkeeping).
 */
import { USER_STREAM_PREFIX, type StreamPosition } from '../protocol/index.js';
import { consumerKey } from '../storage/memory-acks.js';
import type { AckConsumer, AckStore, MessageLog, Receipt } from '../storage/types.js';
import type { ReceiptTracker } from './receipts.js';
import type { MessageStatus, RecipientStatus } from './types.js';

/** Devices of one user listed at most, and receipts read at most, per stream. */
export const STATUS_SCAN_LIMIT = 1000;
/** Default of {@link MessageStatusOptions.limit}. */
export const DEFAULT_STATUS_LIMIT = 100;
/** Largest {@link MessageStatusOptions.limit}. */
export const MAX_STATUS_LIMIT = 1000;

export interface StatusDeps {
  readonly log: MessageLog;
  readonly acks: AckStore;
  readonly tracker: ReceiptTracker | undefined;
}

function who(stream: string, consumer: AckConsumer): Omit<RecipientStatus, 'acked'> {
  return {
    stream,
    user: consumer.userId,
    ...(consumer.tenantId === undefined ? {} : { tenant: consumer.tenantId }),
    ...(consumer.device === undefined ? {} : { device: consumer.device }),
  };
}

/** When the receipt's session was written `offset`: see RecipientStatus.deliveredAt. */
function deliveredAt(receipt: Receipt, publishedAt: number): number {
  // The write happened within [firstAt, lastAt]; a live push is written right after its
  // publish, which places it better than either end when the run is long.
  return Math.max(receipt.firstAt, Math.min(publishedAt, receipt.lastAt));
}

/** When the ack covering `offset` arrived, from the earliest ack receipt reaching it. */
function ackedAt(receipt: Receipt, offset: number): number {
  return offset <= receipt.fromOffset ? receipt.firstAt : receipt.lastAt;
}

async function userRecipients(
  deps: StatusDeps,
  at: StreamPosition,
  publishedAt: number,
): Promise<RecipientStatus[]> {
  const { stream, epoch, offset } = at;
  const [ackers, stored] = await Promise.all([
    deps.acks.ackers(stream, { epoch, minOffset: 0, limit: STATUS_SCAN_LIMIT }),
    deps.acks.receipts(stream, { epoch, minOffset: offset, limit: STATUS_SCAN_LIMIT }),
  ]);
  const pending = (deps.tracker?.pending(stream) ?? []).filter(
    (r) => r.epoch === epoch && r.toOffset >= offset,
  );
  const devices = new Map<string, { consumer: AckConsumer; acked: boolean; at?: number }>();
  const device = (consumer: AckConsumer) => {
    const key = consumerKey(consumer);
    let found = devices.get(key);
    if (found === undefined) {
      found = { consumer, acked: false };
      devices.set(key, found);
    }
    return found;
  };
  for (const { consumer, offset: acked } of ackers) device(consumer).acked = acked >= offset;
  const sessions = new Map<string, { consumer: AckConsumer; at: number }>();
  for (const r of [...stored, ...pending]) {
    if (r.kind === 'acked') {
      const d = device(r.consumer);
      d.acked = true;
      const when = ackedAt(r, offset);
      if (d.at === undefined || when < d.at) d.at = when;
    } else if (r.session !== undefined && r.fromOffset <= offset) {
      const when = deliveredAt(r, publishedAt);
      const known = sessions.get(r.session);
      if (known === undefined || when < known.at) {
        sessions.set(r.session, { consumer: r.consumer, at: when });
        device(r.consumer);
      }
    }
  }
  const recipients: RecipientStatus[] = [];
  const withSession = new Set<string>();
  const bySession = [...sessions].sort(([, a], [, b]) => a.at - b.at);
  for (const [session, { consumer, at: when }] of bySession) {
    const d = device(consumer);
    withSession.add(consumerKey(consumer));
    recipients.push({
      ...who(stream, consumer),
      session,
      deliveredAt: when,
      acked: d.acked,
      ...(d.at === undefined ? {} : { ackedAt: d.at }),
    });
  }
  for (const [key, d] of devices) {
    if (withSession.has(key)) continue;
    recipients.push({
      ...who(stream, d.consumer),
      acked: d.acked,
      ...(d.at === undefined ? {} : { ackedAt: d.at }),
    });
  }
  return recipients;
}

async function channelRecipients(
  deps: StatusDeps,
  at: StreamPosition,
  limit: number,
): Promise<RecipientStatus[]> {
  const ackers = await deps.acks.ackers(at.stream, {
    epoch: at.epoch,
    minOffset: at.offset,
    limit,
  });
  return ackers.map(({ consumer }) => ({ ...who(at.stream, consumer), acked: true }));
}

/** The status of message `id`, or `undefined` when the log has no record of it. */
export async function messageStatus(
  deps: StatusDeps,
  id: string,
  limit: number,
): Promise<MessageStatus | undefined> {
  const record = await deps.log.lookup(id);
  if (record === undefined) return undefined;
  const recipients: RecipientStatus[] = [];
  for (const at of record.positions) {
    // One more than asked for tells whether the list was cut.
    if (recipients.length > limit) break;
    const room = limit + 1 - recipients.length;
    recipients.push(
      ...(at.stream.startsWith(USER_STREAM_PREFIX)
        ? await userRecipients(deps, at, record.publishedAt)
        : await channelRecipients(deps, at, room)),
    );
  }
  return {
    id: record.id,
    publishedAt: record.publishedAt,
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
    requireAck: record.requireAck === true,
    positions: record.positions,
    recipients: recipients.slice(0, limit),
    truncated: recipients.length > limit,
  };
}
