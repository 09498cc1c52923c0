/**
 * Scenario 5, client size: the whole browser client bundled as `npm run build` ships it
 * (dist/browser/lifeline.js: esbuild with the production define and internal names
 * shortened, then terser), raw and gzip -9 bytes; socket.io-client bundled by esbuild and
 * minified by the same two passes. Raw `ws` needs no client in a browser (the native
 * WebSocket).
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import { browserBundleOptions, finishBundle } from '../../scripts/browser-bundle.mjs';
import { newTable, type Sample, type Table } from '../report.js';
import type { Context } from './context.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function bundleSize(contents: string, options: BuildOptions): Promise<Sample> {
  const result = await build({
    ...options,
    stdin: { contents, resolveDir: root, loader: 'ts' },
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const bundled = result.outputFiles[0]?.text ?? '';
  const code = Buffer.from(await finishBundle(bundled, { format: 'esm' }));
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

export async function size(ctx: Context): Promise<Table[]> {
  const table = newTable(
    'size',
    'Client size (whole client, minified, browser ESM)',
    [
      { key: 'minBytes', label: 'minified (bytes)' },
      { key: 'gzipBytes', label: 'minified + gzip -9 (bytes)' },
    ],
    'socketio',
  );
  table.notes.push(
    'Lifeline: `export * from "./src/entries/client.ts"` with the settings of `npm run build` (scripts/browser-bundle.mjs: esbuild with the production define and internal names shortened, then terser), the size of dist/browser/lifeline.js; Socket.IO: `export * from "socket.io-client"`, minified by esbuild and then terser alike. Raw ws needs no browser client (0 bytes) and is left out.',
  );
  ctx.log('size: bundling');
  table.samples.lifeline = [
    await bundleSize(`export * from './src/entries/client.ts';`, browserBundleOptions()),
  ];
  table.samples.socketio = [
    await bundleSize(`export * from 'socket.io-client';`, {
      bundle: true,
      minify: true,
      platform: 'browser',
      target: 'es2021',
    }),
  ];
  return [table];
}
