/**
 * Polling assertions for tests over real sockets: retry until the assertion holds or the
 * time is up, then fail with the assertion's own error. Never a fixed sleep.
 */
export async function waitFor<T>(
  assertion: () => T | Promise<T>,
  options: number | { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const { timeoutMs = 5_000, intervalMs = 10 } =
    typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolve with the first event payload for which `predicate` holds. */
export function nextEvent<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  predicate: (value: T) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = subscribe((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}
