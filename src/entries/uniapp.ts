/**
 * `lifeline/uniapp`: everything in `lifeline/client`, plus {@link createUniClient}, which
 * brings its own WebSocket (over `uni.connectSocket`) and watches the app's foreground and
 * the network.
 */
export * from './client.js';
export { createUniClient, type UniClientOptions, type UniHost } from '../platforms/uniapp.js';
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
