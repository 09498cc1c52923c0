/**
 * uni-app (App, H5 and every mini-program target): the client over `uni.connectSocket`
 * (and `uni.request` for polling), with `uni.onAppShow` and `uni.onNetworkStatusChange`
 * wired in where the runtime has them (see `mini-program.ts` for what they do).
 */
import type { LifelineClient } from '../client/types.js';
import {
  createMiniProgramClient,
  requireHost,
  type MiniProgramClientOptions,
  type MiniProgramHost,
} from './mini-program.js';

/** The `uni` object as Lifeline uses it. */
export type UniHost = MiniProgramHost;

export interface UniClientOptions extends MiniProgramClientOptions {
  /** uni-app's API object. @default the global `uni` */
  readonly uni?: UniHost;
}

// `uni` is injected by the uni-app compiler as a global variable, not always a property of
// `globalThis`; a bundler keeps the free reference, so look it up both ways.
declare const uni: unknown;

function globalUni(): unknown {
  if (typeof uni !== 'undefined') return uni;
  return (globalThis as { uni?: unknown }).uni;
}

/**
 * A client for uni-app. Options are those of `createClient` without `WebSocket` (it is
 * built over `uni.connectSocket`; polling goes over `uni.request`), plus `uni`, `header`,
 * `pollTimeoutMs`, `checkOnAppShow`. Throws `UnsupportedError` when there is no
 * `uni.connectSocket`.
 */
export function createUniClient(options: UniClientOptions): LifelineClient {
  const { uni: given, ...rest } = options;
  const host = requireHost(given ?? globalUni(), { name: 'uni', runtime: 'a uni-app app' });
  return createMiniProgramClient(host, 'uni', rest);
}
