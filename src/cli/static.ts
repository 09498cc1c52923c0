/**
 * The few static files `lifeline serve` hands out: the demo page and the browser build
 * of the client. A fixed table maps URL paths to files, so no request path ever reaches
 * the file system.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpHandler } from '../adapters/http-api.js';
import {
  HttpError,
  HttpErrorCode,
  methodNotAllowed,
  sendHttpError,
} from '../adapters/http-errors.js';
import { requestTarget } from '../adapters/http-request.js';

/** Where the demo page lives: `dist/demo/` next to `dist/cli/`. */
export const DEFAULT_DEMO_DIR = fileURLToPath(new URL('../demo/', import.meta.url));
/** Where the browser bundles live: `dist/browser/` next to `dist/cli/`. */
export const DEFAULT_BROWSER_DIR = fileURLToPath(new URL('../browser/', import.meta.url));

export interface StaticOptions {
  /**
   * Folder holding `index.html`, `demo.js` and `demo.css`.
   * @default DEFAULT_DEMO_DIR (`dist/demo/`)
   */
  readonly demoDir?: string;
  /**
   * Folder holding `lifeline.js` and `lifeline.iife.min.js`.
   * @default DEFAULT_BROWSER_DIR (`dist/browser/`)
   */
  readonly browserDir?: string;
}

interface Asset {
  readonly dir: 'demo' | 'browser';
  readonly file: string;
  readonly type: string;
}

const JS = 'text/javascript; charset=utf-8';

const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['/', { dir: 'demo', file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/index.html', { dir: 'demo', file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/demo.js', { dir: 'demo', file: 'demo.js', type: JS }],
  ['/demo.css', { dir: 'demo', file: 'demo.css', type: 'text/css; charset=utf-8' }],
  ['/lifeline.js', { dir: 'browser', file: 'lifeline.js', type: JS }],
  ['/lifeline.iife.min.js', { dir: 'browser', file: 'lifeline.iife.min.js', type: JS }],
]);

// The demo page loads only its own scripts and styles, and talks only to its own origin.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function send(res: ServerResponse, asset: Asset, body: Buffer): void {
  res.writeHead(200, {
    'content-type': asset.type,
    'content-length': String(body.length),
    // Revalidate every time: the files change with each build.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...(asset.file.endsWith('.html') ? { 'content-security-policy': CONTENT_SECURITY_POLICY } : {}),
  });
  res.end(body);
}

/** The static-file handler. */
export function createStaticHandler(options: StaticOptions = {}): HttpHandler {
  const dirs = {
    demo: options.demoDir ?? DEFAULT_DEMO_DIR,
    browser: options.browserDir ?? DEFAULT_BROWSER_DIR,
  };
  return async (req, res) => {
    const asset = ASSETS.get(requestTarget(req.url).pathname);
    if (asset === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendHttpError(res, methodNotAllowed(['GET', 'HEAD']));
      return true;
    }
    let body: Buffer;
    try {
      body = await readFile(join(dirs[asset.dir], asset.file));
    } catch {
      sendHttpError(
        res,
        new HttpError(
          404,
          HttpErrorCode.NOT_FOUND,
          `${asset.file} is not built; run \`npm run build\`.`,
        ),
      );
      return true;
    }
    send(res, asset, body);
    return true;
  };
}
