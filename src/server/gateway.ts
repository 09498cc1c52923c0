/**
 * The transport-agnostic gateway: accepts connections from any transport adapter,
 * publishes messages to streams, and shuts down gracefully. `src/adapters/ws-gateway.ts`
 * puts a WebSocket server in front of it.
 */
import { Scope, holdProcess } from '../env/index.js';
import {
  CLOSE_REASON,
  CloseCode,
  InvalidOptionError,
  MAX_ID_LENGTH,
  ProtocolError,
  USER_STREAM_PREFIX,
  userStream,
  type StreamPosition,
} from '../protocol/index.js';
import type { LogMessage, LogPublish } from '../storage/types.js';
import { Emitter } from './events.js';
import { HeartbeatSweep } from './heartbeat-sweep.js';
import { messageId } from './ids.js';
import { resolveOptions, type GatewayCoreOptions, type ResolvedOptions } from './options.js';
import { PublishedMessage, planPublish } from './publish.js';
import { ReceiptTracker } from './receipts.js';
import { Redelivery } from './redelivery.js';
import { Registry } from './registry.js';
import { RequestDedupe } from './request-dedupe.js';
import { closeWithFrame, type Counters, type SessionContext } from './session-context.js';
import { Session } from './session.js';
import { DEFAULT_STATUS_LIMIT, MAX_STATUS_LIMIT, messageStatus } from './status.js';
import { recordingAckStore } from './store-views.js';
import {
  PublishConflictError,
  PublishError,
  type Connection,
  type ConnectionHandler,
  type DisconnectTarget,
  type GatewayEvents,
  type GatewayStats,
  type MessageStatus,
  type MessageStatusOptions,
  type PublishInput,
  type PublishResult,
  type SessionInfo,
  type UserFilter,
} from './types.js';

export interface GatewayCore {
  /** Serve one transport connection; the adapter reports its frames to the returned handler. */
  accept(connection: Connection): ConnectionHandler;
  /** Refuse a connection before it gets a session: `close` frame, then close with `code`. */
  refuse(connection: Connection, code: CloseCode): void;
  /** Append a message to its streams, then push it to every live session receiving them. */
  publish(input: PublishInput): Promise<PublishResult>;
  /**
   * Where a message went and who received and acknowledged it; `undefined` for an id the
   * log has no record of. Throws {@link InvalidOptionError} for a bad `limit`.
   */
  messageStatus(id: string, options?: MessageStatusOptions): Promise<MessageStatus | undefined>;
  /** Open sessions, all of them or those of one user. */
  sessions(filter?: UserFilter): SessionInfo[];
  /** Close every session of a user (or one session by id); returns how many were closed. */
  disconnect(target: DisconnectTarget, code?: CloseCode): number;
  stats(): GatewayStats;
  on<K extends keyof GatewayEvents>(event: K, listener: GatewayEvents[K]): () => void;
  /** Stop accepting, close every session with 4007, resolve once all are gone. Idempotent. */
  close(): Promise<void>;
  /** True once `close()` was called. */
  readonly closing: boolean;
  readonly options: ResolvedOptions;
}

/** Codes `disconnect` may use: any code of the table except the ones that are never sent. */
function checkDisconnectCode(code: number): void {
  const known = Object.hasOwn(CLOSE_REASON, code);
  if (!known || code === CloseCode.ABNORMAL) {
    throw new InvalidOptionError(`disconnect: ${code} is not a close code a gateway sends.`);
  }
}

