/**
 * WeChat mini-programs: the client over `wx.connectSocket` (and `wx.request` for
 * polling), with `wx.onAppShow` and `wx.onNetworkStatusChange` wired in (see
 * `mini-program.ts` for what they do).
 */
import type { LifelineClient } from '../client/types.js';
import {
  createMiniProgramClient,
  requireHost,
  type MiniProgramClientOptions,
  type MiniProgramHost,
} from './mini-program.js';

/** The `wx` object as Lifeline uses it. */
export type WechatHost = MiniProgramHost;

export interface WechatClientOptions extends MiniProgramClientOptions {
  /** WeChat's API object. @default the global `wx` */
  readonly wx?: WechatHost;
}

// `wx` is a global variable of the mini-program runtime, not always a property of
// `globalThis`; a bundler keeps the free reference, so look it up both ways.
declare const wx: unknown;

function globalWx(): unknown {
  if (typeof wx !== 'undefined') return wx;
  return (globalThis as { wx?: unknown }).wx;
}

/**
 * A client for WeChat mini-programs. Options are those of `createClient` without
 * `WebSocket` (it is built over `wx.connectSocket`; polling goes over `wx.request`), plus
 * `wx`, `header`, `pollTimeoutMs`, `checkOnAppShow`. Throws `UnsupportedError` when there
 * is no `wx.connectSocket`.
 */
export function createWechatClient(options: WechatClientOptions): LifelineClient {
  const { wx: given, ...rest } = options;
  const host = requireHost(given ?? globalWx(), { name: 'wx', runtime: 'a WeChat mini-program' });
  return createMiniProgramClient(host, 'wx', rest);
}
