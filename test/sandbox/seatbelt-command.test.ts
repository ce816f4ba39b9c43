import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Rlimits } from "../../src/sandbox/rlimits.ts";
import { buildSeatbeltProfile } from "../../src/sandbox/seatbelt-profile.ts";
import { createSeatbeltBackend, RLIMIT_SHELL_PATH } from "../../src/sandbox/seatbelt.ts";
import type { ExecSpec, SandboxPolicy } from "../../src/sandbox/types.ts";

const WORKSPACE = "/Users/alice/.bunker/workspaces/s1";
const PROFILE = buildSeatbeltProfile({ allowNetwork: false });
const RLIMITS: Rlimits = { cpuSeconds: 100, addressSpaceBytes: 8 * 1024 ** 3, fileSizeBytes: 10 * 1024 * 1024 + 5, openFiles: 256, processes: 512 };
const RLIMIT_WRAPPER = ["/bin/bash", "-p", "-c", 'umask 022 && ulimit -t "$1" && ulimit -f "$2" && ulimit -n "$3" && ulimit -u "$4" && ulimit -c 0 && shift 4 && exec -- "$@"', "bunker-rlimits"];

function specIn(workspace: string, argv: string[], extra: Partial<ExecSpec> = {}): ExecSpec {
  return { argv, cwd: workspace, env: { PATH: "/usr/bin:/bin", HOME: workspace, TMPDIR: `${workspace}/.tmp` }, ...extra };
}

/** What follows sandbox-exec's "--": the part that runs inside the sandbox. */
function insideSandbox(argv: readonly string[]): string[] {
  return argv.slice(argv.indexOf("--") + 1);
}

