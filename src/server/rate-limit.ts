/**
 * A token bucket: `ratePerSecond` on average, `burst` at once. One per connection, for the
 * messages it sends (`--max-messages-per-second`).
 */
export interface RateLimiter {
  /** Takes one token; false when the bucket is empty. */
  take(nowMs: number): boolean;
}

export function createRateLimiter(ratePerSecond: number, burst: number): RateLimiter {
  let tokens = burst;
  let lastMs: number | undefined;
  return {
    take(nowMs) {
      if (lastMs !== undefined) tokens = Math.min(burst, tokens + ((nowMs - lastMs) * ratePerSecond) / 1000);
      lastMs = nowMs;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
