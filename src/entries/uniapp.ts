/**
 * `lifeline/uniapp`: everything in `lifeline/client`, plus {@link createUniClient}, which
 * brings its own WebSocket (over `uni.connectSocket`) and HTTP long-polling fallback (over
 * `uni.request`) and watches the app's foreground and the network.
 */
export * from './mini-program.js';
export { createUniClient, type UniClientOptions, type UniHost } from '../platforms/uniapp.js';
