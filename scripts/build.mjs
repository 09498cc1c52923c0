// Build: TypeScript → dist/ (ESM + .d.ts), then the browser bundles of the client and the
// demo page.
//
//   dist/browser/lifeline.js            ESM, minified, for <script type="module"> / bundlers
//   dist/browser/lifeline.iife.min.js   IIFE defining the global `Lifeline`, for a plain <script>
//   dist/browser/lifeline.dev.js        ESM, readable, with development messages and checks
//   dist/browser/lifeline-shared.js     ESM, minified: lifeline/shared (tabs sharing a connection)
//   dist/browser/size.json              { bytes, gzipBytes } of lifeline.js (minified, gzip -9)
//   dist/miniprogram/index.js           CommonJS, minified, ES2017: lifeline/wechat for native
//                                       WeChat projects (the `miniprogram` field of package.json)
//
// The minified bundles are production builds: `LIFELINE_DEV` is defined as false, which
// drops long error messages and the self-checks of outgoing frames (see src/env/dev.ts).
// Error classes, codes and behaviour are the same in both.
//   dist/demo/                          the demo page served by `lifeline serve`
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { INTERNAL_PROPS, browserBundleOptions, finishBundle } from './browser-bundle.mjs';

const CLIENT_ENTRY = 'src/entries/client.ts';
const BROWSER_DIR = 'dist/browser';
const MINIPROGRAM_DIR = 'dist/miniprogram';

rmSync('dist', { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'],
  {
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
if (existsSync('dist/cli/main.js')) chmodSync('dist/cli/main.js', 0o755);

// Where the bundles' public surface is declared: the API of lifeline/client and
// lifeline/shared, what the application injects (WebSocket, fetch, request, storage, page,
// clock), the frames on the wire and the messages between tabs (which may run other builds).
const PUBLIC_DECLARATIONS = [
  'dist/client/types.d.ts',
  'dist/client/options.d.ts',
  'dist/client/state.d.ts',
  'dist/client/transports/http.d.ts',
  'dist/client/transports/websocket.d.ts',
  'dist/env/clock.d.ts',
  'dist/env/page.d.ts',
  'dist/protocol/codes.d.ts',
  'dist/protocol/errors.d.ts',
  'dist/protocol/frames.d.ts',
  'dist/client/share/index.d.ts',
  'dist/client/share/wire.d.ts',
];
{
  // A member declaration: at the start of a line or after `{` / `;`, not a parameter.
  const declared = new RegExp(
    `(?:^|[{;])\\s*(?:readonly\\s+|get\\s+)?(${INTERNAL_PROPS.join('|')})\\??\\s*[:(]`,
    'gm',
  );
  // Nor a member of a built-in the client reads (`Symbol.dispose`, say).
  const builtins = [globalThis, Symbol, JSON, Math, Object.prototype, Array.prototype];
  builtins.push(String.prototype, Promise.prototype, Map.prototype, Set.prototype);
  const builtin = INTERNAL_PROPS.filter((name) => builtins.some((o) => name in o));
  if (builtin.length > 0) {
    console.error(`build: internal names that the bundles would shorten are built-in: ${builtin}`);
    process.exit(1);
  }
  const missing = PUBLIC_DECLARATIONS.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    console.error(`build: public declarations to check are missing: ${missing}`);
    process.exit(1);
  }
  // Frame types are keys too: the client looks up a frame's checks by its `type`.
  const frameType = new RegExp(`type: '(${INTERNAL_PROPS.join('|')})'`, 'g');
  const clashes = PUBLIC_DECLARATIONS.flatMap((file) => {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    return [...text.matchAll(declared), ...text.matchAll(frameType)].map(
      (m) => `${m[1]} (${file})`,
    );
  });
  if (clashes.length > 0) {
    console.error(`build: internal names that the bundles would shorten are public: ${clashes}`);
    process.exit(1);
  }
}

async function bundle(format, outfile, extra = {}) {
  const options = browserBundleOptions({
    entryPoints: [CLIENT_ENTRY],
    outfile,
    format,
    logLevel: 'warning',
    ...extra,
  });
  await build(options);
  // Production bundles get terser's pass too; the readable development build does not.
  if (options.minify) {
    const code = readFileSync(outfile, 'utf8');
    const ecma = options.target === 'es2017' ? 2017 : 2020;
    writeFileSync(outfile, await finishBundle(code, { format, ecma }));
  }
}

function sizeOf(file) {
  const bytes = readFileSync(file);
  return { bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

if (!existsSync(CLIENT_ENTRY)) {
  console.error(`build: ${CLIENT_ENTRY} is missing; the browser bundle cannot be built`);
  process.exit(1);
}
mkdirSync(BROWSER_DIR, { recursive: true });
mkdirSync(MINIPROGRAM_DIR, { recursive: true });
writeFileSync(`${MINIPROGRAM_DIR}/index.d.ts`, "export * from '../entries/wechat.js';\n");
// This package is `"type": "module"`; the mini-program build is CommonJS wherever it is loaded.
writeFileSync(`${MINIPROGRAM_DIR}/package.json`, '{ "type": "commonjs" }\n');
try {
  await bundle('esm', `${BROWSER_DIR}/lifeline.js`);
  await bundle('iife', `${BROWSER_DIR}/lifeline.iife.min.js`, { globalName: 'Lifeline' });
  await bundle('esm', `${BROWSER_DIR}/lifeline-shared.js`, {
    entryPoints: ['src/entries/shared.ts'],
  });
  await bundle('esm', `${BROWSER_DIR}/lifeline.dev.js`, {
    minify: false,
    define: { LIFELINE_DEV: 'true' },
  });
  // WeChat's "Build npm" copies the directory named by package.json's `miniprogram` field
  // into miniprogram_npm/ and resolves `require('lifeline')` to its index.js: CommonJS,
  // dependencies inlined (there are none), syntax every supported base library runs.
  // Only `_`-suffixed names are shortened here: INTERNAL_PROPS holds `fail`, which the
  // platform's own APIs (the callbacks of wx.request and wx.connectSocket) read by name.
  await bundle('cjs', `${MINIPROGRAM_DIR}/index.js`, {
    entryPoints: ['src/entries/wechat.ts'],
    target: 'es2017',
    mangleProps: /_$/,
  });
} catch {
  // esbuild has already printed the errors.
  console.error('build: the browser bundle failed');
  process.exit(1);
}
const esm = sizeOf(`${BROWSER_DIR}/lifeline.js`);
const iife = sizeOf(`${BROWSER_DIR}/lifeline.iife.min.js`);
writeFileSync(
  `${BROWSER_DIR}/size.json`,
  JSON.stringify({ file: 'lifeline.js', ...esm, iife }, null, 2) + '\n',
);
console.log(
  `build: ${BROWSER_DIR}/lifeline.js ${esm.bytes} B minified, ${esm.gzipBytes} B gzip` +
    ` (iife ${iife.bytes} B, ${iife.gzipBytes} B gzip)`,
);

cpSync('src/demo', 'dist/demo', { recursive: true });
