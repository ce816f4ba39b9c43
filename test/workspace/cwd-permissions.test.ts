/**
 * A cwd is walked beneath the workspace without following links (src/workspace/directory-beneath.ts).
 * The walk must ask of each directory only what the command's chdir asks: search permission. A
 * server that is not root (commands run as its own uid) opened each directory for reading, so a
 * directory the command can enter but not list (`chmod 311`) was `not_found`.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { canRunAsUser, useServerAsUser } from "../helpers/server-as-user.ts";

const shared = useServerAsUser(["--sandbox", "none"]);

test.skipIf(!canRunAsUser)("a cwd through a directory the command may enter but not list starts, as chdir would", async () => {
  const { server } = shared;
  if (!server) throw new Error("needs root and setpriv to run the server as another uid");
  await using client = await connect(server);
  const setup = await client.exec({ id: "setup", cmd: "mkdir -p hidden/sub && chmod 311 hidden && ls hidden; echo ls $?" });
  expect(setup.stdout).toBe("ls 2\n");
  for (const cwd of ["hidden", "hidden/sub"]) {
    const run = await client.exec({ id: `in-${cwd}`, argv: ["/bin/pwd"], cwd });
    expect({ cwd, exit: run.exit, stdout: run.stdout }).toMatchObject({ cwd, exit: { type: "exit", code: 0, reason: "exited" }, stdout: `${join(client.hello.workspace, cwd)}\n` });
  }
});
