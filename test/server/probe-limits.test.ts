/**
 * The startup probe runs bwrap with the limits commands will get, not the defaults: on a host whose
 * hard open-file limit is under the default 4096, a server told --limit-open-files 1024 failed its
 * probe (the reaper could not raise the limit to 4096) and, under --sandbox auto, ran commands
 * WITHOUT a sandbox, blaming user namespaces (found by a review).
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";

const PRLIMIT = Bun.which("prlimit");

test.skipIf(noBwrap || !PRLIMIT)("a server whose hard open-file limit is 2048 starts with bwrap when told --limit-open-files 1024", async () => {
  await using server = await startServer({
    command: [PRLIMIT!, "--nofile=2048:2048", "--", BUN, join(REPO_ROOT, "src", "main.ts")],
    args: ["--sandbox", "bwrap", "--limit-open-files", "1024"],
  });
  await using client = await connect(server);
  expect(client.hello.sandbox.backend).toBe("bwrap");
  expect((await client.exec({ id: "limit", cmd: "ulimit -n" })).stdout).toBe("1024\n");
});
