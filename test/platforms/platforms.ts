/**
 * The two mini-program entries, for suites that run once per platform: `create` builds a
 * client of that entry on a (fake) host object.
 */
import type { LifelineClient } from '../../src/entries/client.js';
import { createUniClient } from '../../src/entries/uniapp.js';
import { createWechatClient } from '../../src/entries/wechat.js';
import type {
  MiniProgramClientOptions,
  MiniProgramHost,
} from '../../src/platforms/mini-program.js';

export const platforms: readonly {
  readonly name: 'wx' | 'uni';
  create(host: MiniProgramHost, options: MiniProgramClientOptions): LifelineClient;
}[] = [
  { name: 'wx', create: (wx, options) => createWechatClient({ ...options, wx }) },
  { name: 'uni', create: (uni, options) => createUniClient({ ...options, uni }) },
];
