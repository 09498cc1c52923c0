/**
 * `replay()` against a scripted message log, for the races a real log makes hard to hit:
 * retention removing messages between the head check and the reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResyncFrame } from '../../src/protocol/index.js';
import {
  CatchUp,
  judge,
  replay,
  type ReplaySource,
  type ReplayTarget,
} from '../../src/server/replay.js';
import type { LogSlice, StreamHead } from '../../src/storage/types.js';

const STREAM = 'user:alice';

function scriptedLog(heads: StreamHead[], read: (after: number) => LogSlice): ReplaySource {
  return {
    read: (_stream, after) => Promise.resolve(read(after)),
    head: () => Promise.resolve(heads.shift()),
  };
}

function slice(epoch: string, offsets: number[]): LogSlice {
  return {
    epoch,
    messages: offsets.map((offset) => ({ id: `m${offset}`, data: offset, publishedAt: 1, offset })),
  };
}

function recorder(): ReplayTarget & { written: unknown[] } {
  const written: unknown[] = [];
  return {
    written,
    writePush(text) {
      const frame = JSON.parse(text) as { offset: number };
      written.push(frame.offset);
      return true;
    },
    writeResync(frame: ResyncFrame) {
      written.push(frame);
      return true;
    },
    wants: () => true,
  };
}

function held(catchUp: CatchUp, epoch: string, offset: number): void {
  catchUp.hold(epoch, offset, JSON.stringify({ offset }));
}

describe('judge', () => {
  const head = { epoch: 'e', offset: 10, firstOffset: 6 };
  it('serves positions from firstOffset − 1 to the head', () => {
    assert.equal(judge({ epoch: 'e', offset: 5 }, head), undefined);
    assert.equal(judge({ epoch: 'e', offset: 10 }, head), undefined);
  });
  it('names why anything else cannot be served', () => {
    assert.equal(judge({ epoch: 'e', offset: 4 }, head), 'trimmed');
    assert.equal(judge({ epoch: 'e', offset: 11 }, head), 'ahead');
    assert.equal(judge({ epoch: 'other', offset: 7 }, head), 'epoch_changed');
    assert.equal(judge({ epoch: 'e', offset: 0 }, undefined), 'epoch_changed');
  });
  it('serves offset 0 of a stream whose history is all retained', () => {
    assert.equal(
      judge({ epoch: 'e', offset: 0 }, { epoch: 'e', offset: 3, firstOffset: 1 }),
      undefined,
    );
  });
});

describe('replay', () => {
  it('stops with resync (trimmed) when retention overtakes it, keeping the contiguous part', async () => {
    const log = scriptedLog(
      [
        { epoch: 'e', offset: 10, firstOffset: 1 },
        { epoch: 'e', offset: 12, firstOffset: 8 },
      ],
      // Messages 1–2 come back, then retention dropped 3–7 before the next read.
      (after) => slice('e', after === 0 ? [1, 2, 8, 9, 10] : []),
    );
    const catchUp = new CatchUp('e', 0);
    for (const offset of [11, 12, 13]) held(catchUp, 'e', offset);
    const target = recorder();
    await replay(log, STREAM, catchUp, target);
    assert.deepEqual(target.written, [
      1,
      2,
      { type: 'resync', stream: STREAM, reason: 'trimmed', epoch: 'e', offset: 12 },
      13,
    ]);
    assert.equal(catchUp.heldBytes, 0);
  });

  it('says trimmed when the reads stop short of the head seen before', async () => {
    const log = scriptedLog(
      [
        { epoch: 'e', offset: 5, firstOffset: 1 },
        { epoch: 'e', offset: 5, firstOffset: 6 },
      ],
      () => slice('e', []),
    );
    const target = recorder();
    await replay(log, STREAM, new CatchUp('e', 2), target);
    assert.deepEqual(target.written, [
      { type: 'resync', stream: STREAM, reason: 'trimmed', epoch: 'e', offset: 5 },
    ]);
  });

  it('writes held pushes of a history that began after the resync', async () => {
    const log = scriptedLog([], () => slice('e', []));
    const catchUp = new CatchUp('gone', 4);
    held(catchUp, 'fresh', 1);
    held(catchUp, 'fresh', 2);
    const target = recorder();
    await replay(log, STREAM, catchUp, target);
    assert.deepEqual(target.written, [
      { type: 'resync', stream: STREAM, reason: 'epoch_changed' },
      1,
      2,
    ]);
  });

  it('drops held pushes the replay already wrote', async () => {
    const log = scriptedLog([{ epoch: 'e', offset: 4, firstOffset: 1 }], (after) =>
      slice(
        'e',
        [1, 2, 3, 4, 5].filter((o) => o > after),
      ),
    );
    const catchUp = new CatchUp('e', 2);
    for (const offset of [4, 5, 6]) held(catchUp, 'e', offset);
    const target = recorder();
    await replay(log, STREAM, catchUp, target);
    assert.deepEqual(target.written, [3, 4, 5, 6]);
  });
});
