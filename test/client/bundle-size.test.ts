/**
 * The browser bundle as `npm run build` leaves it: the size the README states is the size
 * it has, and the production build carries none of the development messages. Skipped
 * when there is no build.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

const SIZE = 'dist/browser/size.json';
const BUNDLE = 'dist/browser/lifeline.js';
const built = existsSync(SIZE) && existsSync(BUNDLE);

describe('browser bundle', { skip: built ? false : 'run `npm run build` first' }, () => {
  it('has the size the README states (KB of 1,000 bytes)', () => {
    const { bytes, gzipBytes } = JSON.parse(readFileSync(SIZE, 'utf8')) as {
      bytes: number;
      gzipBytes: number;
    };
    const readme = readFileSync('README.md', 'utf8').replace(/\s+/g, ' ');
    const stated = /lifeline\.js`, is ([\d.]+) KB minified and ([\d.]+) KB min\+gzip/.exec(readme);
    assert.ok(stated, 'README states the size of dist/browser/lifeline.js');
    assert.equal(stated[1], (bytes / 1000).toFixed(1), 'minified');
    assert.equal(stated[2], (gzipBytes / 1000).toFixed(1), 'min+gzip');
  });

  it('is a production build: development messages are left out', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    for (const message of ['must be', 'Protocol error:', 'The gateway rejected', 'No welcome'])
      assert.equal(text.includes(message), false, message);
  });
});
