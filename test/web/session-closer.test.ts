import { describe, expect, test } from "bun:test";
import type { CloseAttemptOutcome } from "../../src/web/close-attempt.ts";
import { SESSIONS_TO_END_STORAGE_KEY, type SessionToEnd } from "../../src/web/saved-tabs.ts";
import { createSessionCloser } from "../../src/web/session-closer.ts";

function memoryStorage(initial?: SessionToEnd[]) {
  const items = new Map<string, string>(initial === undefined ? [] : [[SESSIONS_TO_END_STORAGE_KEY, JSON.stringify(initial)]]);
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    stored: () => JSON.parse(items.get(SESSIONS_TO_END_STORAGE_KEY) ?? "null") as SessionToEnd[] | null,
  };
}

/** A closer whose tries the test answers: `tries` lists each try's session, `answer` settles the oldest open one. */
function closerWithManualTries(storage: ReturnType<typeof memoryStorage>) {
  const tries: string[] = [];
  const open: ((outcome: CloseAttemptOutcome) => void)[] = [];
  const closer = createSessionCloser({
    storage,
    attempt(target) {
      tries.push(target.session);
      return new Promise((resolve) => open.push(resolve));
    },
  });
  const answer = async (outcome: CloseAttemptOutcome) => {
    open.shift()?.(outcome);
    // The closer acts on the outcome in a then().
    await Promise.resolve();
  };
  return { closer, tries, answer };
}

const first = { session: "s1", resumeSecret: "r1" };
const second = { session: "s2", resumeSecret: "r2" };

describe("createSessionCloser", () => {
  test("tries a session at once, keeps it stored until the server has ended it, then forgets it", async () => {
    const storage = memoryStorage();
    const { closer, tries, answer } = closerWithManualTries(storage);
    closer.end(first);
    expect(tries).toEqual(["s1"]);
    expect(storage.stored()).toEqual([first]);
    await answer("ended");
    expect(storage.stored()).toEqual([]);
  });

  test("takes up the sessions a page before a reload left, and forgets one the server no longer has", async () => {
    const storage = memoryStorage([first, second]);
    const { tries, answer } = closerWithManualTries(storage);
    expect(tries).toEqual(["s1", "s2"]);
    await answer("gone");
    expect(storage.stored()).toEqual([second]);
  });

  test("tries an unreachable session again, at once when asked to, and a session handed in twice once", async () => {
    const storage = memoryStorage();
    const { closer, tries, answer } = closerWithManualTries(storage);
    closer.end(first);
    closer.end(first);
    expect(tries).toEqual(["s1"]);
    // A try under way is not doubled.
    closer.retryNow();
    expect(tries).toEqual(["s1"]);
    await answer("unreachable");
    expect(storage.stored()).toEqual([first]);
    closer.retryNow();
    expect(tries).toEqual(["s1", "s1"]);
    await answer("ended");
    expect(storage.stored()).toEqual([]);
  });
});
