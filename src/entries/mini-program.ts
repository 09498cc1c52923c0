/**
 * What `lifeline/uniapp` and `lifeline/wechat` share: the whole client, the app-show and
 * network wiring, the SocketTask adapter and the polling requester over `request`. Not a
 * package entry of its own.
 */
export * from './client.js';
export {
  appShown,
  type MiniProgramClientOptions,
  type MiniProgramHost,
  type NetworkStatus,
} from '../platforms/mini-program.js';
export {
  socketTaskWebSocket,
  type SocketTaskWebSocketOptions,
  type ConnectSocket,
  type ConnectSocketOptions,
  type PlatformError,
  type SocketTaskLike,
} from '../platforms/socket-task.js';
export {
  DEFAULT_POLL_TIMEOUT_MS,
  miniProgramRequester,
  type MiniProgramRequesterOptions,
  type RequestCallOptions,
  type RequestFunction,
  type RequestSuccess,
} from '../platforms/request.js';
