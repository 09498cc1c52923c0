/** A promise with its settling functions, for the client's `connect()` and `send()`. */
import type { LifelineError } from '../protocol/index.js';

export interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: LifelineError): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: LifelineError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
