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

test("a handshake refused with 401 or 403 ends the attempts at once; a 503 or 429 is tried again", async () => {
  const resume = (status: number) => {
    let attempts = 0;
    const result = retryResume({
      timeoutMs: 600,
      cause: new BunkerError("connection_closed", "the connection closed (1006)", { closeCode: 1006 }),
      attempt: async () => {
        attempts++;
        throw new BunkerError("connect_failed", `could not connect to ws://h:1/ws: Expected 101 status code: ${status}`);
      },
      abandoned: () => false,
      whenAbandoned: new Promise(() => {}),
      onReconnecting: undefined,
    });
    return result.then((outcome) => ({ kind: outcome.kind, attempts }));
  };
  expect(await resume(401)).toEqual({ kind: "refused", attempts: 1 });
  expect(await resume(403)).toEqual({ kind: "refused", attempts: 1 });
  expect((await resume(503)).kind).toBe("timed_out");
  expect((await resume(429)).attempts).toBeGreaterThan(1);
});
