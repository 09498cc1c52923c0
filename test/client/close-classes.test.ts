/**
 * The reconnect decision reads close classes through `closeClassOf`, which computes them
 * from code ranges; the protocol's `CLOSE_CLASS` table must say the same for every code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCode, closeClassOf } from '../../src/entries/client.js';
import { CLOSE_CLASS } from '../../src/protocol/index.js';

describe('closeClassOf', () => {
  it('agrees with CLOSE_CLASS for every known code', () => {
    for (const code of Object.values(CloseCode)) {
      assert.equal(closeClassOf(code), CLOSE_CLASS[code], `code ${code}`);
    }
  });

  it('treats unknown 4000–4999 codes as fatal and every other unknown code as retry', () => {
    for (const code of [4009, 4099, 4105, 4500, 4999]) assert.equal(closeClassOf(code), 'fatal');
    for (const code of [1002, 1005, 1012, 3000, 3999, 5000])
      assert.equal(closeClassOf(code), 'retry');
  });
});
