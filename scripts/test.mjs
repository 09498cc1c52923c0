// Runs every test file under test/ with Node's test runner, TypeScript through tsx.
// Usage: node scripts/test.mjs [filter]   (filter: substring of the test file path)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const filter = process.argv[2];
const files = walk('test')
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filter === undefined || f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filter ?? 'test/**/*.test.ts'}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=60000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
