/**
 * What a server that did not stop cleanly left in its root: under the default retention (delete),
 * the next server deletes the workspaces of sessions that cannot come back, as a clean stop would
 * have; before, a named session created after a crash found the files of the one before it (found
 * by a crash hunt). Nothing else in the root is touched.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workspaceNameFor } from "../../src/workspace/naming.ts";
import { connect } from "../helpers/client.ts";
import { startServer } from "../helpers/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "bunker-left-workspaces-"));
// A server running as root runs commands as another uid, which must pass through to the roots.
chmodSync(scratch, 0o711);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A root as a killed server leaves it: its file (a pid that is gone; retention `delete` unless
 * said), a named session's workspace, an anonymous one, one set aside, and things that are not bunker's.
 */
function leftRoot(killedServerRetention: "keep" | "delete" | "none" = "delete"): string {
  const root = mkdtempSync(join(scratch, "root-"));
  chmodSync(root, 0o711);
  if (killedServerRetention !== "none") {
    const gonePid = 2 ** 22 + 11;
    writeFileSync(join(root, `.bunker-server.${gonePid}.lock`), `${gonePid} 100 ${readlinkSync("/proc/self/ns/pid")} ${killedServerRetention}\n`);
  }
  for (const workspace of [workspaceNameFor("named:project"), workspaceNameFor("AbCdEf0123456789abcd"), `.ended-${workspaceNameFor("x")}-a1b2c3`]) {
    mkdirSync(join(root, workspace));
    writeFileSync(join(root, workspace, "secret.txt"), "from the session before");
  }
  writeFileSync(join(root, "notes.txt"), "not bunker's");
  mkdirSync(join(root, "my-project"));
  return root;
}

test("a named session after a crash starts empty, and the left workspaces go while the rest of the root stays", async () => {
  const root = leftRoot();
  await using server = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  const swept = server.nextStderr(/removed (\d+) workspaces? of sessions that had ended/);
  await using client = await connect(server, { query: { name: "project" } });
  expect(client.hello.resumed).toBe(false);
  // Only what the server makes in every workspace (the session's TMPDIR).
  const listed = await client.exec({ id: "ls", argv: ["ls", "-A"] });
  expect(listed.stdout).toBe(".tmp\n");
  expect(Number((await swept)[1])).toBe(3);
  expect(readdirSync(root).sort()).toEqual([`.bunker-server.${server.pid}.lock`, client.hello.workspace.split("/").pop()!, "my-project", "notes.txt"].sort());
});

test.each([
  ["this server keeps workspaces (--workspace-retention keep)", "delete", ["--workspace-retention", "keep"]],
  ["the killed server kept its workspaces", "keep", []],
  ["no server was killed (the workspaces were kept on purpose, or are not bunker's)", "none", []],
] as const)("when %s, what was left stays, and a named session finds its files again", async (_, killed, args) => {
  const root = leftRoot(killed);
  await using server = await startServer({ workspaceRoot: root, args: ["--sandbox", "none", ...args] });
  await using client = await connect(server, { query: { name: "project" } });
  expect((await client.exec({ id: "cat", argv: ["cat", "secret.txt"] })).stdout).toBe("from the session before");
  expect(existsSync(join(root, workspaceNameFor("AbCdEf0123456789abcd")))).toBe(true);
});
