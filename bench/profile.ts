/**
 * Summary of V8 `.cpuprofile` files (from `node --cpu-prof`): the functions with the most
 * self time. `node --import tsx bench/profile.ts <file|dir>…` prints it on its own.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotFunction {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  readonly share: number;
}

/**
 * Profiles of main threads under `paths`. Node names them `CPU.<date>.<time>.<pid>.<tid>.
 * <seq>.cpuprofile`; thread 0 is the main thread (others are loader or worker threads).
 */
function files(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    if (!statSync(p).isDirectory()) return [p];
    return readdirSync(p).flatMap((f) => {
      const path = join(p, f);
      if (statSync(path).isDirectory()) return files([path]);
      return /\.0\.\d+\.cpuprofile$/.test(f) ? [path] : [];
    });
  });
}

/** Pseudo-frames that are not work done by JavaScript or the runtime. */
const NOT_WORK = new Set(['(idle)', '(program)']);

/** Self time per function over all `paths`, highest first. */
export function hotFunctions(paths: readonly string[], top = 15): HotFunction[] {
  const self = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (const file of files(paths)) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const node = byId.get(id);
      const dt = profile.timeDeltas[i] ?? 0;
      if (node === undefined) return;
      const { functionName, url, lineNumber } = node.callFrame;
      const name = functionName || '(anonymous)';
      if (NOT_WORK.has(name)) return;
      const path = url.replace(/^file:\/\//, '');
      // tsx compiles TypeScript on the fly, so line numbers of our own files are not useful.
      const where =
        path === ''
          ? ''
          : relative(process.cwd(), path) + (path.endsWith('.ts') ? '' : `:${lineNumber + 1}`);
      const key = `${name} ${where}`;
      const entry = self.get(key) ?? { name, where, us: 0 };
      entry.us += dt;
      self.set(key, entry);
      total += dt;
    });
  }
  return [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: e.us / total }));
}

export function renderHot(hot: readonly HotFunction[]): string {
  return [
    '| self time | share | function | where |',
    '| ---: | ---: | --- | --- |',
    ...hot.map(
      (h) =>
        `| ${h.selfMs.toFixed(0)} ms | ${(h.share * 100).toFixed(1)}% | \`${h.name}\` | ${h.where} |`,
    ),
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(renderHot(hotFunctions(process.argv.slice(2), 25)));
}
