/**
 * Graceful shutdown on SIGINT / SIGTERM: close the server (sessions get 4007, "shutting
 * down", so clients reconnect to the next instance) and exit 0. A second signal, or a
 * shutdown that hangs, exits at once.
 */
import type { CliLogger } from './logger.js';

/** Longest a graceful shutdown may take before the process exits anyway, in ms. */
export const SHUTDOWN_TIMEOUT_MS = 15_000;

/** Exit code of a shutdown forced by a second signal: 128 + signal number, as shells do. */
const FORCED_EXIT_CODE = { SIGINT: 130, SIGTERM: 143 } as const;

type ShutdownSignal = keyof typeof FORCED_EXIT_CODE;

/** Install the signal handlers; `stop` closes everything the process started. */
export function exitOnSignals(stop: () => Promise<void>, logger: CliLogger): void {
  let stopping = false;
  const onSignal = (signal: ShutdownSignal): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(FORCED_EXIT_CODE[signal]);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    stop().then(
      () => {
        logger.info({}, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of Object.keys(FORCED_EXIT_CODE) as ShutdownSignal[]) {
    process.on(signal, onSignal);
  }
}
