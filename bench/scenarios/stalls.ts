/**
 * The server's stalls during a paced phase, as the push and fixed-rate broadcast tables
 * show them: how late its event loop ran and how long garbage collection paused it
 * (measured by `watchStalls` in bench/peers/host.ts).
 */
import type { ServerPart } from '../protocol.js';
import type { Metric, Sample } from '../report.js';

export const STALL_METRICS: readonly Metric[] = [
  { key: 'loopDelayP99', label: 'server event loop: delay p99 (ms)', digits: 1 },
  { key: 'loopDelayMax', label: 'server event loop: longest delay (ms)', digits: 1 },
  { key: 'gcPauseTotal', label: 'server GC pauses in all (ms)', digits: 0 },
  { key: 'gcPauseMax', label: 'server GC: longest pause (ms)', digits: 1 },
];

export const STALL_NOTE =
  'Server event loop and GC: in the server process during the measured phase, how late a 10 ms timer ran (p99 and longest) and how long garbage collection paused it (in all, and the longest pause). A late loop with short GC pauses means long tasks: work queued behind other work.';

/** The sample fields of {@link STALL_METRICS}; NaN where the server reported none. */
export function stallSample(part: ServerPart | undefined): Sample {
  return {
    loopDelayP99: part?.loopDelayP99 ?? Number.NaN,
    loopDelayMax: part?.loopDelayMax ?? Number.NaN,
    gcPauseTotal: part?.gcPauseTotal ?? Number.NaN,
    gcPauseMax: part?.gcPauseMax ?? Number.NaN,
  };
}
