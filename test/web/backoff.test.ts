import { expect, test } from "bun:test";
import { MAX_RECONNECT_DELAY_MS, reconnectDelayMs } from "../../src/web/backoff.ts";

test("doubles from half a second to the cap, with the lower half of each step random", () => {
  const lowest = [0, 1, 2, 3, 4, 5, 10].map((attempt) => reconnectDelayMs(attempt, () => 0));
  const highest = [0, 1, 2, 3, 4, 5, 10].map((attempt) => reconnectDelayMs(attempt, () => 1));
  expect(lowest).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  expect(highest).toEqual([500, 1000, 2000, 4000, 8000, MAX_RECONNECT_DELAY_MS, MAX_RECONNECT_DELAY_MS]);
});
