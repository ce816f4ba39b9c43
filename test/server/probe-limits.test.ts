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
import { BUN, makeWorkspaceRoot, REPO_ROOT, startServer } from "../helpers/server-process.ts";
import { rmSync } from "node:fs";

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

/** Starts `bunker serve --sandbox <sandbox>` under a hard open-file limit of 2048 and waits for it to exit. */
async function serveUnderHardLimit(sandbox: "auto" | "none"): Promise<{ exitCode: number | null; stderr: string }> {
  const workspaceRoot = makeWorkspaceRoot();
  try {
    const proc = Bun.spawn([PRLIMIT!, "--nofile=2048:2048", "--", BUN, join(REPO_ROOT, "src", "main.ts"), "serve", "--port", "0", "--no-auth", "--sandbox", sandbox, "--workspace-root", workspaceRoot], {
      stdout: "ignore",
      stderr: "pipe",
      // The code before started listening and ran on: fail in time instead.
      timeout: 20_000,
    });
    const [exitCode, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    return { exitCode, stderr };
  } finally {
    rmSync(workspaceRoot, { recursive: true, force: true });
  }
}

test.skipIf(noBwrap || !PRLIMIT)("a limit the server cannot set stops it at startup, saying so, rather than running commands without a sandbox", async () => {
  // The default --limit-open-files is 4096, over this hard limit. Under --sandbox auto the failed
  // probe used to mean "no sandbox here": the server ran with none, blaming user namespaces, and
  // then every exec failed with EPERM anyway (prlimit could not raise the limit either).
  expect(await serveUnderHardLimit("auto")).toEqual({
    exitCode: 2,
    stderr:
      "bunker: sandbox: bwrap runs, but inside it the reaper could not set the limits commands run with, or start /bin/true: EPERM (operation not permitted); " +
      "a --limit-* value above the server's own hard limit (ulimit -H) cannot be set: lower it (--limit-open-files 1024, say), or raise the hard limit\n",
  });
});

test.skipIf(!PRLIMIT)("under --sandbox none too, a limit the server cannot set stops it at startup; one it can set starts it", async () => {
  // The none backend had no probe: it listened, and every exec then failed with EPERM.
  expect(await serveUnderHardLimit("none")).toEqual({
    exitCode: 2,
    stderr: "bunker: sandbox: --sandbox none: --limit-open-files is 4096 (the default, unless set) and above the server's own hard limit of 2048 (ulimit -H), which commands cannot raise: pass --limit-open-files 2048 or less, or raise the hard limit\n",
  });
  await using server = await startServer({
    command: [PRLIMIT!, "--nofile=2048:2048", "--", BUN, join(REPO_ROOT, "src", "main.ts")],
    args: ["--sandbox", "none", "--limit-open-files", "1024"],
  });
  await using client = await connect(server);
  expect((await client.exec({ id: "limit", cmd: "ulimit -n" })).stdout).toBe("1024\n");
});
