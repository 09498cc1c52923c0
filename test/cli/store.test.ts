/**
 * `lifeline serve` with its store: the built CLI keeps messages in `<--data>/lifeline.db`,
 * so a restart on the same directory continues every stream's offsets in the same epoch;
 * `--store memory` starts over; an unusable data directory stops it at startup.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'lifeline-cli-store-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Position {
  readonly stream: string;
  readonly epoch: string;
  readonly offset: number;
}

async function publish(cli: RunningCli, data: unknown): Promise<Position> {
  const apiKey = cli.listening['apiKey'];
  assert.equal(typeof apiKey, 'string');
  const res = await fetch(`${cli.url}/api/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${String(apiKey)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: { user: 'alice' }, data }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const { positions } = (await res.json()) as { positions: Position[] };
  assert.equal(positions.length, 1);
  return positions[0] as Position;
}

describe('lifeline serve: store', () => {
  it('continues offsets in the same epoch after a restart on the same --data', async () => {
    const data = join(root, 'restart', 'nested'); // created by the CLI
    const args = ['serve', '--dev', '--port', '0', '--data', data];

    const first = await startCli(args);
    const dbPath = join(data, 'lifeline.db');
    assert.deepEqual(first.listening['store'], { kind: 'sqlite', dataDir: data, path: dbPath });
    const one = await publish(first, { n: 1 });
    const two = await publish(first, { n: 2 });
    assert.deepEqual(await first.stop('SIGTERM'), { code: 0, signal: null });
    assert.ok(existsSync(dbPath));

    await using second = await startCli(args);
    const three = await publish(second, { n: 3 });
    assert.deepEqual(
      [one, two, three].map((p) => p.offset),
      [1, 2, 3],
    );
    assert.equal(two.epoch, one.epoch);
    assert.equal(three.epoch, one.epoch, 'the epoch survives the restart');
    assert.equal(three.stream, one.stream);
  });

  it('--store memory starts every stream over after a restart', async () => {
    const args = ['serve', '--dev', '--port', '0', '--store', 'memory'];
    const first = await startCli(args);
    assert.deepEqual(first.listening['store'], { kind: 'memory' });
    const before = await publish(first, 'x');
    await first.stop('SIGTERM');
    await using second = await startCli(args);
    const afterRestart = await publish(second, 'y');
    assert.equal(afterRestart.offset, 1);
    assert.notEqual(afterRestart.epoch, before.epoch);
  });

  it('exits with code 1 and says why when the data directory is unusable', async () => {
    const file = join(root, 'not-a-directory');
    writeFileSync(file, 'x');
    const result = await runCli(['serve', '--dev', '--port', '0', '--data', file]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /could not start/);
    assert.match(result.stdout, /LIFELINE_ERR_STORE_OPEN/);
  });

  it('refuses an unknown --store and --data with --store memory (exit code 2)', async () => {
    for (const args of [
      ['serve', '--dev', '--store', 'redis'],
      ['serve', '--dev', '--store', 'memory', '--data', root],
    ]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
  });
});