/** Create the gateway core. Throws {@link InvalidOptionError} for bad options. */
export function createGatewayCore(input: GatewayCoreOptions): GatewayCore {
  const options = resolveOptions(input);
  const { logger, clock, messageLog, ackStore } = options;
  const scope = new Scope(clock);
  const registry = new Registry<Session>();
  const connections = new Set<Session>();
  const counters: Counters = { published: 0, pushesEncoded: 0, pushesSent: 0 };
  const events = new Emitter<GatewayEvents>((error, event) =>
    logger.error({ err: error, event }, 'gateway event listener threw'),
  );
  const sweep = new HeartbeatSweep(scope, options.idleTimeoutMs, () => registry.all());
  const tracker =
    options.deliveryReceipts &&
    new ReceiptTracker(scope, ackStore, options.deliveryReceipts.flushIntervalMs, (error) =>
      logger.error({ err: error }, 'could not store delivery receipts'),
    );
  const redelivery = new Redelivery({ log: messageLog, acks: ackStore, clock, counters, tracker });
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const context: SessionContext = {
    // Acks from sessions extend ack receipts as they arrive.
    options:
      tracker === undefined
        ? options
        : { ...options, ackStore: recordingAckStore(ackStore, tracker, clock) },
    registry,
    scope,
    sweep,
    events,
    counters,
    requests: new RequestDedupe(scope, options.requestDedupe),
    publish: (input) => publish(input),
    forget(session) {
      connections.delete(session);
      if (connections.size === 0) drained?.();
    },
  };
  // Registered first, so they run before the application's listeners.
  events.on('opened', (info) => {
    const session = registry.get(info.id);
    if (session !== undefined) redelivery.open(session);
  });
  events.on('closed', ({ session }) => redelivery.forget(session.id));

  function refuse(connection: Connection, code: CloseCode): void {
    try {
      closeWithFrame(connection, code);
    } catch (error) {
      logger.warn({ err: error }, 'could not refuse a connection cleanly');
      connection.terminate();
    }
  }

  function accept(connection: Connection): ConnectionHandler {
    if (closing !== undefined) {
      refuse(connection, CloseCode.SHUTTING_DOWN);
      return { message() {}, binary() {}, closed() {} };
    }
    const session = new Session(context, connection);
    connections.add(session);
    return session;
  }

  /**
   * The push frame of `message` at `at`. Its data goes in as `json`, the text the publish
   * serialized once, rather than being serialized again per stream. The envelope is
   * written as text: its id and stream were validated by the publish and its time is
   * checked once per publish; what the log assigned (epoch, offset) is checked here as
   * `validateServerFrame` would, without building a frame object per push.
   */
  function encodePush(at: StreamPosition, message: LogMessage, json: string): string {
    const { stream, epoch, offset } = at;
    if (typeof epoch !== 'string' || epoch.length > MAX_ID_LENGTH) {
      throw new ProtocolError(`push.epoch must be a string of at most ${MAX_ID_LENGTH} characters`);
    }
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new ProtocolError('push.offset must be a non-negative integer');
    }
    // `data` comes last, as a suffix; the key order is the one `encodeServerFrame` writes.
    // The id is the gateway's own (hex digits and dashes) and `publishedAt` a finite
    // number (checked by the publish): both print as JSON does.
    return (
      `{"type":"push","id":"${message.id}","stream":${JSON.stringify(stream)},` +
      `"epoch":${JSON.stringify(epoch)},"offset":${offset},` +
      `"publishedAt":${message.publishedAt},"data":${json}}`
    );
  }

  /** Write one message to every session receiving its stream; returns how many took it. */
  function fanOut(at: StreamPosition, message: LogMessage, json: string): number {
    const { stream, epoch, offset } = at;
    const receivers = registry.route(stream);
    if (receivers === undefined) return 0;
    const now = clock.now();
    const { expiresAt } = message;
    // Only when the commit outlasted the TTL: a TTL is at least a second.
    if (expiresAt !== undefined && expiresAt <= now) return 0;
    // Serialized once per stream: every receiver gets the very same string.
    const text = encodePush(at, message, json);
    counters.pushesEncoded++;
    if (!stream.startsWith(USER_STREAM_PREFIX)) {
      // Channels: no redelivery, no receipts; nothing but the write per subscriber.
      if (receivers instanceof Session)
        return receivers.deliver(stream, epoch, offset, text) ? 1 : 0;
      let delivered = 0;
      for (const session of receivers) {
        if (session.deliver(stream, epoch, offset, text)) delivered++;
      }
      return delivered;
    }
    // The usual inbox: one device online, no Set to iterate.
    if (receivers instanceof Session) return pushToInbox(receivers, at, text, expiresAt, now);
    let delivered = 0;
    for (const session of receivers) delivered += pushToInbox(session, at, text, expiresAt, now);
    return delivered;
  }

  /** Write (or hold, while it is redelivered to) one session's inbox push; 1 if it took it. */
  function pushToInbox(
    session: Session,
    at: StreamPosition,
    text: string,
    expiresAt: number | undefined,
    now: number,
  ): number {
    const { stream, epoch, offset } = at;
    if (redelivery.active && redelivery.hold(session, stream, epoch, offset, text, expiresAt)) {
      return 1;
    }
    if (!session.deliver(stream, epoch, offset, text)) return 0;
    tracker?.delivered(session, stream, epoch, offset, now);
    return 1;
  }

  async function publish(input: PublishInput): Promise<PublishResult> {
    if (closing !== undefined) throw new PublishError('Cannot publish: the gateway is closed.');
    const plan = planPublish(input);
    const publishedAt = clock.now();
    const expiresAt =
      plan.ttlSeconds === undefined ? undefined : publishedAt + plan.ttlSeconds * 1000;
    if (!Number.isFinite(publishedAt)) {
      throw new ProtocolError('push.publishedAt must be a number: the clock returned none');
    }
    const message = new PublishedMessage(
      messageId(publishedAt),
      plan.json,
      publishedAt,
      expiresAt,
      plan.requireAck,
    );
    // Counted from before the append until after the fan-out: redelivery waits for it.
    const flight = redelivery.begin();
    try {
      // Append first, then fan out with the positions the log assigned: a session that
      // resumes later finds in the log everything it was (or would have been) pushed.
      const entry: { -readonly [K in keyof LogPublish]: LogPublish[K] } = {
        streams: plan.streams,
        message,
        json: plan.json,
      };
      if (plan.idempotencyKey !== undefined) {
        entry.idempotency = {
          key: plan.idempotencyKey,
          since: publishedAt - options.idempotencyWindowMs,
          ...(plan.fingerprint === undefined ? {} : { fingerprint: plan.fingerprint }),
        };
      }
      const { duplicate, record } = await messageLog.publish(entry);
      const result: { -readonly [K in keyof PublishResult]: PublishResult[K] } = {
        id: record.id,
        positions: record.positions,
        delivered: 0,
        duplicate,
      };
      if (record.expiresAt !== undefined) result.expiresAt = record.expiresAt;
      if (duplicate) {
        if (record.fingerprint !== undefined && record.fingerprint !== plan.fingerprint) {
          throw new PublishConflictError(
            `Cannot publish: idempotencyKey was already used for message ${record.id}, ` +
              'with a different target, data, ttlSeconds or requireAck.',
            record.id,
          );
        }
        return result;
      }
      for (const at of record.positions) result.delivered += fanOut(at, message, plan.json);
      counters.published++;
      return result;
    } finally {
      redelivery.end(flight);
    }
  }

  function statusOf(
    id: string,
    opts: MessageStatusOptions = {},
  ): Promise<MessageStatus | undefined> {
    const limit = opts.limit ?? DEFAULT_STATUS_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_STATUS_LIMIT) {
      return Promise.reject(
        new InvalidOptionError(
          `limit must be an integer from 1 to ${MAX_STATUS_LIMIT}, got ${String(limit)}.`,
        ),
      );
    }
    if (typeof id !== 'string' || id === '') return Promise.resolve(undefined);
    return messageStatus({ log: messageLog, acks: ackStore, tracker }, id, limit);
  }

  function sessions(filter?: UserFilter): SessionInfo[] {
    const found =
      filter === undefined
        ? registry.all()
        : registry.receivers(userStream(filter.user, filter.tenant));
    return [...found].map((s) => s.info());
  }

  function disconnect(target: DisconnectTarget, code: CloseCode = CloseCode.KICKED): number {
    checkDisconnectCode(code);
    let victims: Session[];
    if ('session' in target) {
      const one = registry.get(target.session);
      victims = one === undefined ? [] : [one];
    } else {
      victims = [...registry.receivers(userStream(target.user, target.tenant))];
    }
    for (const session of victims) session.close(code);
    return victims.length;
  }

  function stats(): GatewayStats {
    return {
      connections: connections.size,
      sessions: registry.size,
      users: registry.users,
      channels: registry.channels,
      published: counters.published,
      pushesEncoded: counters.pushesEncoded,
      pushesSent: counters.pushesSent,
    };
  }

  async function shutdown(): Promise<void> {
    for (const session of [...connections]) session.close(CloseCode.SHUTTING_DOWN);
    if (connections.size > 0) {
      // The sessions may be all that is left of the process (the HTTP server closed, a
      // polling session between two polls): held open until the timeout, or the rest of
      // close() (receipts to the store, the stores themselves) would never run.
      const release = holdProcess();
      await new Promise<void>((resolve) => {
        drained = resolve;
        scope.setTimeout(resolve, options.shutdownTimeoutMs);
      });
      release();
    }
    if (connections.size > 0) {
      logger.warn({ count: connections.size }, 'dropping sessions that did not close in time');
      for (const session of [...connections]) session.terminate();
      connections.clear();
    }
    // Receipts still in memory go to the store before it may be closed.
    await tracker?.flush();
    scope.dispose();
    events.clear();
    await Promise.all(options.ownedStores.map((store) => store.close()));
  }

  return {
    accept,
    refuse,
    publish,
    messageStatus: statusOf,
    sessions,
    disconnect,
    stats,
    on: (event, listener) => events.on(event, listener),
    close() {
      closing ??= shutdown();
      return closing;
    },
    get closing() {
      return closing !== undefined;
    },
    options,
  };
}
