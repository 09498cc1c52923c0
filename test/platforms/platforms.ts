/**
 * The mini-program entries, for suites that run once per platform: `create` builds a
 * client of that entry on a (fake) host object of `kind`. The WeChat entry runs twice:
 * from the sources, and as the CommonJS build native WeChat projects load
 * (`dist/miniprogram/index.js`, the package's `miniprogram` field).
 */
import { createRequire } from 'node:module';
import type { LifelineClient } from '../../src/entries/client.js';
import { createUniClient } from '../../src/entries/uniapp.js';
import { createWechatClient } from '../../src/entries/wechat.js';
import type {
  MiniProgramClientOptions,
  MiniProgramHost,
} from '../../src/platforms/mini-program.js';
import { assertBuilt } from '../helpers/cli.js';

const MINIPROGRAM_BUILD = new URL('../../dist/miniprogram/index.js', import.meta.url);

/** The CommonJS build, loaded with `require` as WeChat's runtime does. */
function wechatBuild(): { createWechatClient: typeof createWechatClient } {
  assertBuilt(MINIPROGRAM_BUILD.pathname);
  return createRequire(import.meta.url)(MINIPROGRAM_BUILD.pathname) as {
    createWechatClient: typeof createWechatClient;
  };
}

export const platforms: readonly {
  readonly name: string;
  readonly kind: 'wx' | 'uni';
  create(host: MiniProgramHost, options: MiniProgramClientOptions): LifelineClient;
}[] = [
  { name: 'wx', kind: 'wx', create: (wx, options) => createWechatClient({ ...options, wx }) },
  {
    name: 'wx (CommonJS build)',
    kind: 'wx',
    create: (wx, options) => wechatBuild().createWechatClient({ ...options, wx }),
  },
  { name: 'uni', kind: 'uni', create: (uni, options) => createUniClient({ ...options, uni }) },
];
