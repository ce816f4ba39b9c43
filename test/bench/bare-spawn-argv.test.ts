/**
 * The benchmarks compare bunker with a bare Bun.spawn "of the same argv": these tests hold them to
 * it, against the bwrap command line of a real server's running exec, for the default server and for
 * the core-policy peer (bench/peers/bunker-core-policy.ts).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findDescendantsNamed } from "../../bench/lib/proc.ts";
import { prepareSandbox } from "../../bench/lib/sandbox-spawn.ts";
import { connect } from "../helpers/client.ts";
import { pollProc } from "../helpers/proc.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "bunker-test-bench-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * The reaper sits in each process's own runtime directory: the one part of the argv that may differ.
 * The spawn's enter prefix (the setup namespace, and `-n` for the session's network namespace) is
 * not in /proc: enter executes bwrap.
 */
function normalise(argv: readonly string[]): string[] {
  const entered = /\/enter-(x64|arm64)$/.test(argv[0] ?? "");
  return argv.slice(entered ? (argv[1] === "-n" ? 2 : 1) : 0).map((arg) => arg.replace(/\/bunker-runtime-\d+-[^/]+\//, "/bunker-runtime-*/"));
}

/** The argv of the bwrap that runs a long `cat` for a client of a server started with `command`. */
async function serverArgvAndWorkspace(command: string[] | undefined): Promise<{ argv: string[]; workspace: string }> {
  await using server = await startServer({ args: ["--sandbox", "bwrap"], ...(command && { command }) });
  await using client = await connect(server);
  client.send({ type: "exec", id: "held", argv: ["cat"], stdin: true });
  await client.next((message) => message.type === "started");
  let bwrap: number | undefined;
  await pollProc(() => (bwrap = findDescendantsNamed(server.pid, "bwrap")[0]) !== undefined);
  const argv = readFileSync(`/proc/${bwrap}/cmdline`, "utf8").split("\0").slice(0, -1);
  client.send({ type: "stdin", id: "held", eof: true });
  await client.runToExit("held");
  return { argv, workspace: client.hello.workspace };
}

describe.skipIf(noBwrap)("the benchmarks' bare spawn", () => {
  test("is the default server's exact bwrap argv: seccomp, resource limits and the /tmp cap included", async () => {
    const { argv, workspace } = await serverArgvAndWorkspace(undefined);
    const sandbox = await prepareSandbox("bwrap", scratch);
    try {
      const bare = sandbox.buildCommand(["cat"], workspace).argv;
      expect(normalise(bare)).toEqual(normalise(argv));
      // The bare spawn enters the setup namespace as the server's does (enter, then bwrap), and a
      // network namespace of its own that its commands share, as a session's do.
      expect(bare[0]).toMatch(/\/enter-(x64|arm64)$/);
      expect(bare[1]).toBe("-n");
      expect(argv).toContain("--share-net");
      expect(argv).toContain("--seccomp");
      expect(argv.join(" ")).toContain("/run/bunker/reap -l ");
    } finally {
      sandbox.dispose();
    }
  });

  test("with the core policy is the core-policy server's exact argv, which has none of the hardening", async () => {
    const { argv, workspace } = await serverArgvAndWorkspace([BUN, join(REPO_ROOT, "bench", "peers", "bunker-core-policy.ts")]);
    const sandbox = await prepareSandbox("bwrap", scratch, "core");
    try {
      const bare = sandbox.buildCommand(["cat"], workspace).argv;
      expect(normalise(bare)).toEqual(normalise(argv));
      expect(bare[0]).toEndWith("/bwrap");
      expect(argv).not.toContain("--seccomp");
      expect(argv).not.toContain("--size");
      expect(argv.join(" ")).not.toContain("/run/bunker/reap -l ");
    } finally {
      sandbox.dispose();
    }
  });
});
