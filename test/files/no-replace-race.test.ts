/**
 * A write with ifExists "fail" placed its file by link(2) then unlink(2): for a moment the new file
 * had two links, and a read racing it was refused ("has 2 hard links", unsupported_file_type): 159
 * of 800 reads in a review's run. renameat2's RENAME_NOREPLACE places it in one step.
 */
import { expect, test } from "bun:test";
import { createHarness } from "./helpers/harness.ts";

const ROUNDS = 300;

test("reads racing writes that may not replace never find the file with two links", async () => {
  using writer = createHarness();
  using reader = createHarness({ workspace: writer.workspace });
  let done = false;
  const writes = (async () => {
    for (let round = 0; round < ROUNDS; round++) {
      expect(await writer.request({ type: "file.write", id: `w${round}`, path: "f", data: `round ${round}`, ifExists: "fail" })).toMatchObject({ type: "file.write.result" });
      expect(await writer.request({ type: "file.remove", id: `r${round}`, path: "f" })).toMatchObject({ type: "file.remove.result" });
    }
    done = true;
  })();
  const refusals: string[] = [];
  let reads = 0;
  while (!done) {
    const reply = await reader.request({ type: "file.read", id: `read${reads++}`, path: "f" });
    if (reply.type === "error" && reply.code !== "not_found") refusals.push(`${reply.code}: ${reply.message}`);
  }
  await writes;
  expect(reads).toBeGreaterThan(ROUNDS / 2);
  expect(refusals).toEqual([]);
});
