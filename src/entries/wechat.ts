/**
 * `lifeline/wechat`: everything in `lifeline/client`, plus {@link createWechatClient},
 * which brings its own WebSocket (over `wx.connectSocket`) and HTTP long-polling fallback
 * (over `wx.request`) and watches the app's foreground and the network.
 */
export * from './mini-program.js';
export {
  createWechatClient,
  type WechatClientOptions,
  type WechatHost,
} from '../platforms/wechat.js';
