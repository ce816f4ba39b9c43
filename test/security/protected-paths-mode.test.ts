/**
 * Protected paths under a server that is not root (docs/SECURITY.md, "Protected paths"). Its
 * commands run as its own uid and own the workspace, so they may chmod what is not a read-only
 * mount: `.git`, pinned by a writable bind. The server opened `.git` for reading before each exec;
 * after `chmod 311 .git` that open failed, nothing was bound, and the next exec wrote `.git/config`.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { AS_SERVER_UID, canRunAsUser, useServerAsUser } from "../helpers/server-as-user.ts";

const hasGit = Bun.which("git", { PATH: "/usr/bin:/bin" }) !== null;
const shared = useServerAsUser(["--sandbox", "bwrap"], !noBwrap && hasGit);

test.skipIf(noBwrap || !canRunAsUser || !hasGit)("a command that takes read permission from .git does not unprotect .git/config for the next exec", async () => {
  const { server, workspaceRoot } = shared;
  if (!server) throw new Error("needs root, setpriv and git to run the server as another uid");
  await using client = await connect(server);
  const init = Bun.spawnSync([...AS_SERVER_UID, "git", "init", "-q", client.hello.workspace], { env: { PATH: "/usr/bin:/bin", HOME: workspaceRoot } });
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
