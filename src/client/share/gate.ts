/**
 * The checkpoint gate: the `storage` the leader's client writes its positions to.
 *
 * The leader's client saves positions once its listeners have a message — but its
 * listeners are only the leader tab; the other tabs get the message a moment later over
 * the channel, or never, if the leader dies first. So a save is held here until every tab
 * has confirmed every event the leader had broadcast when the save was made, and only
 * then written to the application's storage and announced to the tabs as the checkpoint.
 * The next leader resumes from that checkpoint: whatever the old leader received but some
 * tab did not confirm is replayed by the gateway, and each tab drops what it already has
 * by position. Nothing is lost; nothing is shown twice.
 *
 * The saved text is opaque here: the gate never parses the client's record, it only
 * decides which of the client's own snapshots may be published.
 */
import { StorageError, type LifelineError } from '../../protocol/index.js';
import type { Disposer, Scope } from '../../env/index.js';
import type { PositionStorage } from '../options.js';
import { storageWrites } from '../storage-writes.js';

/** Snapshots held back at most; older ones are dropped (a newer one replaces them). */
export const MAX_PENDING_CHECKPOINTS = 32;

/** The newest checkpoint a tab knows of: it outlives leaders, so it lives with the tab. */
export interface CheckpointMemory {
  text: string | undefined;
}

export interface GateOptions {
  /** The key the leader's client stores positions under. */
  readonly positionsKey: string;
  /** The application's storage, if it gave one. */
  readonly storage: PositionStorage | undefined;
  readonly memory: CheckpointMemory;
  /** A tab that has not confirmed a held snapshot within this time stops holding it, in ms. */
  readonly confirmTimeoutMs: number;
  /**
   * Longest time a checkpoint waits before it is written to `storage`, in ms: the tabs
   * learn each one at once, the application's storage gets the newest per window.
   */
  readonly saveDelayMs: number;
  /** A checkpoint may be announced. */
  readonly published: (text: string) => void;
  readonly report: (error: LifelineError) => void;
}

interface Snapshot {
  /** Every event up to this one had been broadcast when the snapshot was taken. */
  readonly seq: number;
  readonly text: string;
}

export class CheckpointGate implements PositionStorage {
  /** The number of the newest broadcast event. */
  seq = 0;
  private readonly scope_: Scope;
  private readonly options_: GateOptions;
  private readonly confirmed_ = new Map<string, number>();
  private pending_: Snapshot[] = [];
  private readonly other_ = new Map<string, string>();
  private readonly store_ = storageWrites();
  private timer_: Disposer | null = null;
  /** The newest checkpoint not yet written to storage, and the timer that will. */
  private unsaved_: string | undefined = undefined;
  private saveTimer_: Disposer | null = null;

  constructor(scope: Scope, options: GateOptions) {
    this.scope_ = scope;
    this.options_ = options;
  }

  getItem(key: string): string | null | undefined | Promise<string | null | undefined> {
    const { storage, positionsKey, memory } = this.options_;
    if (key !== positionsKey)
      return storage === undefined ? this.other_.get(key) : storage.getItem(key);
    // What the previous leader announced, else what a previous page load saved.
    if (memory.text !== undefined) return memory.text;
    return storage?.getItem(key);
  }

  setItem(key: string, value: string): void | Promise<void> {
    const { storage, positionsKey } = this.options_;
    if (key !== positionsKey) {
      if (storage === undefined) this.other_.set(key, value);
      else return storage.setItem(key, value);
      return;
    }
    this.pending_.push({ seq: this.seq, text: value });
    if (this.pending_.length > MAX_PENDING_CHECKPOINTS) this.pending_.shift();
    this.release_();
  }

  /** A tab joined when events up to `seq` were already out: it holds back nothing before. */
  join(tab: string, seq: number): void {
    if (!this.confirmed_.has(tab)) this.confirmed_.set(tab, seq);
  }

  confirm(tab: string, seq: number): void {
    if ((this.confirmed_.get(tab) ?? -1) >= seq) return;
    this.confirmed_.set(tab, seq);
    this.release_();
  }

  leave(tab: string): void {
    if (this.confirmed_.delete(tab)) this.release_();
  }

  /**
   * Stop: the last checkpoint is written now; snapshots still held are not (the next
   * leader replays from the last checkpoint).
   */
  dispose(): void {
    this.timer_?.();
    this.timer_ = null;
    this.pending_ = [];
    this.saveTimer_?.();
    this.saveTimer_ = null;
    this.save_();
  }

  private release_(): void {
    let floor = this.seq;
    for (const seq of this.confirmed_.values()) floor = Math.min(floor, seq);
    let ready: Snapshot | undefined;
    while (this.pending_.length > 0 && this.pending_[0]!.seq <= floor)
      ready = this.pending_.shift();
    if (ready !== undefined) this.write_(ready.text);
    this.timer_?.();
    this.timer_ = null;
    const held = this.pending_[0];
    if (held === undefined) return;
    this.timer_ = this.scope_.setTimeout(() => {
      this.timer_ = null;
      // A tab this far behind is frozen or gone: it stops holding checkpoints back.
      for (const [tab, seq] of this.confirmed_) if (seq < held.seq) this.confirmed_.delete(tab);
      this.release_();
    }, this.options_.confirmTimeoutMs);
  }

  private write_(text: string): void {
    const { storage, memory, published, saveDelayMs } = this.options_;
    memory.text = text;
    published(text);
    if (storage === undefined) return;
    this.unsaved_ = text;
    this.saveTimer_ ??= this.scope_.setTimeout(() => {
      this.saveTimer_ = null;
      this.save_();
    }, saveDelayMs);
  }

  private save_(): void {
    const { storage, positionsKey, report } = this.options_;
    const text = this.unsaved_;
    this.unsaved_ = undefined;
    if (storage === undefined || text === undefined) return;
    const failed = (cause: unknown): void =>
      report(new StorageError(`Could not save the positions ("${positionsKey}").`, { cause }));
    this.store_(storage, positionsKey, text, failed);
  }
}
