/**
 * bwrap makes each bind's mount point by path, following symlinks, with the host at /oldroot. A
 * command that swaps `.git` for a symlink to /oldroot/<host directory> while its session starts the
 * next exec had bwrap create `config` and `hooks` in that host directory (an audit won the race in
 * about 1,500 execs). The race itself is not needed to show it: a protected path whose parent
 * already is such a symlink is the state the race reaches. Under the server's backend, bwrap sets
 * up in a namespace where that host directory is not there to write (setup-namespace.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildExecEnv } from "../../src/exec/exec-env.ts";
import { OutputLog } from "../../src/exec/output-log.ts";
import { runExec, type ExitFacts } from "../../src/exec/run-exec.ts";
import { detectSandbox, type DetectedSandbox } from "../../src/sandbox/detect.ts";
import { defaultRunAs } from "../../src/sandbox/run-as.ts";
import type { SandboxPolicy } from "../../src/sandbox/types.ts";
import { findDescendantsNamed } from "../../bench/lib/proc.ts";
import { connect } from "../helpers/client.ts";
import { pollProc } from "../helpers/proc.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startServer } from "../helpers/server-process.ts";

let base = "";
let root = "";
let workspace = "";
let victim = "";
let sandbox: DetectedSandbox | undefined;
const runAs = defaultRunAs(process.geteuid!());

beforeAll(async () => {
  if (noBwrap) return;
  base = realpathSync(mkdtempSync(join(tmpdir(), "bunker-setup-ns-")));
  chmodSync(base, 0o755);
  root = join(base, "root");
  workspace = join(root, "workspace");
  mkdirSync(workspace, { recursive: true });
  // A host directory anyone may write, as /tmp's subdirectories often are: what the race aimed at.
  victim = join(base, "victim");
  mkdirSync(victim);
  chmodSync(victim, 0o777);
  writeFileSync(join(workspace, "config"), "protected\n");
  mkdirSync(join(workspace, "hooks"));
  if (runAs) chownSync(workspace, runAs.uid, runAs.gid);
  symlinkSync(`/oldroot${victim}`, join(workspace, "link"));
  const detected = await detectSandbox({ choice: "bwrap", requireSandbox: true, allowNetwork: false, workspaceRoot: root, runAs });
  if (!detected.ok) throw new Error(detected.reason);
  sandbox = detected.sandbox;
});

afterAll(() => {
  sandbox?.dispose();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** Runs `argv` with one protected path bound at `destination` from the open `source`, as launchExec would. */
async function runWithProtectedPath(source: string, destination: string, argv: readonly string[] = ["true"]): Promise<ExitFacts> {
  const backend = sandbox!.backend;
  const policy: SandboxPolicy = { workspace, allowNetwork: false };
  const fd = openSync(source, "r");
  try {
    const running = runExec(
      {
        id: "setup",
        argv,
        cwd: workspace,
        env: buildExecEnv({ home: workspace, tempDir: backend.tempDir(policy), requested: undefined }),
        stdin: false,
        timeoutMs: 0,
        maxOutputBytes: Infinity,
        ...(runAs && { runAs }),
        protectedPaths: [{ path: destination, fd }],
      },
      backend,
      policy,
      { stdout: new OutputLog(65536), stderr: new OutputLog(65536) },
    );
    return await running.finished;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(noBwrap)("bwrap's setup cannot write outside the workspace", () => {
  test("the server's bwrap sets up in the setup namespace (hello lists nothing it lost)", () => {
    expect(sandbox!.info.notEnforced).toBeUndefined();
  });

  test("a protected file whose parent is a symlink to a host directory creates nothing there", async () => {
    await runWithProtectedPath(join(workspace, "config"), join(workspace, "link", "config"));
    expect(readdirSync(victim)).toEqual([]);
  });

  test("a protected directory whose parent is a symlink to a host directory creates nothing there", async () => {
    await runWithProtectedPath(join(workspace, "hooks"), join(workspace, "link", "hooks", "deeper"));
    expect(readdirSync(victim)).toEqual([]);
  });

  test("an ordinary protected path still binds, read-only", async () => {
    const facts = await runWithProtectedPath(join(workspace, "config"), join(workspace, "config"), ["/bin/sh", "-c", "grep -q protected config && ! echo changed >> config"]);
    expect(facts).toMatchObject({ code: 0, reason: "exited" });
  });
});

describe.skipIf(noBwrap)("a server's execs", () => {
  test("start bwrap inside the setup namespace, not in the server's own", async () => {
    await using server = await startServer({ args: ["--sandbox", "bwrap"] });
    await using client = await connect(server);
    expect(client.hello.sandbox).not.toHaveProperty("notEnforced");
    client.send({ type: "exec", id: "held", argv: ["cat"], stdin: true });
    await client.next((message) => message.type === "started");
    let bwrap: number | undefined;
    await pollProc(() => (bwrap = findDescendantsNamed(server.pid, "bwrap")[0]) !== undefined);
    // bwrap's first process stays where it was started; the sandbox is its child.
    const namespaces = (pid: number | "self") => ["user", "mnt"].map((kind) => readlinkSync(`/proc/${pid}/ns/${kind}`));
    const [user, mount] = namespaces(bwrap!);
    const [serverUser, serverMount] = namespaces(server.pid);
    expect(user).not.toBe(serverUser);
    expect(mount).not.toBe(serverMount);
    client.send({ type: "stdin", id: "held", eof: true });
    await client.runToExit("held");
  });
});

describe.skipIf(noBwrap)("without a setup namespace", () => {
  test("bwrap still runs, and hello's notEnforced says what is lost, with bwrap's reason", async () => {
    // A path bwrap cannot bind: the namespace cannot be made, while the probe (which binds only its workspace) passes.
    const detected = await detectSandbox({ choice: "bwrap", requireSandbox: true, allowNetwork: false, workspaceRoot: root, runAs, allowRead: [join(base, "missing")] });
    if (!detected.ok) throw new Error(detected.reason);
    try {
      expect(detected.sandbox.info.backend).toBe("bwrap");
      expect(detected.sandbox.info.notEnforced).toEqual([expect.stringMatching(/^setup namespace: bwrap could not make the setup namespace: .*missing.*; bwrap makes its mount points on the host/)]);
    } finally {
      detected.sandbox.dispose();
    }
  });
});
