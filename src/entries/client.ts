/**
 * `lifeline/client`: the browser-safe client. No Node built-ins and no `ws` in here; Node
 * users pass `WebSocket` from `ws` or import `lifeline/node`.
 */
export { createClient } from '../client/client.js';
export { CLIENT_NAME, DEFAULT_MAX_FRAME_BYTES } from '../client/outbound.js';
export {
  DEFAULT_ACK_DELAY_MS,
  DEFAULT_CHANNEL_ACK_DELAY_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_RECONNECT_ATTEMPTS,
  DEFAULT_MAX_RECONNECT_DELAY_MS,
  DEFAULT_MIN_RECONNECT_DELAY_MS,
  DEFAULT_OUTBOX_MAX_BYTES,
  DEFAULT_OUTBOX_MAX_MESSAGES,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PONG_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_STORAGE_KEY_PREFIX,
  DEFAULT_STORAGE_SAVE_DELAY_MS,
  DEFAULT_FALLBACK,
  DEFAULT_FALLBACK_AFTER_FAILURES,
  DEFAULT_FALLBACK_AFTER_MS,
  DEFAULT_MAX_PROBE_INTERVAL_MS,
  DEFAULT_PROBE_INTERVAL_MS,
  DEFAULT_TRANSPORT_MEMORY_MS,
  DEFAULT_TRANSPORTS,
  TRANSPORT_MEMORY_KEY_PREFIX,
} from '../client/options.js';
export type { FallbackMode } from '../client/fallback.js';
export type {
  BatchOptions,
  ClientOptions,
  NetworkSource,
  OutboxOptions,
  PositionStorage,
  TokenSource,
} from '../client/options.js';
export type {
  CloseReason,
  ConnectionState,
  SessionInfo,
  StateChange,
  StateKind,
} from '../client/state.js';
export type { Subscription } from '../client/subscriptions.js';
export type {
  ClientEventName,
  ClientEvents,
  LifelineClient,
  PublishReceipt,
  PushMessage,
  RequestOptions,
  SendOptions,
  ResyncEvent,
  SendResult,
} from '../client/types.js';
export type {
  CloseEventLike,
  EventHandlerLike,
  MessageEventLike,
  WebSocketConstructorLike,
  WebSocketLike,
} from '../client/transports/websocket.js';
export type { TransportKind } from '../client/transports/transport.js';
export { fetchRequester } from '../client/transports/http.js';
export type {
  FetchLike,
  HttpExchange,
  HttpRequest,
  HttpRequester,
  HttpResponse,
} from '../client/transports/http.js';
export type { Clock, PageEvent, PageLifecycle, BrowserPageHost } from '../env/index.js';
export { browserPage } from '../env/index.js';

export {
  AuthExpiredError,
  AuthFailedError,
  CallbackError,
  ClientClosedError,
  ClosedByServerError,
  CloseCode,
  ConnectFailedError,
  ErrorCode,
  FrameTooLargeError,
  HeartbeatTimeoutError,
  InvalidOptionError,
  LifelineError,
  OutboxFullError,
  ProtocolError,
  ReplacedError,
  RequestFailedError,
  StorageError,
  TimeoutError,
  UnsupportedError,
  closeClassOf,
} from '../protocol/index.js';
export type {
  CloseClass,
  LifelineErrorOptions,
  ReplyErrorCode,
  ResyncReason,
  PublishTarget,
  StreamPosition,
} from '../protocol/index.js';
