/**
 * A tab's calls (`request`, `publish`, `send`) on their way through the leader. Each waits
 * here under the id the leader's client sends it with, until its result comes back; a new
 * leader gets every unanswered one again, and runs it once (the gateway de-duplicates by
 * that id).
 */
import { TimeoutError, type LifelineError, type PublishTarget } from '../../protocol/index.js';
import type { Clock, Disposer, Scope } from '../../env/index.js';
import { deferred } from '../deferred.js';
import { callId, callTimeoutMs } from '../options.js';
import type { RequestOptions, SendOptions, SendResult } from '../types.js';
import { callData, decodeError, type CallOp, type FromLeader, type ToLeader } from './wire.js';

interface Call {
  readonly op: CallOp;
  readonly data: string;
  readonly to: PublishTarget | undefined;
  /** Absolute, in ms since the epoch; undefined for `send()`, which has no deadline. */
  readonly deadline: number | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: LifelineError) => void;
  readonly cancel: Disposer;
}

export interface CallsHost {
  readonly tab: string;
  readonly clock: Clock;
  readonly requestTimeoutMs: number;
  /** Where timers go: the tab's current scope (a closed tab starts a new one). */
  scope(): Scope;
  /** To the leader, when the tab takes part (a call waits otherwise, for the next hello). */
  post(message: ToLeader): void;
}

export class TabCalls {
  private readonly host_: CallsHost;
  private readonly calls_ = new Map<string, Call>();
  private counter_ = 0;

  constructor(host: CallsHost) {
    this.host_ = host;
  }

  /** A `request()` or `publish()`: its reply, or `TimeoutError` after `timeoutMs`. */
  call(
    op: CallOp,
    data: unknown,
    to: PublishTarget | undefined,
    options: RequestOptions,
  ): Promise<unknown> {
    let timeoutMs: number;
    let text: string;
    let rid: string;
    try {
      timeoutMs = callTimeoutMs(options.timeoutMs, this.host_.requestTimeoutMs);
      text = callData(data);
      rid = this.callId_(options.id);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const cancel = this.host_.scope().setTimeout(() => {
        this.calls_.delete(rid);
        reject(new TimeoutError(`No reply to request ${rid} within ${timeoutMs} ms.`));
      }, timeoutMs);
      const deadline = this.host_.clock.now() + timeoutMs;
      this.calls_.set(rid, { op, data: text, to, deadline, resolve, reject, cancel });
      this.post_(rid);
    });
  }

  /** A `send()`: `delivered` settles when the gateway confirmed it; no deadline. */
  send(data: unknown, options: SendOptions, status: SendResult['status']): SendResult {
    const text = callData(data);
    const rid = this.callId_(options.id);
    const { promise: delivered, resolve, reject } = deferred();
    // Callers may ignore `delivered`; its rejection must not surface as unhandled.
    delivered.catch(() => {});
    this.calls_.set(rid, {
      op: 'send',
      data: text,
      to: undefined,
      deadline: undefined,
      resolve: () => resolve(),
      reject,
      cancel: () => {},
    });
    this.post_(rid);
    return { status, id: rid, delivered };
  }

  /** Every unanswered call again, to a new leader. */
  repost(): void {
    for (const rid of this.calls_.keys()) this.post_(rid);
  }

  /** A result for one of the calls; false when `rid` is none of them. */
  settle(result: Extract<FromLeader, { t: 'result' }>): boolean {
    const call = this.calls_.get(result.rid);
    if (call === undefined) return false;
    this.calls_.delete(result.rid);
    call.cancel();
    if (result.ok) call.resolve(result.value);
    else if (result.error !== undefined) call.reject(decodeError(result.error));
    return true;
  }

  rejectAll(error: LifelineError): void {
    const calls = [...this.calls_.values()];
    this.calls_.clear();
    for (const call of calls) {
      call.cancel();
      call.reject(error);
    }
  }

  /** A new id of this tab. */
  nextId(): string {
    return `${this.host_.tab}.${(++this.counter_).toString(36)}`;
  }

  private post_(rid: string): void {
    const call = this.calls_.get(rid);
    if (call === undefined) return;
    const left =
      call.deadline === undefined ? undefined : Math.max(1, call.deadline - this.host_.clock.now());
    this.host_.post({
      t: 'call',
      tab: this.host_.tab,
      rid,
      op: call.op,
      data: call.data,
      ...(call.to === undefined ? {} : { to: call.to }),
      ...(left === undefined ? {} : { timeoutMs: left }),
    });
  }

  /**
   * The id of a call: the caller's (checked as the core client checks it), else a new one.
   * The leader's client sends the call with this id, so that a call re-sent through the
   * next leader after this one died runs once on the gateway.
   */
  private callId_(chosen: string | undefined): string {
    return callId(chosen, (id) => this.calls_.has(id)) ?? this.nextId();
  }
}
