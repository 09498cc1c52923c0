/** The CLI's structured logger: pino, JSON lines on stdout. */
import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config.js';

export type CliLogger = PinoLogger;

/** A logger writing one JSON object per line to stdout, synchronously. */
export function createCliLogger(level: LogLevel): CliLogger {
  // Synchronous writes: the last lines before `process.exit()` (shutdown, fatal errors)
  // must not be lost in a buffer.
  return pino({ name: 'lifeline', level }, pino.destination({ dest: 1, sync: true }));
}
