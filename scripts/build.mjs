// Build: TypeScript → dist/ (ESM + .d.ts), then the browser bundles of the client and the
// demo page.
//
//   dist/browser/lifeline.js            ESM, minified, for <script type="module"> / bundlers
//   dist/browser/lifeline.iife.min.js   IIFE defining the global `Lifeline`, for a plain <script>
//   dist/browser/lifeline.dev.js        ESM, readable, with development messages and checks
//   dist/browser/lifeline-shared.js     ESM, minified: lifeline/shared (tabs sharing a connection)
//   dist/browser/size.json              { bytes, gzipBytes } of lifeline.js (minified, gzip -9)
//
// The minified bundles are production builds: `LIFELINE_DEV` is defined as false, which
// drops long error messages and the self-checks of outgoing frames (see src/env/dev.ts).
// Error classes, codes and behaviour are the same in both.
//   dist/demo/                          the demo page served by `lifeline serve`
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
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

const CLIENT_ENTRY = 'src/entries/client.ts';
const BROWSER_DIR = 'dist/browser';

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

// The browser client must not depend on Node: any Node built-in that reaches the bundle
// fails the build with the importing file named, instead of breaking in a browser later.
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const rejectNodeBuiltins = {
  name: 'reject-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (!args.path.startsWith('node:') && !nodeBuiltins.has(args.path)) return undefined;
      return {
        errors: [
          {
            text: `the browser bundle must not import Node built-in "${args.path}" (imported by ${args.importer})`,
          },
        ],
      };
    });
  },
};

// Members of the client's internal classes and options objects that have no `_` suffix
// (they are called across modules) but are internal all the same: the browser bundles
// shorten them too. None of them may name a property of a public type or of the wire
// format, nor be a key read by name (like the frame types the decoder looks up): both are
// checked below against the public declarations.
const INTERNAL_PROPS = [
  'activity',
  'attach',
  'attemptTimeoutMs',
  'broken',
  'buffered',
  'bytes',
  'cancel',
  'cancelTimer',
  'changed',
  'check',
  'child',
  'closed',
  'dead',
  'delayMs',
  'detach',
  'disposed',
  'done',
  'emit',
  'entry',
  'fail',
  'failed',
  'failures',
  'flush',
  'generation',
  'handles',
  'heartbeat',
  'hold',
  'intervalMs',
  'latest',
  'listen',
  'load',
  'malformed',
  'maxDelayMs',
  'minDelayMs',
  'nextId',
  'opened',
  'payload',
  'persistWith',
  'positionOf',
  'probeDelayMs',
  'probeFailed',
  'probeFailures',
  'promoted',
  'recall',
  'received',
  'rejectAll',
  'remember',
  'report',
  'reset',
  'restore',
  'saveDelayMs',
  'sent',
  'setDeadline',
  'settle',
  'snapshot',
  'start',
  'started',
  'succeeded',
  'timedOut',
  'wasOpen',
];
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
  await build({
    entryPoints: [CLIENT_ENTRY],
    outfile,
    bundle: true,
    minify: true,
    define: { LIFELINE_DEV: 'false' },
    format,
    platform: 'browser',
    // es2021 keeps `??=` as written (es2020 would spell each one out); every browser from
    // 2020 on (Chrome 85, Firefox 79, Safari 14) runs it.
    target: 'es2021',
    // Internal members are TypeScript `private` names ending in `_` (never part of the
    // public API or the wire format) and INTERNAL_PROPS, so they can be shortened.
    // `#private` fields would be lowered to WeakMaps for es2021, which is larger.
    mangleProps: new RegExp(`_$|^(${INTERNAL_PROPS.join('|')})$`),
    // Class fields as plain assignments: no `defineProperty` helper per field.
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [rejectNodeBuiltins],
    ...extra,
  });
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
