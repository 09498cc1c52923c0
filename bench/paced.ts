/**
 * The paced driver of the micro-benchmarks (bench/store-append.ts,
 * bench/gateway-publish.ts): call `send(k)` `rate` times per second for `seconds`, in the
 * bursts a publisher paced by a timer makes, and measure CPU and each call's latency.
 */

import { readFileSync } from 'node:fs';

/** How often the driver catches up with the rate, in ms. */
const TICK_MS = 5;

export interface PacedRun {
  /** Calls made. */
  readonly sent: number;
  /** Wall time from the first call until the last one settled, in ms. */
  readonly wallMs: number;
  readonly cpu: NodeJS.CpuUsage;
  /** Latency of the call at quantile `p` (0–1), in ms, as text with one decimal. */
  quantile(p: number): string;
  /** `CPU x µs/<unit> (user y, system z)`. */
  cpuPer(unit: string): string;
}

export async function paced(
  rate: number,
  seconds: number,
  send: (k: number) => Promise<unknown>,
): Promise<PacedRun> {
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  let pending = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - started;
      const due = Math.floor((Math.min(elapsed, seconds * 1000) * rate) / 1000);
      while (sent < due) {
        const at = performance.now();
        pending++;
        void send(sent++).then(() => {
          latencies.push(performance.now() - at);
          if (--pending === 0 && sent >= seconds * rate) resolve();
        });
      }
      if (elapsed < seconds * 1000 || pending > 0) setTimeout(tick, TICK_MS);
    };
    tick();
  });
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const per = (us: number): string => (us / sent).toFixed(2);
  return {
    sent,
    wallMs,
    cpu,
    quantile: (p) => (latencies[Math.floor(p * (latencies.length - 1))] ?? 0).toFixed(1),
    cpuPer: (unit) =>
      `CPU ${per(cpu.user + cpu.system)} µs/${unit} ` +
      `(user ${per(cpu.user)}, system ${per(cpu.system)})`,
  };
}

/**
 * CPU time of the event loop's thread alone, in µs, from /proc (Linux; `undefined`
 * elsewhere): the SQLite store's writer and checkpoint threads are not in it. 10 ms steps.
 */
export function loopCpuUs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}
