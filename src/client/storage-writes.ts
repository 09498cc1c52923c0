/**
 * Writes to a {@link PositionStorage}, in order: a synchronous storage (`localStorage`) is
 * written at once — the page may be going away — and an asynchronous one gets its writes
 * one after another, so an older text never lands after a newer one.
 */
import type { PositionStorage } from './options.js';

/** Write `text` under `key`; `failed` hears what the storage threw or rejected with. */
export type StorageWrite = (
  storage: PositionStorage,
  key: string,
  text: string,
  failed: (cause: unknown) => void,
) => void;

/** A writer whose writes land in the order they were made. */
export function storageWrites(): StorageWrite {
  let writing: Promise<void> | null = null;
  return (storage, key, text, failed) => {
    const write = (): Promise<void> | undefined => {
      try {
        const done = storage.setItem(key, text);
        return isPromise(done) ? done.then(undefined, failed) : undefined;
      } catch (cause) {
        failed(cause);
        return undefined;
      }
    };
    const queued = writing === null ? write() : writing.then(write);
    if (queued === undefined) return;
    const settled: Promise<void> = queued.then(() => {
      if (writing === settled) writing = null;
    });
    writing = settled;
  };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
