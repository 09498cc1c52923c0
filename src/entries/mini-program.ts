/**
 * What `lifeline/uniapp` and `lifeline/wechat` share: the whole client, the app-show and
 * network wiring, and the SocketTask adapter. Not a package entry of its own.
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
