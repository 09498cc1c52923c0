/**
 * The WebSocket adapter writes a push's frame itself (one buffer per broadcast, written
 * to every socket) when no extension was negotiated, and leaves framing to `ws` when one
 * was. Either way every length class of RFC 6455 (7-bit, 16-bit and 64-bit payload
 * lengths) must reach a standard client whole, in order, and interleaved correctly with
 * the frames `ws` writes itself (pongs, close).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawClient } from '../helpers/raw-ws.js';
import { startGateway } from './fixtures.js';

/**
 * Texts whose push frames cover every payload length class, one byte at a time across
 * the 16/64-bit boundary (65,535/65,536), with two-byte characters too.
 */
function texts(): string[] {
  const out: string[] = [];
  for (let n = 0; n <= 40; n++) out.push('é'.repeat(n));
  for (let n = 65_250; n <= 65_450; n++) out.push('x'.repeat(n));
  out.push('é'.repeat(100_000));
  return out;
}

async function receiveAll(client: RawClient, count: number): Promise<Record<string, unknown>[]> {
  const frames: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) frames.push(await client.next(10_000));
  return frames;
}

for (const compression of [false, true]) {
  describe(
    compression
      ? 'with permessage-deflate (ws frames)'
      : 'without extensions (frames written by the adapter)',
    () => {
      it('delivers pushes of every length class whole and in order, next to ws’s own frames', async () => {
        await using fx = await startGateway({
          maxFrameBytes: 300_000,
          maxBufferedBytes: 64 * 2 ** 20, // everything is published before anything is read
          ...(compression ? { perMessageDeflate: true } : {}),
        });
        const alice = await fx.open('u:alice');
        const bob = await fx.open('u:bob');
        for (const { client } of [alice, bob]) {
          assert.equal(
            client.socket.extensions.includes('permessage-deflate'),
            compression,
            'negotiated extensions',
          );
          client.send({ type: 'subscribe', id: 's', channel: 'big' });
          assert.equal((await client.nextOf('reply'))['ok'], true);
        }
        const all = texts();
        let pongs = 0;
        bob.client.socket.on('pong', () => pongs++);
        for (const [i, text] of all.entries()) {
          await fx.gateway.publish({ to: { channel: 'big' }, data: { i, text } });
          // Frames ws writes itself, between ours: a WebSocket pong, a protocol pong.
          if (i % 50 === 0) {
            bob.client.socket.ping();
            bob.client.send({ type: 'ping', t: i });
          }
        }
        for (const { client } of [alice, bob]) {
          const frames = (
            await receiveAll(
              client,
              all.length + (client === bob.client ? Math.ceil(all.length / 50) : 0),
            )
          )
            .filter((f) => f['type'] === 'push')
            .map((f) => f['data'] as { i: number; text: string });
          assert.equal(frames.length, all.length);
          frames.forEach((data, i) => {
            assert.equal(data.i, i, 'in order');
            assert.equal(data.text, all[i], `text ${i} whole`);
          });
        }
        assert.equal(pongs, Math.ceil(all.length / 50), 'every WebSocket ping answered');
        const lengths = new Set(bob.client.received.map((t) => Buffer.byteLength(t)));
        assert.ok(
          [...lengths].some((l) => l <= 125),
          'a 7-bit length frame',
        );
        assert.ok(
          [...lengths].some((l) => l >= 126 && l <= 65_535),
          'a 16-bit length frame',
        );
        assert.ok(lengths.has(65_535) && lengths.has(65_536), 'both sides of the 64-bit boundary');
      });
    },
  );
}
