/**
 * What an idle session object costs. The 5,000 idle sessions of issue 8 are measured as RSS in
 * bench/, too noisy for a test, and the heap of many sessions moves with the growth steps of the
 * server's tables; one object's own size is exact. A field too many on Session (the watch budget's)
 * made it grow storage of its own, 64 bytes more for every session, unnoticed: rarely used state
 * lives in one object made on first use instead (Session's #rare).
 */
import { expect, test } from "bun:test";
import { estimateShallowMemoryUsageOf } from "bun:jsc";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestRegistry, openedSession } from "../helpers/registry.ts";

/** Today's size of an idle Session (measured: 160 bytes, one inline slot spare; two fields more make it 224). */
const MAX_IDLE_SESSION_BYTES = 160;

test(`an idle session object takes at most ${MAX_IDLE_SESSION_BYTES} bytes, with no storage of its own beside its inline fields`, async () => {
  const root = mkdtempSync(join(tmpdir(), "bunker-idle-session-"));
  try {
    const registry = createTestRegistry(root, "delete");
    const session = openedSession(registry.open({ kind: "new" }));
    expect(estimateShallowMemoryUsageOf(session)).toBeLessThanOrEqual(MAX_IDLE_SESSION_BYTES);
    await session.close("closed");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
