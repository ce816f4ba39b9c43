/** A session's view secret: derived one way from its resume secret, and checked without telling a live id. */
import { afterAll, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { viewSecretOf } from "../../src/server/view-secret.ts";
import { createTestRegistry, openedSession } from "../helpers/registry.ts";

const root = mkdtempSync(join(tmpdir(), "bunker-view-secret-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("a view secret is 32 base64url characters (192 bits), the same for one resume secret and different from it", () => {
  const resumeSecret = "q7Rz0vK2mT9xWc4LbN8sPd1FhJ6yGe3U";
  const viewSecret = viewSecretOf(resumeSecret);
  expect(viewSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(viewSecretOf(resumeSecret)).toBe(viewSecret);
  expect(viewSecret).not.toBe(resumeSecret);
  expect(viewSecretOf(`${resumeSecret.slice(0, -1)}V`)).not.toBe(viewSecret);
});

test("checking a view secret hashes as much for an id the server does not hold as for a live one", async () => {
  // A viewer needs no token, so anyone who reaches the port may ask: the work done, and so the
  // time taken, must not tell a live id from an unknown one (as withSecret does for resumes).
  const sessions = createTestRegistry(root, "delete");
  const live = openedSession(sessions.open({ kind: "new" }));
  const rightSecret = viewSecretOf(live.resumeSecret);
  const hashes = spyOn(Bun.CryptoHasher, "hash");
  try {
    expect(sessions.withViewSecret(live.id, "x".repeat(32))).toBeUndefined();
    const forLive = hashes.mock.calls.length;
    hashes.mockClear();
    expect(sessions.withViewSecret("no-such-session-here", "x".repeat(32))).toBeUndefined();
    expect(hashes.mock.calls.length).toBe(forLive);
    hashes.mockClear();
    expect(sessions.withViewSecret(live.id, rightSecret)).toBe(live);
    expect(hashes.mock.calls.length).toBe(forLive);
  } finally {
    hashes.mockRestore();
    await live.close("closed");
  }
});
