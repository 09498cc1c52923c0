/**
 * `npm run bench` works end to end: every scenario, every peer, tiny numbers. Proves the
 * command runs, prints its tables and writes its results; no figure is asserted (the
 * benchmark measures, tests do not).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
/** Hard limit for the whole tiny run; the harness's own budget is set below it. */
const KILL_AFTER_MS = 170_000;

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runBench(args: readonly string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RUN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Report {
  readonly tables: readonly {
    readonly id: string;
    readonly samples: Record<string, readonly Record<string, number>[]>;
    readonly errors: readonly string[];
  }[];
  readonly machine: { readonly cores: number; readonly node: string };
}

describe('npm run bench -- --quick', () => {
  it('prints a table per scenario and writes the results files', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-test-'));
    try {
      const md = join(dir, 'BENCHMARKS.md');
      const json = join(dir, 'results.json');
      const result = await runBench([
        '--quick',
        '--idle=12',
        '--subscribers=8',
        '--push-users=8',
        '--push-rates=100',
        '--storm=8',
        '--duration-ms=400',
        '--fixed-deliveries=200',
        '--down-ms=50',
        '--missed=2',
        '--concurrency=8',
        '--budget-s=150',
        `--md=${md}`,
        `--json=${json}`,
      ]);
      assert.equal(result.code, 0, `exit code ${result.code}\n${result.stderr.slice(-3000)}`);
      for (const title of [
        '### Idle',
        '### Broadcast',
        '### Push',
        '### Reconnect storm',
        '### Client size',
      ]) {
        assert.ok(result.stdout.includes(title), `stdout lacks "${title}"`);
      }
      assert.match(
        result.stdout,
        /\| +\| ws \| socketio \| lifeline \| socketio \/ ws \| lifeline \/ ws \|/,
      );
      assert.ok(existsSync(md) && existsSync(json));
      assert.match(readFileSync(md, 'utf8'), /^# Lifeline benchmarks/);
      const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
      assert.ok(report.machine.cores > 0);
      const ids = report.tables.map((t) => t.id);
      for (const id of [
        'idle',
        'broadcast-max-8',
        'broadcast-fixed-8',
        'push-100',
        'storm',
        'size',
      ]) {
        assert.ok(ids.includes(id), `no table ${id}`);
      }
      for (const table of report.tables) {
        assert.deepEqual(table.errors, [], `${table.id} has errors`);
        const peers =
          table.id === 'size' ? ['socketio', 'lifeline'] : ['ws', 'socketio', 'lifeline'];
        for (const peer of peers)
          assert.equal(table.samples[peer]?.length, 1, `${table.id}: ${peer}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
