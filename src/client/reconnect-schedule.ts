/** The wait before the second attempt; it doubles each time up to RECONNECT_MAX_DELAY_MS. The first is at once. */
const FIRST_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 5_000;

/**
 * How long one attempt may take (connect's connectTimeoutMs): a network that swallows packets must
 * not eat the whole budget in one attempt.
 */
export const RECONNECT_ATTEMPT_TIMEOUT_MS = 10_000;

/**
 * The wait before attempt `attempt` (0 for the first) to resume a session after a drop: at once,
 * then 0.25, 0.5, 1, 2, 4, 5, 5... s. Shared by the client library's automatic reconnect and
 * `bunker exec`'s.
 */
export function reconnectDelayMs(attempt: number): number {
  return attempt === 0 ? 0 : Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), RECONNECT_MAX_DELAY_MS);
}