describe("createSeatbeltBackend", () => {
  test("builds exactly the sandbox-exec argv, environment and process-group tree", () => {
    const backend = createSeatbeltBackend();
    const policy: SandboxPolicy = { workspace: WORKSPACE, allowNetwork: false };
    const spec = specIn(WORKSPACE, ["/bin/sh", "-c", "echo hi"]);
    expect(backend.name).toBe("seatbelt");
    expect(backend.buildCommand(spec, policy)).toEqual({
      argv: ["/usr/bin/sandbox-exec", "-p", PROFILE, "-D", `WORKSPACE=${WORKSPACE}`, "--", "/bin/sh", "-c", "echo hi"],
      env: spec.env,
      cwd: WORKSPACE,
      tree: "process-group",
      statusFds: {},
      detached: true,
    });
  });

  test("gives each session a temp dir of its own inside its workspace, which the session creates", () => {
    const backend = createSeatbeltBackend();
    const first = backend.tempDir({ workspace: WORKSPACE, allowNetwork: false });
    const second = backend.tempDir({ workspace: "/Users/alice/.bunker/workspaces/s2", allowNetwork: false });
    expect(first).toBe(`${WORKSPACE}/.tmp`);
    expect(second).toBe("/Users/alice/.bunker/workspaces/s2/.tmp");
  });

  test("gives a read-only exec the read-only profile and its temp dir as TEMP_DIR, the only path it may write", () => {
    const backend = createSeatbeltBackend();
    const command = backend.buildCommand(specIn(WORKSPACE, ["ls"]), { workspace: WORKSPACE, allowNetwork: false, readOnly: true });
    expect(backend.enforcesReadOnly).toBe(true);
    expect(command.argv).toEqual([
      "/usr/bin/sandbox-exec",
      "-p",
      buildSeatbeltProfile({ allowNetwork: false, readOnly: true }),
      "-D",
      `WORKSPACE=${WORKSPACE}`,
      "-D",
      `TEMP_DIR=${WORKSPACE}/.tmp`,
      "--",
      "ls",
    ]);
    expect(command.argv[2]).not.toBe(PROFILE);
  });

  test("picks the profile by allowNetwork", () => {
    const backend = createSeatbeltBackend();
    const spec = specIn(WORKSPACE, ["ls"]);
    expect(backend.buildCommand(spec, { workspace: WORKSPACE, allowNetwork: true }).argv[2]).toBe(buildSeatbeltProfile({ allowNetwork: true }));
    expect(backend.buildCommand(spec, { workspace: WORKSPACE, allowNetwork: false }).argv[2]).toBe(PROFILE);
  });

  test("passes each allowed and protected path as a -D parameter, in order, and sizes the profile by their counts", () => {
    const policy: SandboxPolicy = {
      workspace: WORKSPACE,
      allowNetwork: false,
      allowRead: ["/opt/homebrew", "/var/db/shared"],
      allowWrite: ["/Users/alice/.cache/pip/"],
      protectPaths: [".git/hooks", "./.git/config", ".env"],
      denyRead: [{ path: "/etc/bunker/config.json", directory: false }],
    };
    const { argv } = createSeatbeltBackend().buildCommand(specIn(WORKSPACE, ["ls"]), policy);
    expect(argv).toEqual([
      "/usr/bin/sandbox-exec",
      "-p",
      buildSeatbeltProfile({ allowNetwork: false, allowReadCount: 2, allowWriteCount: 1, protectCount: 3, denyReadCount: 1 }),
      "-D",
      `WORKSPACE=${WORKSPACE}`,
      "-D",
      "ALLOW_READ_0=/opt/homebrew",
      "-D",
      "ALLOW_READ_1=/private/var/db/shared",
      "-D",
      "ALLOW_WRITE_0=/Users/alice/.cache/pip",
      "-D",
      `PROTECT_0=${WORKSPACE}/.git/hooks`,
      "-D",
      `PROTECT_1=${WORKSPACE}/.git/config`,
      "-D",
      `PROTECT_2=${WORKSPACE}/.env`,
      "-D",
      "DENY_READ_0=/private/etc/bunker/config.json",
      "--",
      "ls",
    ]);
  });

  test("writes protected paths under a workspace in /tmp or /var with the /private spelling seatbelt matches", () => {
    const workspace = "/var/folders/ab/T/ws";
    const { argv } = createSeatbeltBackend().buildCommand(specIn(workspace, ["ls"]), { workspace, allowNetwork: false, protectPaths: [".git/hooks"] });
    expect(argv.slice(3, -2)).toEqual(["-D", "WORKSPACE=/private/var/folders/ab/T/ws", "-D", "PROTECT_0=/private/var/folders/ab/T/ws/.git/hooks"]);
  });

  test("keeps the profile text the same for every set of paths of the same sizes", () => {
    const backend = createSeatbeltBackend();
    const profileOf = (policy: SandboxPolicy) => backend.buildCommand(specIn(policy.workspace, ["ls"]), policy).argv[2];
    const first = profileOf({ workspace: WORKSPACE, allowNetwork: false, allowRead: ["/opt/a"], allowWrite: ["/srv/b"], protectPaths: [".env"] });
    const second = profileOf({ workspace: "/Users/bob/ws", allowNetwork: false, allowRead: ["/nix/store"], allowWrite: ["/scratch"], protectPaths: [".git/hooks"] });
    expect(second).toBe(first);
  });

  test("keeps every path out of the profile text and passes it only as a -D parameter", () => {
    const policy: SandboxPolicy = {
      workspace: '/tmp/evil-ws") (allow default) ;',
      allowNetwork: false,
      allowRead: ['/evil-read") (allow file-write* (subpath "/")) ;'],
      allowWrite: ['/evil-write")) (allow default'],
      protectPaths: ['evil-protect") (allow file-write*'],
    };
    for (const allowNetwork of [false, true]) {
      const { argv } = createSeatbeltBackend().buildCommand(specIn(policy.workspace, ["/bin/ls"]), { ...policy, allowNetwork });
      const profile = argv[2] ?? "";
      expect(profile).toBe(buildSeatbeltProfile({ allowNetwork, allowReadCount: 1, allowWriteCount: 1, protectCount: 1 }));
      expect(profile).not.toContain("evil");
      expect(profile).not.toContain("(allow default)");
      expect(argv.slice(3)).toEqual([
        "-D",
        'WORKSPACE=/private/tmp/evil-ws") (allow default) ;',
        "-D",
        'ALLOW_READ_0=/evil-read") (allow file-write* (subpath "/")) ;',
        "-D",
        'ALLOW_WRITE_0=/evil-write")) (allow default',
        "-D",
        'PROTECT_0=/private/tmp/evil-ws") (allow default) ;/evil-protect") (allow file-write*',
        "--",
        "/bin/ls",
      ]);
    }
  });

  test("keeps a program whose name looks like an option after --", () => {
    const backend = createSeatbeltBackend();
    const { argv } = backend.buildCommand(specIn(WORKSPACE, ["-f", "x"]), { workspace: WORKSPACE, allowNetwork: false });
    expect(argv.slice(-3)).toEqual(["--", "-f", "x"]);
  });

  test("rejects a relative or root path, and a protected path that leaves the workspace, with a TypeError that quotes it", () => {
    const backend = createSeatbeltBackend();
    const build = (policy: Partial<SandboxPolicy>) => () => backend.buildCommand(specIn(WORKSPACE, ["ls"]), { workspace: WORKSPACE, allowNetwork: false, ...policy });
    expect(build({ workspace: "/" })).toThrow(new TypeError('workspace must not be the root directory, got "/"'));
    expect(build({ allowRead: ["opt"] })).toThrow(new TypeError('allowRead must be an absolute path, got "opt"'));
    expect(build({ allowWrite: ["/tmp/.."] })).toThrow(new TypeError('allowWrite must not be the root directory, got "/tmp/.."'));
    for (const bad of ["../x", "/etc", ".", ".git/../../x"]) {
      expect(build({ protectPaths: [bad] })).toThrow(
        new TypeError(`protectPaths: each must be a path inside the workspace, such as .git/hooks, got ${JSON.stringify(bad)}`),
      );
    }
  });
});

