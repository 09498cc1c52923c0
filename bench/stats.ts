/** Small statistics helpers: medians, percentiles, a bounded latency sample, CPU time. */
import { readFileSync } from 'node:fs';
import type { LatencySummary, ProcessStats } from './protocol.js';
import { now } from './protocol.js';

export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of an ascending array, `q` in [0, 1]. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Uniform random sample of at most `capacity` values (Vitter's algorithm R), so recording
 * every delivery's latency costs bounded memory however long a run lasts.
 */
export class Reservoir {
  readonly #values: Float64Array;
  #seen = 0;
  #max = 0;

  constructor(capacity: number) {
    this.#values = new Float64Array(capacity);
  }

  add(value: number): void {
    const i = this.#seen++;
    if (value > this.#max) this.#max = value;
    if (i < this.#values.length) this.#values[i] = value;
    else {
      const j = Math.floor(Math.random() * (i + 1));
      if (j < this.#values.length) this.#values[j] = value;
    }
  }

  reset(): void {
    this.#seen = 0;
    this.#max = 0;
  }

  summary(): LatencySummary {
    const n = Math.min(this.#seen, this.#values.length);
    const sorted = this.#values.slice(0, n).sort();
    return {
      count: this.#seen,
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      p99: percentile(sorted, 0.99),
      max: n === 0 ? Number.NaN : this.#max,
    };
  }
}

/** CPU and memory of this process; with `collect`, after a full garbage collection. */
export function processStats(collect = false): ProcessStats {
  if (collect) {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error('run with --expose-gc to sample memory after GC');
    gc();
    gc();
  }
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    cpuUs: cpu.user + cpu.system,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    at: now(),
  };
}

/**
 * CPU time of the whole host (all cores) since boot, in ms; NaN where unknown. `busyMs` is
 * what this machine's processes and kernel ran; `stolenMs` is time the hypervisor gave to
 * other guests while this one had work (a virtual machine's "steal"): neither ours nor idle.
 */
export interface HostCpu {
  readonly busyMs: number;
  readonly stolenMs: number;
}

/** The host's {@link HostCpu} now. */
export function hostCpu(): HostCpu {
  try {
    // First line of /proc/stat: "cpu user nice system idle iowait irq softirq steal …" in
    // clock ticks of 10 ms (USER_HZ = 100 on Linux).
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const stolen = ticks[7] ?? 0;
    return { busyMs: (total - idle - stolen) * 10, stolenMs: stolen * 10 };
  } catch {
    return { busyMs: Number.NaN, stolenMs: Number.NaN };
  }
}
