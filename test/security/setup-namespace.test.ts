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
import { createBwrapBackend } from "../../src/sandbox/bwrap.ts";
import { installReaper, reaperArchFor } from "../../src/sandbox/reaper.ts";
import { defaultRunAs } from "../../src/sandbox/run-as.ts";
import { readSystemMounts } from "../../src/sandbox/system-mounts.ts";
import type { SandboxPolicy } from "../../src/sandbox/types.ts";
import { findDescendantsNamed } from "../../bench/lib/proc.ts";
import { connect } from "../helpers/client.ts";
import { pollProc } from "../helpers/proc.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";

let base = "";
let root = "";
let workspace = "";
let victim = "";
let controlVictim = "";
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
  controlVictim = join(base, "control-victim");
  mkdirSync(controlVictim);
  chmodSync(controlVictim, 0o777);
  symlinkSync(`/oldroot${controlVictim}`, join(workspace, "control-link"));
  const detected = await detectSandbox({ choice: "bwrap", requireSandbox: true, allowNetwork: false, workspaceRoot: root, runAs });
  if (!detected.ok) throw new Error(detected.reason);
  sandbox = detected.sandbox;
});

afterAll(() => {
  sandbox?.dispose();
  if (base) rmSync(base, { recursive: true, force: true });
});

/**
 * Runs `argv` under `backend` (the server's by default) with one protected path bound at
 * `destination` from the open `source`, as launchExec would; its exit facts and stderr.
 */
