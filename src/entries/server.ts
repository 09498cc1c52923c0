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
export {
  DEFAULT_CROSS_NODE_CHECK_MS,
  DEFAULT_NODE_TIMEOUT_MS,
  DEFAULT_POLL_HOLD_MS,
  DEFAULT_POLL_MAX_BODY_BYTES,
  POLL_VERSION_PARAM,
  PollErrorCode,
  type PollingOptions,
} from '../adapters/polling-http.js';
export type { PollingSession } from '../server/polling-session.js';
export { createMemoryPollingStore } from '../storage/memory-polling.js';
export type {
  ForwardedToSession,
  PollingBegin,
  PollingForward,
  PollingSessionRecord,
  PollingStore,
  PollingTake,
} from '../storage/polling.js';
export {
  createSqlitePollingStore,
  type SqlitePollingStoreOptions,
} from '../adapters/sqlite-polling.js';
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
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  DEFAULT_RECEIPT_FLUSH_INTERVAL_MS,
  MAX_PUBLISH_USERS,
  type DeliveryReceiptOptions,
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
export { DEFAULT_STATUS_LIMIT, MAX_STATUS_LIMIT } from '../server/status.js';
export {
  AuthError,
  ForbiddenError,
  MAX_TTL_SECONDS,
  PublishConflictError,
  PublishError,
  type Authenticate,
  type AuthorizePublish,
  type AuthorizeSubscribe,
  type AuthRequest,
  type Connection,
  type ConnectionHandler,
  type ConnectionInfo,
  type DisconnectTarget,
  type GatewayEvents,
  type GatewayStats,
  type Identity,
  type MessageStatus,
  type MessageStatusOptions,
  type OnMessage,
  type PublishInput,
  type PublishResult,
  type RecipientStatus,
  type SessionClosedEvent,
  type SessionInfo,
  type Target,
  type UserFilter,
} from '../server/types.js';
export { createMemoryLog, type MemoryLogOptions } from '../storage/memory.js';
export { createMemoryAckStore, type MemoryAckStoreOptions } from '../storage/memory-acks.js';
export {
  DEFAULT_MEMORY_RECEIPTS_PER_STREAM,
  DEFAULT_MEMORY_RECORD_MAX_COUNT,
  DEFAULT_RECEIPT_MAX_AGE_MS,
  DEFAULT_RECORD_MAX_AGE_MS,
  DEFAULT_RETENTION_MAX_AGE_MS,
  DEFAULT_RETENTION_MAX_MESSAGES,
  DEFAULT_SQLITE_RECORD_MAX_COUNT,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  type AckConsumer,
  type AckerPosition,
  type AckersQuery,
  type AckStore,
  type IdempotencyClaim,
  type LogMessage,
  type LoggedMessage,
  type LogPosition,
  type LogPublish,
  type LogPublished,
  type LogSlice,
  type MessageLog,
  type PublishRecord,
  type Receipt,
  type ReceiptRetentionOptions,
  type ReceiptsQuery,
  type RecordRetentionOptions,
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
