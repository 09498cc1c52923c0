/**
 * Fakes of the two browser facilities shared connections use, for tests that play several
 * tabs in one process: a BroadcastChannel hub and a Web Locks manager. Each tab gets its
 * own constructor and lock manager, so a test can hold back what one tab posts, or kill a
 * tab the way a crash does: its undelivered messages are gone, its lock is released.
 *
 * Messages are structured-cloned and delivered on a later macrotask, never to the sender,
 * as browsers do.
 */
import type {
  BroadcastChannelConstructorLike,
  BroadcastChannelLike,
  LockManagerLike,
} from '../../src/entries/shared.js';

type Listener = (event: { readonly data: unknown }) => void;

interface End {
  readonly tab: string;
  readonly name: string;
  readonly listeners: Set<Listener>;
  closed: boolean;
}

interface Waiter {
  readonly tab: string;
  readonly callback: (lock: unknown) => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Lock {
  holder: Waiter | null;
  readonly queue: Waiter[];
}

export class TabHub {
  private readonly ends_ = new Set<End>();
  /** Messages a held tab posted, in order, waiting for `release()` or `kill()`. */
  private readonly held_ = new Map<string, { end: End; data: unknown }[]>();
  private readonly dead_ = new Set<string>();
  private readonly locks_ = new Map<string, Lock>();
  /** Every message posted, for assertions. */
  readonly posted: { tab: string; data: unknown }[] = [];

  /** The BroadcastChannel constructor of tab `tab`. */
  channelOf(tab: string): BroadcastChannelConstructorLike {
    const ends = this.ends_;
    const dead = (): boolean => this.dead_.has(tab);
    const post = (end: End, data: unknown): void => this.post_(end, data);
    return class implements BroadcastChannelLike {
      private readonly end_: End;
      constructor(name: string) {
        this.end_ = { tab, name, listeners: new Set(), closed: dead() };
        ends.add(this.end_);
      }
      postMessage(data: unknown): void {
        if (dead()) return; // a dead tab runs nothing
        if (this.end_.closed) throw new Error('InvalidStateError: the channel is closed');
        post(this.end_, structuredClone(data));
      }
      close(): void {
        this.end_.closed = true;
        ends.delete(this.end_);
      }
      addEventListener(_type: 'message', listener: Listener): void {
        this.end_.listeners.add(listener);
      }
    };
  }

  /** The Web Locks manager of tab `tab`. */
  locksOf(tab: string): LockManagerLike {
    return {
      request: (name, options, callback) =>
        new Promise<void>((resolve, reject) => {
          if (this.dead_.has(tab)) return reject(new Error('the tab is dead'));
          const lock = this.lock_(name);
          const waiter: Waiter = { tab, callback, resolve, reject };
          lock.queue.push(waiter);
          options.signal?.addEventListener('abort', () => {
            const at = lock.queue.indexOf(waiter);
            if (at < 0) return;
            lock.queue.splice(at, 1);
            reject(new DOMException('The request was aborted.', 'AbortError'));
          });
          this.grant_(name);
        }),
      // Like the browser's: every lock of the origin, whichever tab holds it.
      query: () =>
        Promise.resolve({
          held: [...this.locks_]
            .filter(([, lock]) => lock.holder !== null)
            .map(([name]) => ({ name })),
        }),
    };
  }

  /** Which tab holds lock `name`, if any. */
  holder(name: string): string | undefined {
    return this.locks_.get(name)?.holder?.tab;
  }

  /** Hold back what `tab` posts from now on. */
  hold(tab: string): void {
    if (!this.held_.has(tab)) this.held_.set(tab, []);
  }

  /** A crash: what `tab` posted and nobody got yet is lost, its channels go deaf, its locks go. */
  kill(tab: string): void {
    this.dead_.add(tab);
    this.held_.delete(tab);
    for (const end of this.ends_) if (end.tab === tab) end.closed = true;
    for (const [name, lock] of this.locks_) {
      lock.queue.splice(0, lock.queue.length, ...lock.queue.filter((w) => w.tab !== tab));
      if (lock.holder?.tab === tab) {
        lock.holder.resolve();
        lock.holder = null;
        this.grant_(name);
      }
    }
  }

  private post_(from: End, data: unknown): void {
    if (this.dead_.has(from.tab)) return;
    this.posted.push({ tab: from.tab, data });
    const held = this.held_.get(from.tab);
    if (held !== undefined) held.push({ end: from, data });
    else this.deliver_(from, data);
  }

  private deliver_(from: End, data: unknown): void {
    const targets = [...this.ends_].filter((e) => e !== from && e.name === from.name);
    setImmediate(() => {
      for (const end of targets) {
        if (end.closed || this.dead_.has(from.tab)) continue;
        for (const listener of [...end.listeners]) listener({ data: structuredClone(data) });
      }
    });
  }

  private lock_(name: string): Lock {
    let lock = this.locks_.get(name);
    if (lock === undefined) this.locks_.set(name, (lock = { holder: null, queue: [] }));
    return lock;
  }

  private grant_(name: string): void {
    const lock = this.lock_(name);
    if (lock.holder !== null) return;
    const next = lock.queue.shift();
    if (next === undefined) return;
    lock.holder = next;
    const released = (): void => {
      if (lock.holder !== next) return;
      lock.holder = null;
      next.resolve();
      this.grant_(name);
    };
    queueMicrotask(() => {
      if (lock.holder !== next) return;
      next.callback({ name }).then(released, released);
    });
  }
}

/** A `localStorage` of one origin: every tab of the test reads and writes the same map. */
export class SharedStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}