async function runWithProtectedPath(source: string, destination: string, argv: readonly string[] = ["true"], backend = sandbox!.backend): Promise<{ facts: ExitFacts; stderr: string }> {
  const policy: SandboxPolicy = { workspace, allowNetwork: false };
  const fd = openSync(source, "r");
  const logs = { stdout: new OutputLog(65536), stderr: new OutputLog(65536) };
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
      logs,
    );
    const facts = await running.finished;
    const chunk = logs.stderr.read(logs.stderr.start, Infinity);
    return { facts, stderr: chunk ? Buffer.from(chunk.bytes).toString() : "" };
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(noBwrap)("bwrap's setup cannot write outside the workspace", () => {
  test("the server's bwrap sets up in the setup namespace (hello lists nothing it lost)", () => {
    expect(sandbox!.info.notEnforced).toBeUndefined();
  });

  test("a protected file whose parent is a symlink to a host directory creates nothing there", async () => {
    const run = await runWithProtectedPath(join(workspace, "config"), join(workspace, "link", "config"));
    // bwrap stops before the command, where /oldroot has no such directory: the exec says so.
    expect(run.facts).toMatchObject({ code: 1, spawnError: `the sandbox could not be set up for "true" (bwrap exited 1 before the command started; bwrap's message is in stderr)` });
    expect(run.stderr).toContain(`Can't create file at ${join(workspace, "link", "config")}`);
    expect(readdirSync(victim)).toEqual([]);
  });

  test("a protected directory whose parent is a symlink to a host directory creates nothing there", async () => {
    const run = await runWithProtectedPath(join(workspace, "hooks"), join(workspace, "link", "hooks", "deeper"));
    expect(run.facts.code).toBe(1);
    expect(run.stderr).toMatch(/Can't mkdir|Can't create/);
    expect(readdirSync(victim)).toEqual([]);
  });

  test("the control: bwrap started on the host, as before, creates both in the host directory", async () => {
    const arch = reaperArchFor(process.arch)!;
    const unconfined = createBwrapBackend({ bwrapPath: Bun.which("bwrap")!, reaperPath: installReaper(base, arch), systemMounts: readSystemMounts(), lookUpPrograms: true });
    await runWithProtectedPath(join(workspace, "config"), join(workspace, "control-link", "config"), ["true"], unconfined);
    await runWithProtectedPath(join(workspace, "hooks"), join(workspace, "control-link", "hooks"), ["true"], unconfined);
    expect(readdirSync(controlVictim).sort()).toEqual(["config", "hooks"]);
  });

  test("an ordinary protected path still binds, read-only", async () => {
    const run = await runWithProtectedPath(join(workspace, "config"), join(workspace, "config"), ["/bin/sh", "-c", "grep -q protected config && ! echo changed >> config"]);
    expect(run.facts).toMatchObject({ code: 0, reason: "exited" });
    expect(run.facts).not.toHaveProperty("spawnError");
    // A command's own exit 1 is its own, not the sandbox's.
    const failing = await runWithProtectedPath(join(workspace, "config"), join(workspace, "config"), ["/bin/sh", "-c", "exit 1"]);
    expect(failing.facts).toMatchObject({ code: 1, reason: "exited" });
    expect(failing.facts).not.toHaveProperty("spawnError");
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

describe.skipIf(noBwrap)("an allowed path the setup namespace cannot bind", () => {
  test("stops detection with a fatal reason naming it, under auto too: no fallback to another backend or to none", async () => {
    const missing = join(base, "missing");
    for (const choice of ["bwrap", "auto"] as const) {
      const detected = await detectSandbox({ choice, requireSandbox: false, allowNetwork: false, workspaceRoot: root, runAs, allowRead: [missing] });
      expect(detected).toEqual({ ok: false, fatal: true, reason: expect.stringContaining(`an --allow-read or --allow-write path cannot be bound for the commands' user: `) });
      expect(detected.ok === false && detected.reason).toContain(missing);
    }
  });

  test.skipIf(!runAs)("a directory the commands' user cannot reach is such a path (as root, commands as nobody)", async () => {
    const hidden = join(base, "private");
    mkdirSync(join(hidden, "sub"), { recursive: true });
    chmodSync(hidden, 0o700);
    const detected = await detectSandbox({ choice: "bwrap", requireSandbox: false, allowNetwork: false, workspaceRoot: root, runAs, allowWrite: [join(hidden, "sub")] });
    expect(detected).toEqual({ ok: false, fatal: true, reason: expect.stringContaining("Permission denied") });
  });
});

describe.skipIf(noBwrap)("a workspace root removed and made again while the server runs", () => {
  test("execs fail with a message that says so while the setup namespace is made again, then run", async () => {
    const replacedRoot = join(base, "replaced-root");
    mkdirSync(replacedRoot, { mode: 0o711 });
    await using server = await startServer({ args: ["--sandbox", "bwrap"], workspaceRoot: replacedRoot });
    {
      await using before = await connect(server);
      expect((await before.exec({ id: "before", cmd: "echo ok" })).stdout).toBe("ok\n");
    }
    rmSync(replacedRoot, { recursive: true, force: true });
    mkdirSync(replacedRoot, { mode: 0o711 });
    chmodSync(replacedRoot, 0o711);
    await using after = await connect(server);
    // The first exec finds the root replaced and starts making the namespace again; each next
    // exec is a new try, and one of the first few runs.
    const refusals: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      after.send({ type: "exec", id: `after-${attempt}`, cmd: "echo ok" });
      const reply = await after.next((message) => (message.type === "started" || message.type === "error") && "id" in message && message.id === `after-${attempt}`);
      if (reply.type === "started") {
        expect((await after.runToExit(`after-${attempt}`)).stdout).toBe("ok\n");
        break;
      }
      refusals.push(reply.type === "error" ? reply.message : "");
    }
    expect(refusals.length).toBeLessThan(50);
    for (const refusal of refusals) expect(refusal).toContain("was replaced since the server started; bwrap's setup namespace is being made again: try again");
    // The namespace its commands share is one made in the new setup namespace: joined by both.
    const first = await after.exec({ id: "network-1", argv: ["readlink", "/proc/self/ns/net"] });
    const second = await after.exec({ id: "network-2", argv: ["readlink", "/proc/self/ns/net"] });
    expect(first.stdout).toMatch(/^net:\[\d+\]\n$/);
    expect(second.stdout).toBe(first.stdout);
  });
});

describe.skipIf(noBwrap || !Bun.which("unshare"))("where bwrap works but its setup namespace does not", () => {
  test("the server runs weakened, and says so: hello's notEnforced, the startup warning; execs run", async () => {
    // 32 user namespaces deep, the kernel lets one more level be made and no more: the setup
    // namespace fits, bwrap nested in it does not (ENOSPC), bwrap alone does. Root in there is
    // this process's uid, so commands run as 0 there.
    const limitedRoot = join(base, "limited-root");
    mkdirSync(limitedRoot, { mode: 0o711 });
    const deep = Array.from({ length: 32 }, () => ["unshare", "--user", "--map-root-user"]).flat();
    await using server = await startServer({
      command: [...deep, BUN, join(REPO_ROOT, "src", "main.ts")],
      args: ["--sandbox", "bwrap", "--run-as", "0:0"],
      workspaceRoot: limitedRoot,
    });
    expect(server.stderr()).toContain("WARNING: the bwrap sandbox runs without: setup namespace: bwrap failed its probe: bwrap: Creating new namespace failed");
    await using client = await connect(server);
    expect(client.hello.sandbox).toMatchObject({ backend: "bwrap", notEnforced: [expect.stringMatching(/^setup namespace: .*ENOSPC.*bwrap makes its mount points on the host/)] });
    expect((await client.exec({ id: "weakened", cmd: "echo ok" })).stdout).toBe("ok\n");
  });
});
