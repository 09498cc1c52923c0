/**
 * The transport-agnostic gateway: accepts connections from any transport adapter,
 * publishes messages to streams, and shuts down gracefully. `src/adapters/ws-gateway.ts`
 * puts a WebSocket server in front of it.
 */
import { randomUUID } from 'node:crypto';
import { Scope } from '../env/index.js';
import {
  CLOSE_REASON,
  CloseCode,
  InvalidOptionError,
  encodeServerFrame,
  userStream,
  type StreamPosition,
} from '../protocol/index.js';
import { Emitter } from './events.js';
import { HeartbeatSweep } from './heartbeat-sweep.js';
import { resolveOptions, type GatewayCoreOptions, type ResolvedOptions } from './options.js';
import { planPublish } from './publish.js';
import { Registry } from './registry.js';
import { RequestDedupe } from './request-dedupe.js';
import { closeWithFrame, type Counters, type SessionContext } from './session-context.js';
import { Session } from './session.js';
import {
  PublishError,
  type Connection,
  type ConnectionHandler,
  type DisconnectTarget,
  type GatewayEvents,
  type GatewayStats,
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
  const { logger, clock, messageLog } = options;
  const scope = new Scope(clock);
  const registry = new Registry<Session>();
  const connections = new Set<Session>();
  const counters: Counters = { published: 0, pushesEncoded: 0, pushesSent: 0 };
  const events = new Emitter<GatewayEvents>((error, event) =>
    logger.error({ err: error, event }, 'gateway event listener threw'),
  );
  const sweep = new HeartbeatSweep(scope, options.idleTimeoutMs, () => registry.all());
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const context: SessionContext = {
    options,
    registry,
    scope,
    sweep,
    events,
    counters,
    requests: new RequestDedupe(scope, options.requestDedupe),
    forget(session) {
      connections.delete(session);
      if (connections.size === 0) drained?.();
    },
  };

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

  /** Write one message to every session receiving `stream`; returns how many took it. */
  function fanOut(
    stream: string,
    id: string,
    at: StreamPosition,
    data: unknown,
    publishedAt: number,
  ): number {
    const receivers = registry.receivers(stream);
    if (receivers.size === 0) return 0;
    // Serialized once per stream: every receiver gets the very same string.
    const text = encodeServerFrame({
      type: 'push',
      id,
      stream,
      epoch: at.epoch,
      offset: at.offset,
      data,
      publishedAt,
    });
    counters.pushesEncoded++;
    let delivered = 0;
    for (const session of receivers) {
      if (session.deliver(stream, at.epoch, at.offset, text)) delivered++;
    }
    return delivered;
  }

  async function publish(input: PublishInput): Promise<PublishResult> {
    if (closing !== undefined) throw new PublishError('Cannot publish: the gateway is closed.');
    const plan = planPublish(input);
    const id = randomUUID();
    const publishedAt = clock.now();
    let delivered = 0;
    // Append first, then fan out with the position the log assigned: a session that
    // resumes later finds in the log everything it was (or would have been) pushed.
    const positions = await Promise.all(
      plan.streams.map(async (stream) => {
        const { epoch, offset } = await messageLog.append(stream, {
          id,
          data: plan.data,
          publishedAt,
        });
        const position = { stream, epoch, offset };
        delivered += fanOut(stream, id, position, plan.data, publishedAt);
        return position;
      }),
    );
    counters.published++;
    return { id, positions, delivered };
  }

  function sessions(filter?: UserFilter): SessionInfo[] {
    const found =
      filter === undefined
        ? registry.all()
        : registry.receivers(userStream(filter.user, filter.tenant)).values();
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
      await new Promise<void>((resolve) => {
        drained = resolve;
        scope.setTimeout(resolve, options.shutdownTimeoutMs);
      });
    }
    if (connections.size > 0) {
      logger.warn({ count: connections.size }, 'dropping sessions that did not close in time');
      for (const session of [...connections]) session.terminate();
      connections.clear();
    }
    scope.dispose();
    events.clear();
    await Promise.all(options.ownedStores.map((store) => store.close()));
  }

  return {
    accept,
    refuse,
    publish,
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
