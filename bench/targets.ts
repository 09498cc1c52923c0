/**
 * The targets of the benchmark issue, checked against one run's medians. A ratio target
 * compares Lifeline with raw `ws` from the same run; absolute ones stand alone.
 */
import type { BenchConfig } from './config.js';
import { medianOf, type Table } from './report.js';

export interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly verdict: string;
}

function pct(x: number): string {
  return `${Math.abs(x * 100).toFixed(0)}%`;
}

/** `value` must stay ≤ `limit` (or ≥ with `atLeast`). */
function judge(value: number, limit: number, atLeast = false): string {
  if (!Number.isFinite(value)) return 'not measured';
  const ok = atLeast ? value >= limit : value <= limit;
  if (ok) return 'met';
  return `missed by ${pct(atLeast ? 1 - value / limit : value / limit - 1)}`;
}

function ratioTarget(
  table: Table | undefined,
  key: string,
  limit: number,
  atLeast: boolean,
  target: string,
  against: 'ws' | 'socketio' = 'ws',
): Verdict {
  const l = table ? medianOf(table, 'lifeline', key) : Number.NaN;
  const b = table ? medianOf(table, against, key) : Number.NaN;
  const r = l / b;
  return {
    target,
    measured: Number.isFinite(r) ? `${r.toFixed(2)}× ${against}` : '–',
    verdict: judge(r, limit, atLeast),
  };
}

export function checkTargets(tables: readonly Table[], config: BenchConfig): Verdict[] {
  const byId = new Map(tables.map((t) => [t.id, t]));
  const out: Verdict[] = [];
  const idle = byId.get('idle');
  out.push(ratioTarget(idle, 'rssPerConn', 1.3, false, 'idle RSS per connection ≤ 1.3× ws'));
  out.push(
    ratioTarget(
      idle,
      'rssPerConn',
      0.55,
      false,
      'idle RSS per connection ≤ 0.55× Socket.IO',
      'socketio',
    ),
  );
  for (const n of config.subscribers) {
    const subs = n.toLocaleString('en-US');
    out.push(
      ratioTarget(
        byId.get(`broadcast-max-${n}`),
        'deliveriesPerSec',
        0.9,
        true,
        `broadcast ${subs}: deliveries/s ≥ 0.9× ws`,
      ),
      ratioTarget(
        byId.get(`broadcast-fixed-${n}`),
        'p99',
        1.25,
        false,
        `broadcast ${subs}: p99 at fixed rate ≤ 1.25× ws`,
      ),
    );
  }
  const top = Math.max(...config.pushRates);
  const push = byId.get(`push-${top}`);
  const durable = push?.notes.some((n) => n.startsWith('Lifeline message log: sqlite')) ?? false;
  if (push !== undefined) {
    const delivered = medianOf(push, 'lifeline', 'deliveredPerSec');
    const p99 = medianOf(push, 'lifeline', 'p99');
    const lost = medianOf(push, 'lifeline', 'lost');
    const sustained = judge(delivered, 40_000 * 0.98, true);
    const latency = judge(p99, 50);
    const parts: [string, string][] = [
      ['rate', sustained],
      ['p99', latency],
      ['loss', lost === 0 ? 'met' : `${lost} lost`],
    ];
    const missed = parts.filter(([, v]) => v !== 'met').map(([what, v]) => `${what} ${v}`);
    const all = missed.length === 0 ? 'met' : missed.join('; ');
    out.push({
      target: 'durable push: 40,000 messages/s into SQLite, p99 < 50 ms, nothing lost',
      measured: `${Math.round(delivered).toLocaleString('en-US')}/s, p99 ${p99.toFixed(1)} ms, lost ${lost} (target rate ${top.toLocaleString('en-US')}/s)`,
      verdict:
        top < 40_000 || !durable
          ? `not measured (${top < 40_000 ? `rate ${top}/s` : ''}${top < 40_000 && !durable ? ', ' : ''}${durable ? '' : 'memory log'}); at this setting: ${all}`
          : all,
    });
  }
  const storm = byId.get('storm');
  const back = ratioTarget(
    storm,
    'backMs',
    1.25,
    false,
    'reconnect storm: every client back ≤ 1.25× ws',
  );
  out.push(back);
  if (storm !== undefined) {
    const got = medianOf(storm, 'lifeline', 'missedDelivered');
    const sent = medianOf(storm, 'lifeline', 'missedPublished');
    const dup = medianOf(storm, 'lifeline', 'duplicates');
    out.push({
      target:
        'reconnect storm: zero loss (everything published while down delivered once, in order)',
      measured: `${got} of ${sent}, ${dup} duplicates`,
      verdict:
        got === sent && dup === 0
          ? 'met'
          : `missed: ${sent - got} not delivered, ${dup} duplicates`,
    });
  }
  const size = byId.get('size');
  const gzip = size ? medianOf(size, 'lifeline', 'gzipBytes') : Number.NaN;
  out.push({
    target: 'client ≤ 8 KB min+gzip (8,192 bytes)',
    measured: Number.isFinite(gzip) ? `${gzip.toLocaleString('en-US')} bytes` : '–',
    verdict: judge(gzip, 8_192),
  });
  return out;
}

export function renderTargets(verdicts: readonly Verdict[]): string {
  return [
    '| target | Lifeline | verdict |',
    '| --- | --- | --- |',
    ...verdicts.map((v) => `| ${v.target} | ${v.measured} | ${v.verdict} |`),
    '',
  ].join('\n');
}
