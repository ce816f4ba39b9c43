/** retryResume: what it reports when the budget runs out. */
import { expect, test } from "bun:test";
import { BunkerError } from "../../src/client/errors.ts";
import { retryResume } from "../../src/client/resume-loop.ts";

test("an attempt at the deadline cut short by the budget does not hide why the attempts failed", async () => {
  const budgets: number[] = [];
  const result = await retryResume({
    timeoutMs: 400,
    cause: new BunkerError("connection_closed", "the connection closed (1006)", { closeCode: 1006 }),
    attempt: async (connectTimeoutMs) => {
      budgets.push(connectTimeoutMs);
      // A server that resets every connection; an attempt left almost no time runs out first.
      if (connectTimeoutMs < 50) {
        await Bun.sleep(connectTimeoutMs);
        throw new BunkerError("connect_failed", `could not connect: the WebSocket did not open within ${connectTimeoutMs} ms (connectTimeoutMs)`);
      }
      throw new BunkerError("connect_failed", "could not connect: read ECONNRESET");
    },
    abandoned: () => false,
    whenAbandoned: new Promise(() => {}),
    onReconnecting: undefined,
  });
  expect(budgets.at(-1)!).toBeLessThan(50);
  expect(result.kind).toBe("timed_out");
  expect((result as { error: BunkerError }).error.message).toBe("could not connect: read ECONNRESET");
});
