import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOCTOR_HELP, MAIN_HELP } from "../../src/cli/help.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT } from "../helpers/server-process.ts";

/** A PATH with nothing on it: bwrap and prlimit are then missing for real. */
const emptyDir = mkdtempSync(join(tmpdir(), "bunker-empty-path-"));

afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

/** Runs `bun src/main.ts doctor ...` and collects how it ended. */
async function runDoctor(args: string[], path = process.env["PATH"] ?? "/usr/bin:/bin") {
  const proc = Bun.spawn([BUN, join(REPO_ROOT, "src", "main.ts"), "doctor", ...args], {
    env: { PATH: path, HOME: process.env["HOME"] ?? "/root" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

describe("bunker doctor on this machine", () => {
  test.skipIf(noBwrap)("says bwrap works and exits 0", async () => {
    const result = await runDoctor([]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^ {2}bwrap {5}works {4}bwrap [\d.]+ at \/\S+ ran \/bin\/true with the server's flags, in its setup namespace and in a network namespace a session's commands share$/m);
    expect(result.stdout).toEndWith("bunker serve --sandbox auto would use: bwrap.\n");
  });

  test.skipIf(noBwrap)("--json parses and carries the verdicts, the auto choice and the facts", async () => {
    const result = await runDoctor(["--json"]);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(["sandboxed", "checks", "support", "auto", "facts"]);
    expect(report.sandboxed).toBe(true);
    expect(report.checks[0]).toEqual({
      backend: "bwrap",
      status: "works",
      reason: expect.stringContaining("ran /bin/true with the server's flags"),
      cause: null,
      detail: null,
      fix: [],
      warnings: expect.any(Array),
    });
    expect(report.checks.map((check: { backend: string }) => check.backend)).toEqual(["bwrap", "seatbelt", "none"]);
    expect(report.auto).toEqual({ backend: "bwrap", sandboxed: true, notEnforced: [] });
    expect(report.facts).toMatchObject({
      platform: "linux",
      arch: process.arch,
      uid: process.getuid?.(),
      bwrapPath: expect.stringMatching(/\/bwrap$/),
      bwrapOffPath: null,
      bwrapProbe: { exitCode: 0, timedOut: false },
      setupNamespaceProbe: { exitCode: 0, timedOut: false },
      sharedNetworkProbe: { exitCode: 0, timedOut: false },
      seatbeltProbe: null,
    });
    expect(Object.keys(report.facts.sysctls).sort()).toEqual(["apparmorRestrictUnprivilegedUserns", "maxUserNamespaces", "unprivilegedUsernsClone"]);
  });

  test("leaves no probe directory behind", async () => {
    const before = new Set(new Bun.Glob("bunker-doctor-*").scanSync({ cwd: tmpdir(), onlyFiles: false }));
    await runDoctor([]);
    const left = [...new Bun.Glob("bunker-doctor-*").scanSync({ cwd: tmpdir(), onlyFiles: false })].filter((name) => !before.has(name));
    expect(left).toEqual([]);
  });
});

describe("bunker doctor with an empty PATH", () => {
  test("says bwrap is missing, shows the install command, and exits 1", async () => {
    const result = await runDoctor([], emptyDir);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^ {2}bwrap {5}missing {2}bwrap is not on PATH/m);
    expect(result.stdout).toMatch(/(sudo )?apt-get install bubblewrap$/m);
    expect(result.stdout).toContain("bunker serve --sandbox auto would fall back to: none");
    expect(result.stdout).toContain("  - network: commands have the server's network\n");
  });

  test("--json says the same to machines", async () => {
    const result = await runDoctor(["--json"], emptyDir);
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.sandboxed).toBe(false);
    expect(report.checks[0]).toMatchObject({ backend: "bwrap", status: "missing", cause: "not-installed" });
    expect(report.checks[0].fix).toContainEqual(expect.stringMatching(/apt-get install bubblewrap$/));
    expect(report.auto).toMatchObject({ backend: "none", sandboxed: false });
    // prlimit is looked for where the server looks (/usr/bin, /bin), not on PATH.
    expect(report.facts).toMatchObject({ bwrapPath: null, bwrapProbe: null, prlimitPath: Bun.which("prlimit", { PATH: "/usr/bin:/bin" }) });
  });
});

describe("bunker doctor without prlimit", () => {
  // /dev/null bound over prlimit: no executable there, as on a host without util-linux. With bwrap
  // off PATH too, the doctor once told to install util-linux, which nothing runs on x64 or arm64.
  const prlimit = Bun.which("prlimit", { PATH: "/usr/bin:/bin" });
  if (!prlimit) console.warn("skipping the test without prlimit: it is missing from /usr/bin and /bin already");
  test.skipIf(noBwrap || !prlimit)("asks for no util-linux where the reaper sets the limits", async () => {
    const bwrap = Bun.which("bwrap") ?? "bwrap";
    const sandbox = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", REPO_ROOT, REPO_ROOT, "--ro-bind", "/dev/null", realpathSync(prlimit!), "--"];
    const run = async (...args: string[]) => {
      const proc = Bun.spawn([...sandbox, BUN, join(REPO_ROOT, "src", "main.ts"), "doctor", ...args], { env: { PATH: emptyDir, HOME: "/tmp" }, stdout: "pipe", stderr: "pipe" });
      const [stdout, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      return { stdout, exitCode };
    };
    const json = await run("--json");
    expect(json.exitCode).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.facts).toMatchObject({ bwrapPath: null, prlimitPath: null });
    expect(report.support.map((item: { name: string }) => item.name)).toEqual(["seccomp"]);
    const text = await run();
    expect(text.exitCode).toBe(1);
    expect(text.stdout).not.toContain("prlimit");
    expect(text.stdout).not.toContain("util-linux");
  });
});

describe("bunker doctor where bwrap really fails", () => {
  // bwrap's --disable-userns leaves no user namespace to create inside: bwrap itself then fails
  // the way it does on a host with user.max_user_namespaces=0, with no sysctl changed.
  test.skipIf(noBwrap)("inside a sandbox that forbids user namespaces, says bwrap is broken, why, and exits 1", async () => {
    const bwrap = Bun.which("bwrap") ?? "bwrap";
    const sandbox = [bwrap, "--unshare-user", "--disable-userns", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", REPO_ROOT, REPO_ROOT, "--"];
    const proc = Bun.spawn([...sandbox, BUN, join(REPO_ROOT, "src", "main.ts"), "doctor", "--json"], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: "/tmp" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(exitCode).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.checks[0]).toMatchObject({
      backend: "bwrap",
      status: "broken",
      cause: "userns-limit",
      detail: "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)",
    });
    expect(report.auto).toMatchObject({ backend: "none", sandboxed: false });
  });
});

describe("bunker doctor's arguments", () => {
  test("--help prints the doctor's help and exits 0", async () => {
    expect(await runDoctor(["--help"])).toEqual({ exitCode: 0, stdout: DOCTOR_HELP, stderr: "" });
  });

  test("an unknown flag prints one line and exits 2", async () => {
    expect(await runDoctor(["--bogus"])).toEqual({ exitCode: 2, stdout: "", stderr: "bunker: Unknown option '--bogus'\n" });
  });

  test("a positional argument prints one line and exits 2", async () => {
    const result = await runDoctor(["bwrap"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split("\n")).toEqual([expect.stringMatching(/^bunker: Unexpected argument 'bwrap'/), ""]);
  });

  test("bunker --help lists the doctor", () => {
    expect(MAIN_HELP).toContain("  bunker doctor [--json]   ");
  });
});
