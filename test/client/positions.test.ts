/**
 * The per-stream bookkeeping every pushed message goes through: positions (received and
 * delivered), pending acks, and the event emitter. Each keeps the entry it used last at
 * hand, so a busy stream costs no Map lookup; these tests pin that the shortcut never
 * changes what is read, acknowledged or delivered when streams interleave or reset.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AckBatcher } from '../../src/client/acks.js';
import { Emitter } from '../../src/client/emitter.js';
import { Positions } from '../../src/client/positions.js';
import { Scope } from '../../src/env/index.js';
import type { StreamPosition } from '../../src/protocol/index.js';
import { FakeClock } from '../helpers/fake-clock.js';

const pos = (stream: string, offset: number, epoch = 'e1'): StreamPosition => ({
  stream,
  epoch,
  offset,
});

describe('Positions', () => {
  it('reads what was set, for the newest stream and the others, as streams interleave', () => {
    const p = new Positions();
    p.set(pos('a', 1));
    p.set(pos('b', 1));
    p.set(pos('b', 2));
    p.set(pos('a', 2));
    p.set(pos('a', 3, 'e2'));
    assert.deepEqual({ ...p.of('a') }, pos('a', 3, 'e2'));
    assert.deepEqual({ ...p.of('b') }, pos('b', 2));
    assert.equal(p.of('c'), undefined);
    // Least recently advanced first.
    assert.deepEqual(p.latest(), [pos('b', 2), pos('a', 3, 'e2')]);
    assert.deepEqual(p.latest(1), [pos('a', 3, 'e2')]);
  });

  it('forgets the newest stream on reset, and sets it again afterwards', () => {
    const p = new Positions();
    p.set(pos('a', 5));
    p.reset('a', undefined);
    assert.equal(p.of('a'), undefined);
    assert.deepEqual(p.latest(), []);
    p.set(pos('a', 1));
    assert.deepEqual({ ...p.of('a') }, pos('a', 1));
    p.reset('a', pos('a', 0, 'e9'));
    assert.deepEqual(p.latest(), [pos('a', 0, 'e9')]);
  });

  it('keeps entries apart: copies from latest() do not move with the stream', () => {
    const p = new Positions();
    p.set(pos('a', 1));
    const [copy] = p.latest();
    p.set(pos('a', 2));
    assert.deepEqual(copy, pos('a', 1));
    assert.equal(p.of('a')?.offset, 2);
  });
});

describe('AckBatcher', () => {
  function batcher(accept = true): {
    acks: AckBatcher;
    sent: StreamPosition[][];
    clock: FakeClock;
  } {
    const clock = new FakeClock();
    const sent: StreamPosition[][] = [];
    const acks = new AckBatcher(new Scope(clock), (positions) => {
      sent.push(positions.map((x) => ({ ...x })));
      return accept;
    });
    return { acks, sent, clock };
  }

  it('sends the newest position per stream, streams interleaved', () => {
    const { acks, sent } = batcher();
    acks.add(pos('a', 1), 1_000);
    acks.add(pos('b', 1), 1_000);
    acks.add(pos('a', 2), 1_000);
    acks.add(pos('b', 3), 1_000);
    acks.flush();
    assert.deepEqual(sent, [[pos('a', 2), pos('b', 3)]]);
  });

  it('starts afresh after a flush: a sent position is not sent again', () => {
    const { acks, sent } = batcher();
    acks.add(pos('a', 1), 1_000);
    acks.flush();
    acks.add(pos('a', 2), 1_000);
    acks.flush();
    acks.flush();
    assert.deepEqual(sent, [[pos('a', 1)], [pos('a', 2)]]);
  });

  it('keeps what could not be sent and moves it forward', () => {
    const failing = batcher(false);
    failing.acks.add(pos('a', 1), 1_000);
    failing.acks.flush();
    failing.acks.add(pos('a', 2), 1_000);
    failing.acks.flush();
    assert.deepEqual(failing.sent, [[pos('a', 1)], [pos('a', 2)]]);
  });

  it('hands out copies: what was sent does not move with the stream', () => {
    const held: StreamPosition[][] = [];
    const acks = new AckBatcher(new Scope(new FakeClock()), (positions) => {
      held.push([...positions]); // the very objects, as an `ack` listener may keep them
      return true;
    });
    acks.add(pos('a', 1), 1_000);
    acks.flush();
    acks.add(pos('a', 2), 1_000);
    acks.flush();
    assert.deepEqual(held, [[pos('a', 1)], [pos('a', 2)]]);
  });

  it('acknowledges streams that go quiet and come back, window after window', () => {
    const { acks, sent } = batcher();
    acks.add(pos('a', 1), 1_000);
    acks.add(pos('b', 1), 1_000);
    acks.flush();
    acks.add(pos('a', 2), 1_000); // b quiet for a window: forgotten at this flush
    acks.flush();
    acks.flush(); // nothing pending
    acks.add(pos('b', 2), 1_000);
    acks.add(pos('a', 3), 1_000);
    acks.flush();
    // The order of positions in one frame carries no meaning.
    const byStream = (ps: StreamPosition[]): StreamPosition[] =>
      [...ps].sort((x, y) => x.stream.localeCompare(y.stream));
    assert.deepEqual(sent.map(byStream), [
      [pos('a', 1), pos('b', 1)],
      [pos('a', 2)],
      [pos('a', 3), pos('b', 2)],
    ]);
  });

  it('sends within the shortest pending delay', () => {
    const { acks, sent, clock } = batcher();
    acks.add(pos('channel:x', 1), 5_000);
    acks.add(pos('user:u', 1), 1_000);
    clock.advance(999);
    assert.deepEqual(sent, []);
    clock.advance(1);
    assert.deepEqual(sent, [[pos('channel:x', 1), pos('user:u', 1)]]);
  });
});

describe('Emitter', () => {
  type Events = { message: number; error: unknown };

  it('calls a function added twice twice, and each disposer removes one of them', () => {
    const events = new Emitter<Events>();
    const calls: string[] = [];
    const f = (n: number): void => void calls.push(`f${n}`);
    const g = (n: number): void => void calls.push(`g${n}`);
    const offFirst = events.on('message', f);
    events.on('message', g);
    const offSecond = events.on('message', f);
    events.emit('message', 1);
    assert.deepEqual(calls, ['f1', 'g1', 'f1']);

    calls.length = 0;
    offFirst();
    offFirst(); // a disposer is idempotent: the other registration stays
    events.emit('message', 2);
    assert.deepEqual(calls, ['g2', 'f2']);

    calls.length = 0;
    offSecond();
    events.emit('message', 3);
    assert.deepEqual(calls, ['g3']);
  });

  it('removes the plain registration of a function while its repeat stays', () => {
    const events = new Emitter<Events>();
    const calls: number[] = [];
    const f = (n: number): void => void calls.push(n);
    events.on('message', f);
    const offSecond = events.on('message', f);
    offSecond();
    events.emit('message', 7);
    assert.deepEqual(calls, [7]);
  });

  it('sees listeners added and removed between two events of the same kind', () => {
    type Two = { message: number; state: string; error: unknown };
    const events = new Emitter<Two>();
    const calls: string[] = [];
    events.emit('message', 0); // no listener yet
    const offA = events.on('message', (n) => void calls.push(`a${n}`));
    events.emit('message', 1);
    events.on('message', (n) => void calls.push(`b${n}`));
    events.emit('message', 2);
    events.on('state', (s) => void calls.push(s));
    events.emit('state', 'x');
    offA();
    events.emit('message', 3);
    assert.deepEqual(calls, ['a1', 'a2', 'b2', 'x', 'b3']);
  });
});
