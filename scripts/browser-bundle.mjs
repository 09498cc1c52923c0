// The production settings of the browser bundles, shared by the build (scripts/build.mjs)
// and the benchmark's client-size scenario, so both measure the bundle that ships.
import { builtinModules } from 'node:module';
import { minify } from 'terser';

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
export const INTERNAL_PROPS = [
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
  'current',
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
  'scope',
  'sent',
  'setDeadline',
  'settle',
  'snapshot',
  'start',
  'started',
  'succeeded',
  'timedOut',
  'transition',
  'wasOpen',
];
/**
 * esbuild options of a production browser bundle (minified, `LIFELINE_DEV` false, internal
 * names shortened); `extra` adds the entry and output and may override any of them.
 */
export function browserBundleOptions(extra = {}) {
  return {
    bundle: true,
    minify: true,
    define: { LIFELINE_DEV: 'false' },
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
    plugins: [rejectNodeBuiltins],
    ...extra,
  };
}

/**
 * The last pass over a production bundle: terser, on esbuild's minified output. esbuild
 * bundles, drops dead code and shortens internal property names; terser then compresses
 * and renames variables again, by how often each is used, which gzip rewards (about 350
 * bytes gzip of the client). Only transformations terser considers safe are enabled.
 * `hoist_funs` moves function declarations to the top of their scope, where the language
 * puts them anyway: the functions then sit together and gzip finds more repeats (about 120
 * bytes gzip of the client).
 * `format` is esbuild's: top-level names of an ES or CommonJS module are its own to rename;
 * those of an IIFE script are globals (its `globalName`) and stay.
 */
export async function finishBundle(code, { format, ecma = 2020 }) {
  const result = await minify(code, {
    module: format === 'esm',
    toplevel: format !== 'iife',
    ecma,
    compress: { passes: 1, hoist_funs: true },
    mangle: true,
    format: { comments: false },
  });
  if (typeof result.code !== 'string') throw new Error('terser produced no code');
  return result.code;
}
