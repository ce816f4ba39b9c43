/**
 * Protected paths under a server that is not root (docs/SECURITY.md, "Protected paths"). Its
 * commands run as its own uid and own the workspace, so they may chmod what is not a read-only
 * mount: `.git`, pinned by a writable bind. The server opened `.git` for reading before each exec;
 * after `chmod 311 .git` that open failed, nothing was bound, and the next exec wrote `.git/config`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT, startServer, type TestServer } from "../helpers/server-process.ts";

/** A uid of nobody in particular: the server runs as it, as bunker does on a developer's machine (no --run-as). */
const SERVER_UID = 4242;
const asServerUid = ["/usr/bin/setpriv", "--reuid", String(SERVER_UID), "--regid", String(SERVER_UID), "--clear-groups"];
const canDropToUid = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv") && Bun.which("git", { PATH: "/usr/bin:/bin" }) !== null;

let server: TestServer | undefined;
let workspaceRoot: string;
beforeAll(async () => {
  if (noBwrap || !canDropToUid) return;
  workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-protected-mode-"));
  chownSync(workspaceRoot, SERVER_UID, SERVER_UID);
  server = await startServer({
    command: [...asServerUid, BUN, join(REPO_ROOT, "src", "main.ts")],
    env: { HOME: workspaceRoot },
    workspaceRoot,
    args: ["--sandbox", "bwrap"],
  });
});
afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
  if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
});

test.skipIf(noBwrap || !canDropToUid)("a command that takes read permission from .git does not unprotect .git/config for the next exec", async () => {
  if (!server) throw new Error("needs root, setpriv and git to run the server as another uid");
  await using client = await connect(server);
  const init = Bun.spawnSync([...asServerUid, "git", "init", "-q", client.hello.workspace], { env: { PATH: "/usr/bin:/bin", HOME: workspaceRoot } });
  expect(init.exitCode).toBe(0);
  const config = readFileSync(join(client.hello.workspace, ".git", "config"), "utf8");
  const hide = await client.exec({ id: "hide", cmd: "chmod 311 .git; echo chmod $?" });
  expect(hide.stdout).toBe("chmod 0\n");
  const plant = await client.exec({ id: "plant", cmd: "chmod 755 .git; printf '[core]\\n\\tfsmonitor = planted\\n' >> .git/config; echo write $?" });
  // dash exits 2 when a redirection fails.
  expect(plant.stdout).toBe("write 2\n");
  expect(plant.stderr).toContain("Read-only file system");
  expect(readFileSync(join(client.hello.workspace, ".git", "config"), "utf8")).toBe(config);
});
