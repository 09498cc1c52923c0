/**
 * Token bucket for inbound frames: a session may send `burst` frames at once, then
 * `framesPerSecond` on average. Refilled lazily from the clock on each frame, so an idle
 * session costs no timer.
 */

export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(framesPerSecond: number, burst: number, now: number) {
    this.#ratePerMs = framesPerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /**
   * Take one token. Returns 0 when the frame is allowed; otherwise the time, in ms, until
   * the bucket is full again — the `retryAfterMs` a rate-limited client is told, so that
   * it comes back with its whole burst available rather than at the edge of the limit.
   */
  take(now: number): number {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
    this.#updatedAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((this.#burst - this.#tokens) / this.#ratePerMs));
  }
}
