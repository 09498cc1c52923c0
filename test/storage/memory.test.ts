import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../../src/protocol/index.js';
import { createMemoryAckStore } from '../../src/storage/memory-acks.js';
import { createMemoryLog } from '../../src/storage/memory.js';
import { messageLogContract } from './message-log.contract.js';
import { publishContract } from './publish.contract.js';

messageLogContract('memory', (options) => createMemoryLog(options));
publishContract('memory', (options) => createMemoryLog(options));

test('memory log: each process start gets new epochs', async () => {
  const a = createMemoryLog();
  const b = createMemoryLog();
  const first = await a.append('user:x', { id: '1', data: 1, publishedAt: 0 });
  const second = await b.append('user:x', { id: '1', data: 1, publishedAt: 0 });
  assert.notEqual(first.epoch, second.epoch);
});

test('memory log: retention options are validated', () => {
  assert.throws(() => createMemoryLog({ retention: { maxMessages: 0 } }), InvalidOptionError);
  assert.throws(() => createMemoryLog({ retention: { maxAgeMs: -1 } }), InvalidOptionError);
  createMemoryLog({ retention: { maxMessages: Infinity, maxAgeMs: Infinity } });
});

test('memory ack store keeps the highest position per consumer and stream', async () => {
  const store = createMemoryAckStore();
  const phone = { userId: 'alice', tenantId: undefined, device: 'phone' };
  const laptop = { userId: 'alice', tenantId: undefined, device: 'laptop' };
  await store.ack(phone, [{ stream: 'user:alice', epoch: 'e1', offset: 5 }]);
  await store.ack(phone, [{ stream: 'user:alice', epoch: 'e1', offset: 3 }]);
  await store.ack(laptop, [{ stream: 'user:alice', epoch: 'e1', offset: 1 }]);
  assert.deepEqual(await store.acked(phone), [{ stream: 'user:alice', epoch: 'e1', offset: 5 }]);
  await store.ack(phone, [{ stream: 'user:alice', epoch: 'e2', offset: 1 }]);
  assert.deepEqual(await store.acked(phone), [{ stream: 'user:alice', epoch: 'e2', offset: 1 }]);
  assert.deepEqual(await store.acked(laptop), [{ stream: 'user:alice', epoch: 'e1', offset: 1 }]);
  await store.close();
});
