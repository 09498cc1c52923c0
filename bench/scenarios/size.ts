/**
 * Scenario 5, client size: the whole browser client bundled by esbuild as `npm run build`
 * ships it (dist/browser/lifeline.js: minified, production define, internal names
 * shortened), raw and gzip -9 bytes; socket.io-client bundled minified for the browser.
 * Raw `ws` needs no client in a browser (the native WebSocket).
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import { browserBundleOptions } from '../../scripts/browser-bundle.mjs';
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
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
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
    'Lifeline: `export * from "./src/entries/client.ts"` with the settings of `npm run build` (scripts/browser-bundle.mjs: production define, internal names shortened), the size of dist/browser/lifeline.js; Socket.IO: `export * from "socket.io-client"`, minified. Raw ws needs no browser client (0 bytes) and is left out.',
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
