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

async function bundle(format, outfile, extra = {}) {
  await build({
    entryPoints: [CLIENT_ENTRY],
    outfile,
    bundle: true,
    minify: true,
    define: { LIFELINE_DEV: 'false' },
    format,
    platform: 'browser',
    target: 'es2020',
    // Internal members are TypeScript `private` names ending in `_` (never part of the
    // public API or the wire format), so they can be shortened. `#private` fields would be
    // lowered to WeakMaps for es2020, which is larger.
    mangleProps: /_$/,
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
