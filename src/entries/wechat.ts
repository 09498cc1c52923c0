/**
 * `lifeline/wechat`: everything in `lifeline/client`, plus {@link createWechatClient},
 * which brings its own WebSocket (over `wx.connectSocket`) and watches the app's
 * foreground and the network.
 */
export * from './client.js';
export {
  createWechatClient,
  type WechatClientOptions,
  type WechatHost,
} from '../platforms/wechat.js';
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
