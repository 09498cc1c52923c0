/**
 * Where the host's CPU went during a measured phase besides the server and the load
 * generator, as the push and max-rate broadcast tables show it.
 */
import type { Metric, Sample } from '../report.js';
import type { HostCpu } from '../stats.js';

export const HOST_SHARE_METRICS: readonly Metric[] = [
  { key: 'otherCpuPct', label: 'rest of the host (% of one core)', noRatio: true },
  { key: 'stolenCpuPct', label: 'stolen by the hypervisor (% of one core)', noRatio: true },
];

export const HOST_SHARE_NOTE =
  "With 2 cores, server + load generator + rest of the host + time stolen by the hypervisor cannot exceed 200%. The rest of the host is other processes, the orchestrator and the kernel's own threads; stolen time is when the hypervisor ran other guests while this one had work (`steal` in /proc/stat). When either is high, the run was disturbed, and a server well below 100% was waiting for a core.";

/** The sample fields of {@link HOST_SHARE_METRICS}; `ourCpuMs` is server and load generator together. */
export function hostShares(
  before: HostCpu,
  after: HostCpu,
  ourCpuMs: number,
  elapsedMs: number,
): Sample {
  return {
    otherCpuPct: Math.max(0, ((after.busyMs - before.busyMs - ourCpuMs) / elapsedMs) * 100),
    stolenCpuPct: ((after.stolenMs - before.stolenMs) / elapsedMs) * 100,
  };
}
