/** The longest wait between two reconnect attempts. */
export const MAX_RECONNECT_DELAY_MS = 10_000;
const FIRST_RECONNECT_DELAY_MS = 500;

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first): doubling from 500 ms up
 * to 10 s, with the lower half random so that many pages do not come back in step after a restart.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, FIRST_RECONNECT_DELAY_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
