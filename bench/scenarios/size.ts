/**
 * Scenario 5, client size: the whole browser client bundled by esbuild (minified,
 * browser, ESM), raw and gzip -9 bytes; socket.io-client bundled the same way. Raw `ws`
 * needs no client in a browser (the native WebSocket).
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { newTable, type Sample, type Table } from '../report.js';
import type { Context } from './context.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function bundleSize(contents: string): Promise<Sample> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
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
    'Lifeline: `export * from "./src/entries/client.ts"`; Socket.IO: `export * from "socket.io-client"`. Raw ws needs no browser client (0 bytes) and is left out.',
  );
  ctx.log('size: bundling');
  table.samples.lifeline = [await bundleSize(`export * from './src/entries/client.ts';`)];
  table.samples.socketio = [await bundleSize(`export * from 'socket.io-client';`)];
  return [table];
}
