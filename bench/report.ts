/**
 * Result tables: samples per peer and round in, medians and ratios to the baseline peer
 * (raw `ws`) out, rendered as markdown for the terminal and docs/BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { PeerName } from './protocol.js';
import { median } from './stats.js';

export interface Metric {
  readonly key: string;
  readonly label: string;
  /** Decimals shown; large numbers get thousands separators. */
  readonly digits?: number;
  /** No ratio for this metric (counts, flags). */
  readonly noRatio?: boolean;
}

export type Sample = Record<string, number>;

export interface Table {
  readonly id: string;
  readonly title: string;
  readonly metrics: readonly Metric[];
  /** One sample per round, per peer. */
  readonly samples: Partial<Record<PeerName, Sample[]>>;
  /** Ratios are taken to this peer. @default 'ws' */
  readonly baseline?: PeerName;
  readonly notes: string[];
  readonly errors: string[];
}

export function newTable(
  id: string,
  title: string,
  metrics: readonly Metric[],
  baseline: PeerName = 'ws',
): Table {
  return { id, title, metrics, samples: {}, baseline, notes: [], errors: [] };
}

export function addSample(table: Table, peer: PeerName, sample: Sample): void {
  (table.samples[peer] ??= []).push(sample);
}

/** Median of `key` over the rounds of `peer`; NaN when there is none. */
export function medianOf(table: Table, peer: PeerName, key: string): number {
  return median((table.samples[peer] ?? []).map((s) => s[key] ?? Number.NaN));
}

function format(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function ratio(value: number, base: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base === 0) return '–';
  return `${(value / base).toFixed(2)}×`;
}

export function renderTable(table: Table, peers: readonly PeerName[]): string {
  const baseline = table.baseline ?? 'ws';
  const shown = peers.filter((p) => table.samples[p] !== undefined);
  const others = shown.filter((p) => p !== baseline && shown.includes(baseline));
  const rounds = Math.max(0, ...shown.map((p) => table.samples[p]?.length ?? 0));
  const head = ['', ...shown, ...others.map((p) => `${p} / ${baseline}`)];
  const lines = [
    `### ${table.title}`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const m of table.metrics) {
    const values = shown.map((p) => medianOf(table, p, m.key));
    const base = medianOf(table, baseline, m.key);
    const ratios = others.map((p) => (m.noRatio ? '' : ratio(medianOf(table, p, m.key), base)));
    lines.push(
      `| ${[m.label, ...values.map((v) => format(v, m.digits)), ...ratios].join(' | ')} |`,
    );
  }
  lines.push('');
  if (rounds > 1) lines.push(`Median of ${rounds} runs per peer.`, '');
  for (const note of table.notes) lines.push(`- ${note}`);
  for (const error of table.errors) lines.push(`- **error:** ${error}`);
  if (table.notes.length + table.errors.length > 0) lines.push('');
  return lines.join('\n');
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  readonly openFiles: string;
  readonly loadAverage: readonly number[];
  readonly date: string;
  /** The Lifeline commit measured, marked when the working tree differed from it. */
  readonly commit: string;
}

function commit(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() === '' ? '' : ' (with uncommitted changes in src/)'}`;
}

export function machine(): Machine {
  const ulimit = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${release()}`,
    openFiles: ulimit.stdout.trim() || 'unknown',
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    date: new Date().toISOString(),
    commit: commit(),
  };
}

export function renderMachine(m: Machine): string {
  return [
    '| | |',
    '| --- | --- |',
    `| CPU | ${m.cpu} |`,
    `| cores | ${m.cores} |`,
    `| memory | ${m.memoryGiB} GiB |`,
    `| Node.js | ${m.node} |`,
    `| OS | ${m.os} |`,
    `| open files (ulimit -n) | ${m.openFiles} |`,
    `| load average at start (1, 5, 15 min) | ${m.loadAverage.join(', ')} |`,
    `| date | ${m.date} |`,
    `| Lifeline commit | ${m.commit} |`,
    '',
  ].join('\n');
}
