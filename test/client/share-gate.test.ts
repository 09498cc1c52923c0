/**
 * The checkpoint gate and the error codec of shared tabs, as units: which saved positions
 * may become the next leader's starting point, and typed errors crossing the channel.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LifelineError } from '../../src/entries/client.js';
import {
  ClientClosedError,
  ReplacedError,
  RequestFailedError,
  type PositionStorage,
} from '../../src/entries/client.js';
import { Scope } from '../../src/env/index.js';
import { CheckpointGate, type CheckpointMemory } from '../../src/client/share/gate.js';
import { decodeError, decodeState, encodeError, encodeState } from '../../src/client/share/wire.js';
import { FakeClock } from '../helpers/fake-clock.js';

const KEY = 'lifeline:positions:ws://gw/ws';

function gate(storage?: PositionStorage, saveDelayMs = 0) {
  const clock = new FakeClock();
  const memory: CheckpointMemory = { text: undefined };
  const announced: string[] = [];
  const errors: LifelineError[] = [];
  const g = new CheckpointGate(new Scope(clock), {
    positionsKey: KEY,
    storage,
    memory,
    confirmTimeoutMs: 1_000,
    saveDelayMs,
    published: (text) => announced.push(text),
    report: (error) => errors.push(error),
  });
  return { g, clock, memory, announced, errors };
}

describe('checkpoint gate', () => {
  it('writes a save only once every tab confirmed the events broadcast before it', () => {
    const items = new Map<string, string>();
    const storage = {
      getItem: (k: string) => items.get(k),
      setItem: (k: string, v: string) => void items.set(k, v),
    };
    const { g, clock, memory, announced } = gate(storage, 100);
    g.join('leader', 0);
    g.join('b', 0);
    g.seq = 2;
    g.setItem(KEY, 'after 2');
    g.confirm('leader', 2);
    clock.advance(100);
    assert.deepEqual(announced, [], 'b has not confirmed');
    assert.equal(items.get(KEY), undefined);
    g.seq = 3;
    g.setItem(KEY, 'after 3');
    g.confirm('b', 2);
    assert.deepEqual(announced, ['after 2'], 'the tabs learn it at once');
    g.confirm('b', 3);
    g.confirm('leader', 3);
    assert.deepEqual(announced, ['after 2', 'after 3']);
    assert.equal(memory.text, 'after 3');
    assert.equal(items.get(KEY), undefined, 'storage waits for saveDelayMs');
    clock.advance(100);
    assert.equal(items.get(KEY), 'after 3', 'the newest of the window');
    g.seq = 4;
    g.setItem(KEY, 'after 4');
    g.confirm('b', 4);
    g.confirm('leader', 4);
    g.dispose();
    assert.equal(items.get(KEY), 'after 4', 'written when the leader hands over');
  });

  it('lets other keys through, and reads the announced checkpoint before the storage', async () => {
    const items = new Map<string, string>([
      [KEY, 'stored'],
      ['other', 'x'],
    ]);
    const storage = {
      getItem: (k: string) => items.get(k),
      setItem: (k: string, v: string) => void items.set(k, v),
    };
    const { g, memory } = gate(storage);
    assert.equal(await g.getItem(KEY), 'stored');
    memory.text = 'announced';
    assert.equal(await g.getItem(KEY), 'announced');
    await g.setItem('other', 'y');
    assert.equal(items.get('other'), 'y');
  });

  it('stops waiting for a tab that does not confirm within confirmTimeoutMs', () => {
    const { g, clock, announced } = gate();
    g.join('a', 0);
    g.join('frozen', 0);
    g.seq = 1;
    g.setItem(KEY, 'after 1');
    g.confirm('a', 1);
    assert.deepEqual(announced, []);
    clock.advance(999);
    assert.deepEqual(announced, []);
    clock.advance(1);
    assert.deepEqual(announced, ['after 1']);
    assert.equal(clock.pendingTimers, 0);
  });

  it('keeps nothing running once a tab that left no longer holds anything back', () => {
    const { g, clock, announced } = gate();
    g.join('a', 0);
    g.join('b', 0);
    g.seq = 5;
    g.setItem(KEY, 'after 5');
    g.confirm('a', 5);
    g.leave('b');
    assert.deepEqual(announced, ['after 5']);
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('errors and states across the channel', () => {
  it('come back as the same typed errors', () => {
    const replaced = decodeError(
      structuredClone(encodeError(new ReplacedError('replaced', { closeCode: 4005 }))),
    );
    assert.ok(replaced instanceof ReplacedError);
    assert.equal(replaced.closeCode, 4005);
    const refused = decodeError(
      structuredClone(encodeError(new RequestFailedError('forbidden', 'no'))),
    );
    assert.ok(refused instanceof RequestFailedError);
    assert.equal(refused.replyCode, 'forbidden');
    const state = decodeState(
      structuredClone(
        encodeState({
          kind: 'closed',
          reason: { initiator: 'server', code: 4005, error: new ReplacedError('r') },
        }),
      ),
    );
    assert.ok(state.kind === 'closed' && state.reason.initiator === 'server');
    assert.ok(state.reason.error instanceof ReplacedError);
    assert.ok(decodeError(encodeError(new ClientClosedError('c'))) instanceof ClientClosedError);
  });
});
