/**
 * A token bucket: `ratePerSecond` on average, `burst` at once. One per connection, for the
 * messages it sends (`--max-messages-per-second`).
 */
export interface RateLimiter {
  /** Takes one token; false when the bucket is empty. */
  take(nowMs: number): boolean;
}

export function createRateLimiter(ratePerSecond: number, burst: number): RateLimiter {
  return new TokenBucket(ratePerSecond, burst);
}

/** A class, not a closure: one lives as long as every socket, idle or not. */
class TokenBucket implements RateLimiter {
  #tokens: number;
  #lastMs: number | undefined;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.#tokens = burst;
  }

  take(nowMs: number): boolean {
    if (this.#lastMs !== undefined) this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#lastMs) * this.ratePerSecond) / 1000);
    this.#lastMs = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
