/** Publishing at a target rate from inside a peer server process. */
import { now, type PaceResult } from '../protocol.js';

/** How often the pacer wakes up, in ms. */
const TICK_MS = 5;

/**
 * Call `emit(k)` for k = 0, 1, … so that `rate` calls per second happen over `durationMs`,
 * with at most `maxPending` returned promises unsettled (a publisher that falls behind
 * delays messages instead of queueing without bound). Resolves once every promise settled.
 */
export async function pace(
  rate: number,
  durationMs: number,
  emit: (k: number) => Promise<unknown> | void,
  maxPending = 20_000,
): Promise<PaceResult> {
  const start = now();
  let sent = 0;
  let pending = 0;
  let failure: unknown;
  let drained: (() => void) | undefined;
  const settle = (): void => {
    pending--;
    if (pending === 0) drained?.();
  };
  const fail = (error: unknown): void => {
    failure ??= error;
    settle();
  };
  const behind = await new Promise<number>((resolve) => {
    const tick = (): void => {
      const elapsed = now() - start;
      const due = Math.floor((Math.min(elapsed, durationMs) * rate) / 1000);
      while (sent < due && pending < maxPending) {
        const result = emit(sent++);
        if (result !== undefined) {
          pending++;
          result.then(settle, fail);
        }
      }
      if (elapsed >= durationMs) resolve(due - sent);
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  if (pending > 0) await new Promise<void>((resolve) => (drained = resolve));
  if (failure !== undefined) throw failure;
  return { sent, behind, elapsedMs: now() - start };
}
