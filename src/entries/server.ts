/**
 * `lifeline/server`: the gateway for Node.js.
 *
 * ```ts
 * const gateway = createGateway({ server, jwt: { secret: process.env.JWT_SECRET } });
 * await gateway.publish({ to: { user: 'u1' }, data: { text: 'hello' } });
 * ```
 */
export {
  createGateway,
  DEFAULT_PATH,
  type Gateway,
  type GatewayOptions,
} from '../adapters/ws-gateway.js';
export {
  createHttpApi,
  type HttpApiGateway,
  type HttpApiOptions,
  type HttpHandler,
} from '../adapters/http-api.js';
export { createGatewayCore, type GatewayCore } from '../server/gateway.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_RATE_LIMIT_BURST,
  DEFAULT_RATE_LIMIT_FRAMES_PER_SECOND,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_MAX_SESSIONS_PER_USER,
  DEFAULT_PER_DEVICE_POLICY,
  DEFAULT_REQUEST_DEDUPE_MAX_ENTRIES_PER_USER,
  DEFAULT_REQUEST_DEDUPE_WINDOW_MS,
  DEFAULT_SESSION_OVERFLOW,
  MAX_PUBLISH_USERS,
  type GatewayCoreOptions,
  type PerDevicePolicy,
  type RateLimitOptions,
  type RequestDedupeOptions,
  type SessionOverflowPolicy,
  type SessionPolicyOptions,
} from '../server/options.js';
export {
  createJwtAuthenticate,
  DEFAULT_TENANT_CLAIM,
  type JwtOptions,
} from '../server/auth/jwt.js';
export { REPLY_MESSAGE } from '../server/open-frames.js';
export { silentLogger, type Logger, type LogFn } from '../server/logger.js';
export {
  AuthError,
  ForbiddenError,
  PublishError,
  type Authenticate,
  type AuthorizeSubscribe,
  type AuthRequest,
  type Connection,
  type ConnectionHandler,
  type ConnectionInfo,
  type DisconnectTarget,
  type GatewayEvents,
  type GatewayStats,
  type Identity,
  type OnMessage,
  type PublishInput,
  type PublishResult,
  type SessionClosedEvent,
  type SessionInfo,
  type Target,
  type UserFilter,
} from '../server/types.js';
export { createMemoryLog, type MemoryLogOptions } from '../storage/memory.js';
export { createMemoryAckStore } from '../storage/memory-acks.js';
export {
  DEFAULT_RETENTION_MAX_AGE_MS,
  DEFAULT_RETENTION_MAX_MESSAGES,
  type AckConsumer,
  type AckStore,
  type LogMessage,
  type LoggedMessage,
  type LogPosition,
  type LogSlice,
  type MessageLog,
  type RetentionOptions,
  type StreamHead,
} from '../storage/types.js';
export {
  CloseCode,
  CLOSE_REASON,
  InvalidOptionError,
  ReplyErrorCode,
  SUBPROTOCOL,
  type StreamPosition,
} from '../protocol/index.js';
export type { Clock } from '../env/index.js';
export {
  createSqliteStore,
  type SqliteStore,
  type SqliteStoreOptions,
} from '../adapters/sqlite-store.js';
export { createSqliteLog, type SqliteLogOptions } from '../adapters/sqlite-log.js';
export { createSqliteAckStore, type SqliteAckStoreOptions } from '../adapters/sqlite-acks.js';
export {
  StoreError,
  StoreErrorCode,
  StoreOpenError,
  StoreClosedError,
  StoreWriteError,
  StoreQueryError,
} from '../adapters/sqlite-errors.js';