describe("createSeatbeltBackend with resource limits", () => {
  test("sets the limits inside the sandbox with bash's ulimit, then execs the command", () => {
    const { argv } = createSeatbeltBackend({ applyRlimits: true }).buildCommand(specIn(WORKSPACE, ["make", "-j4"], { rlimits: RLIMITS }), {
      workspace: WORKSPACE,
      allowNetwork: false,
    });
    // fileSizeBytes in 1024-byte blocks, rounded down; no address space (macOS refuses RLIMIT_AS).
    expect(argv).toEqual(["/usr/bin/sandbox-exec", "-p", PROFILE, "-D", `WORKSPACE=${WORKSPACE}`, "--", ...RLIMIT_WRAPPER, "100", "10240", "256", "512", "make", "-j4"]);
  });

  test("runs the command directly when limits are off or the exec has none", () => {
    const policy: SandboxPolicy = { workspace: WORKSPACE, allowNetwork: false };
    const off = createSeatbeltBackend().buildCommand(specIn(WORKSPACE, ["ls"], { rlimits: RLIMITS }), policy);
    const none = createSeatbeltBackend({ applyRlimits: true }).buildCommand(specIn(WORKSPACE, ["ls"]), policy);
    expect(insideSandbox(off.argv)).toEqual(["ls"]);
    expect(insideSandbox(none.argv)).toEqual(["ls"]);
  });

  test("rejects a limit that is not a whole number with a TypeError that quotes it", () => {
    const backend = createSeatbeltBackend({ applyRlimits: true });
    const spec = specIn(WORKSPACE, ["ls"], { rlimits: { ...RLIMITS, openFiles: Number.NaN } });
    expect(() => backend.buildCommand(spec, { workspace: WORKSPACE, allowNetwork: false })).toThrow(
      new TypeError("rlimits.openFiles must be a whole number, got NaN"),
    );
  });
});

describe("createSeatbeltBackend with a PTY", () => {
  test("starts a PTY exec in a new session too, with nothing put in front of the command", () => {
    const { argv, detached } = createSeatbeltBackend().buildCommand(specIn(WORKSPACE, ["/bin/zsh", "-i"], { pty: true }), {
      workspace: WORKSPACE,
      allowNetwork: false,
    });
    expect(detached).toBe(true);
    expect(insideSandbox(argv)).toEqual(["/bin/zsh", "-i"]);
  });

  test("a detached PTY spawn leads its own process group, so the exec's tree can be killed", async () => {
    // Bun's behaviour the backend relies on, checked with the part that runs inside the sandbox.
    const command = createSeatbeltBackend().buildCommand(specIn("/", ["/bin/sleep", "30"], { pty: true }), { workspace: "/work", allowNetwork: false });
    const terminal = new Bun.Terminal({ cols: 80, rows: 24, data: () => {} });
    try {
      const child = Bun.spawn(insideSandbox(command.argv), { env: command.env, terminal, detached: command.detached });
      expect(() => process.kill(-child.pid, 0)).not.toThrow();
      process.kill(-child.pid, "SIGKILL");
      expect(await child.exited).not.toBe(0);
    } finally {
      terminal.close();
    }
  });
});

// The wrapper is plain bash: its script runs here too. On macOS this is the real /bin/bash (3.2).
const hasBash = existsSync(RLIMIT_SHELL_PATH);
if (!hasBash) console.warn(`rlimit wrapper tests skipped: ${RLIMIT_SHELL_PATH} does not exist here`);

describe.skipIf(!hasBash)(`the rlimit wrapper run by the host's ${RLIMIT_SHELL_PATH}`, () => {
  async function runWrapper(argv: string[], env: Record<string, string> = {}) {
    const { argv: built } = createSeatbeltBackend({ applyRlimits: true }).buildCommand(specIn("/", argv, { rlimits: RLIMITS }), {
      workspace: "/work",
      allowNetwork: false,
    });
    const child = Bun.spawn(insideSandbox(built), { env: { PATH: "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { stdout, stderr, exitCode };
  }

  const PRINT_LIMITS = ["/bin/bash", "-p", "-c", 'for o in t f n u c; do echo "$o $(ulimit -S -$o) $(ulimit -H -$o)"; done'];

  test("sets each limit, soft and hard alike, before the command runs", async () => {
    expect(await runWrapper(PRINT_LIMITS)).toEqual({ stdout: "t 100 100\nf 10240 10240\nn 256 256\nu 512 512\nc 0 0\n", stderr: "", exitCode: 0 });
  });

  test("cannot be talked out of the limits by BASH_ENV or a function exported in the request's env", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bunker-rlimit-"));
    try {
      const marker = join(dir, "ran");
      await writeFile(join(dir, "env.sh"), `: > '${marker}'\n`);
      const result = await runWrapper(PRINT_LIMITS, { BASH_ENV: join(dir, "env.sh"), ENV: join(dir, "env.sh"), "BASH_FUNC_ulimit%%": "() { :; }" });
      expect(result).toEqual({ stdout: "t 100 100\nf 10240 10240\nn 256 256\nu 512 512\nc 0 0\n", stderr: "", exitCode: 0 });
      expect(existsSync(marker)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("execs a program whose name starts with - as the program, and names itself when that fails", async () => {
    const result = await runWrapper(["-x", "y"]);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toMatch(/^bunker-rlimits: line \d+: exec: -x: not found\n$/);
  });
});
