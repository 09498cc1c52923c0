/**
 * The logging seam. Its shape is pino's, so a pino logger (or a child of one) plugs in
 * as is; anything else only needs these four methods.
 */

export type LogFn = (obj: Record<string, unknown>, msg: string) => void;

/** A pino-compatible logger: structured fields first, then the message. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => {};

/** The default logger: drops everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
