/**
 * A cwd is walked beneath the workspace without following links (src/workspace/directory-beneath.ts).
 * The walk must ask of each directory only what the command's chdir asks: search permission. A
 * server that is not root (commands run as its own uid) opened each directory for reading, so a
 * directory the command can enter but not list (`chmod 311`) was `not_found`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { BUN, REPO_ROOT, startServer, type TestServer } from "../helpers/server-process.ts";

/** A uid of nobody in particular: the server runs as it, as bunker does on a developer's machine (no --run-as). */
const SERVER_UID = 4242;
const canDropToUid = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");

let server: TestServer | undefined;
let workspaceRoot: string;
beforeAll(async () => {
  if (!canDropToUid) return;
  workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-cwd-perm-"));
  chownSync(workspaceRoot, SERVER_UID, SERVER_UID);
  server = await startServer({
    command: ["/usr/bin/setpriv", "--reuid", String(SERVER_UID), "--regid", String(SERVER_UID), "--clear-groups", BUN, join(REPO_ROOT, "src", "main.ts")],
    env: { HOME: workspaceRoot },
    workspaceRoot,
    args: ["--sandbox", "none"],
  });
});
afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
  if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
});

test.skipIf(!canDropToUid)("a cwd through a directory the command may enter but not list starts, as chdir would", async () => {
  if (!server) throw new Error("needs root and setpriv to run the server as another uid");
  await using client = await connect(server);
  const setup = await client.exec({ id: "setup", cmd: "mkdir -p hidden/sub && chmod 311 hidden && ls hidden; echo ls $?" });
  expect(setup.stdout).toBe("ls 2\n");
  for (const cwd of ["hidden", "hidden/sub"]) {
    const run = await client.exec({ id: `in-${cwd}`, argv: ["/bin/pwd"], cwd });
    expect({ cwd, exit: run.exit, stdout: run.stdout }).toMatchObject({ cwd, exit: { type: "exit", code: 0, reason: "exited" }, stdout: `${join(client.hello.workspace, cwd)}\n` });
  }
});
