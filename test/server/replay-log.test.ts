/**
 * `replay()` against a scripted message log, for the races a real log makes hard to hit:
 * retention removing messages between the head check and the reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeServerFrame, type ResyncFrame } from '../../src/protocol/index.js';
import {
  CatchUp,
  judge,
  replay,
  type ReplaySource,
  type ReplayTarget,
} from '../../src/server/replay.js';
import type { LogSlice, StreamHead } from '../../src/storage/types.js';

const STREAM = 'user:alice';
const NOW = 1_000_000;

function scriptedLog(heads: StreamHead[], read: (after: number) => LogSlice): ReplaySource {
  return {
    read: (_stream, after) => Promise.resolve(read(after)),
    head: () => Promise.resolve(heads.shift()),
  };
}

/** Messages at `offsets`; those listed in `expired` are past their TTL at {@link NOW}. */
function slice(epoch: string, offsets: number[], expired: number[] = []): LogSlice {
  return {
    epoch,
    messages: offsets.map((offset) => ({
      id: `m${offset}`,
      data: offset,
      publishedAt: 1,
      offset,
      ...(expired.includes(offset) ? { expiresAt: NOW } : { expiresAt: NOW + 1 }),
    })),
  };
}

function recorder(): ReplayTarget & { written: unknown[] } {
  const written: unknown[] = [];
  return {
    written,
    writePush(text) {
      const frame = JSON.parse(text) as { offset: number; after?: number };
      written.push(
        frame.after === undefined ? frame.offset : `${frame.offset} after ${frame.after}`,
      );
      return true;
    },
    writeResync(frame: ResyncFrame) {
      written.push(frame);
      return true;
    },
    wants: () => true,
    now: () => NOW,
  };
}

/** A live push held while the replay runs, as fan-out serializes it. */
function held(catchUp: CatchUp, epoch: string, offset: number): void {
  const text = encodeServerFrame({
    type: 'push',
    id: `m${offset}`,
    stream: STREAM,
    epoch,
    offset,
    data: offset,
    publishedAt: 1,
  });
  catchUp.hold(epoch, offset, text);
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

  it('skips expired messages and names the offset the next push follows', async () => {
    const log = scriptedLog([{ epoch: 'e', offset: 6, firstOffset: 1 }], (after) =>
      slice(
        'e',
        [1, 2, 3, 4, 5, 6].filter((o) => o > after),
        [2, 3, 6],
      ),
    );
    const catchUp = new CatchUp('e', 0);
    held(catchUp, 'e', 6);
    held(catchUp, 'e', 7);
    held(catchUp, 'e', 8);
    const target = recorder();
    await replay(log, STREAM, catchUp, target);
    // 6 expired while it was held: the log's copy decides, and 7 follows 5.
    assert.deepEqual(target.written, [1, '4 after 1', 5, '7 after 5', 8]);
  });

  it('starts with `after` when the first messages after the position expired', async () => {
    const log = scriptedLog([{ epoch: 'e', offset: 3, firstOffset: 1 }], () =>
      slice('e', [1, 2, 3], [1]),
    );
    const target = recorder();
    await replay(log, STREAM, new CatchUp('e', 0), target);
    assert.deepEqual(target.written, ['2 after 0', 3]);
  });
});
