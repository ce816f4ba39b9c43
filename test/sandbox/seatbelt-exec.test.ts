import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PROTECTED_PATHS } from "../../src/sandbox/protected-paths.ts";
import { DEFAULT_RLIMITS, type Rlimits } from "../../src/sandbox/rlimits.ts";
import { createSeatbeltBackend, probeSeatbelt, probeSeatbeltRlimits } from "../../src/sandbox/seatbelt.ts";
import type { SandboxPolicy } from "../../src/sandbox/types.ts";

// Execution under the real kernel policy: macOS only. Elsewhere seatbelt.test.ts and
// seatbelt-command.test.ts check the profile text and the argv.
const onMacOS = test.skipIf(process.platform !== "darwin");
if (process.platform !== "darwin") {
  console.warn(`seatbelt execution tests skipped: sandbox-exec exists only on macOS (this is ${process.platform})`);
}

interface TempDir extends AsyncDisposable {
  path: string;
}

/** A canonical temp dir: seatbelt matches resolved paths, and tmpdir() on macOS is behind /var. */
async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

interface Finished {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs argv the way the server does: the session's temp dir made first, a clean env, its own process group. */
async function runSandboxed(argv: string[], policy: SandboxPolicy, rlimits?: Rlimits): Promise<Finished> {
  const backend = createSeatbeltBackend({ applyRlimits: rlimits !== undefined });
  const tempDir = backend.tempDir(policy);
  await mkdir(tempDir, { recursive: true, mode: 0o700 });
  const env = { PATH: "/usr/bin:/bin", HOME: policy.workspace, TMPDIR: tempDir };
  const command = backend.buildCommand({ argv, cwd: policy.workspace, env, ...(rlimits && { rlimits }) }, policy);
  const child = Bun.spawn(command.argv, {
    env: command.env,
    cwd: command.cwd,
    detached: command.detached,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout, stderr };
}

describe("seatbelt execution on macOS", () => {
  onMacOS("passes its startup probes, the profile's and the resource limits'", async () => {
    expect(await probeSeatbelt()).toEqual({ ok: true });
    expect(await probeSeatbeltRlimits(DEFAULT_RLIMITS)).toEqual({ ok: true });
  });

  onMacOS("lets a command write inside the workspace and its temp dir", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    const result = await runSandboxed(["/bin/sh", "-c", 'echo inside > inside.txt && mktemp "$TMPDIR/x.XXXX"'], { workspace: workspace.path, allowNetwork: false });
    expect(result.exitCode).toBe(0);
    expect(await readFile(join(workspace.path, "inside.txt"), "utf8")).toBe("inside\n");
    expect(result.stdout.startsWith(`${workspace.path}/.tmp/x.`)).toBe(true);
  });

  onMacOS("stops a command writing outside the workspace, the host's /tmp included", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using outside = await makeTempDir("bunker-outside-");
    const target = join(outside.path, "escaped.txt");
    const result = await runSandboxed(["/bin/sh", "-c", `echo out > '${target}'`], { workspace: workspace.path, allowNetwork: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("Operation not permitted");
    expect(existsSync(target)).toBe(false);
    const hostTmp = `/private/tmp/bunker-escape-${process.pid}`;
    expect((await runSandboxed(["/usr/bin/touch", hostTmp], { workspace: workspace.path, allowNetwork: false })).exitCode).not.toBe(0);
    expect(existsSync(hostTmp)).toBe(false);
  });

  onMacOS("stops a command reading a file outside the workspace", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using outside = await makeTempDir("bunker-outside-");
    const secret = join(outside.path, "secret.txt");
    await writeFile(secret, "s3cret\n");
    const result = await runSandboxed(["/bin/cat", secret], { workspace: workspace.path, allowNetwork: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).not.toContain("s3cret");
  });

  onMacOS("reads an --allow-read path without writing it, and writes an --allow-write path", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using readable = await makeTempDir("bunker-read-");
    await using writable = await makeTempDir("bunker-write-");
    await writeFile(join(readable.path, "data.txt"), "shared\n");
    const policy: SandboxPolicy = { workspace: workspace.path, allowNetwork: false, allowRead: [readable.path], allowWrite: [writable.path] };
    expect(await runSandboxed(["/bin/cat", join(readable.path, "data.txt")], policy)).toMatchObject({ exitCode: 0, stdout: "shared\n" });
    expect((await runSandboxed(["/usr/bin/touch", join(readable.path, "new.txt")], policy)).exitCode).not.toBe(0);
    expect(existsSync(join(readable.path, "new.txt"))).toBe(false);
    expect((await runSandboxed(["/usr/bin/touch", join(writable.path, "new.txt")], policy)).exitCode).toBe(0);
    expect(existsSync(join(writable.path, "new.txt"))).toBe(true);
  });

  onMacOS("keeps protected paths read-only and in place, while the rest of .git stays writable", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await mkdir(join(workspace.path, ".git/hooks"), { recursive: true });
    await writeFile(join(workspace.path, ".git/config"), "[core]\n");
    const policy: SandboxPolicy = { workspace: workspace.path, allowNetwork: false, protectPaths: DEFAULT_PROTECTED_PATHS };
    const attempts = [
      "echo evil > .git/hooks/pre-commit",
      "echo evil >> .git/config",
      "echo evil > new && mv new .git/config",
      "mv .git/hooks hooks-away",
      "mv .git git-away",
      "rm -rf .git",
    ];
    for (const attempt of attempts) {
      expect((await runSandboxed(["/bin/sh", "-c", attempt], policy)).exitCode).not.toBe(0);
    }
    expect(existsSync(join(workspace.path, ".git/hooks/pre-commit"))).toBe(false);
    expect(await readFile(join(workspace.path, ".git/config"), "utf8")).toBe("[core]\n");
    expect(existsSync(join(workspace.path, "git-away"))).toBe(false);
    expect((await runSandboxed(["/bin/sh", "-c", "echo ref > .git/HEAD"], policy)).exitCode).toBe(0);
  });

  onMacOS("cannot create a protected path that does not exist yet, directly or by renaming a prepared one", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    const policy: SandboxPolicy = { workspace: workspace.path, allowNetwork: false, protectPaths: DEFAULT_PROTECTED_PATHS };
    expect((await runSandboxed(["/bin/mkdir", "-p", ".git/hooks"], policy)).exitCode).not.toBe(0);
    expect((await runSandboxed(["/bin/sh", "-c", "mkdir -p ready/hooks && mv ready .git"], policy)).exitCode).not.toBe(0);
    expect((await runSandboxed(["/bin/ln", "-s", "ready", ".git"], policy)).exitCode).not.toBe(0);
    expect(existsSync(join(workspace.path, ".git"))).toBe(false);
  });

  onMacOS("sets the resource limits inside the sandbox, soft and hard alike", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    const rlimits: Rlimits = { ...DEFAULT_RLIMITS, cpuSeconds: 100, openFiles: 256, fileSizeBytes: 1024 * 1024 };
    const print = ["/bin/bash", "-p", "-c", 'for o in t f n c; do echo "$o $(ulimit -S -$o) $(ulimit -H -$o)"; done'];
    const result = await runSandboxed(print, { workspace: workspace.path, allowNetwork: false }, rlimits);
    expect(result).toEqual({ exitCode: 0, stdout: "t 100 100\nf 1024 1024\nn 256 256\nc 0 0\n", stderr: "" });
  });

  onMacOS("refuses a connection to a local server when allowNetwork is false", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("reached") });
    const curl = ["/usr/bin/curl", "-sS", "--max-time", "5", `http://127.0.0.1:${server.port}/`];
    const denied = await runSandboxed(curl, { workspace: workspace.path, allowNetwork: false });
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stdout).not.toContain("reached");
    // The control: the same request succeeds with the network allowed, so the denial above is the sandbox's.
    const allowed = await runSandboxed(curl, { workspace: workspace.path, allowNetwork: true });
    expect(allowed).toMatchObject({ exitCode: 0, stdout: "reached" });
  });

  onMacOS("cannot reach other apps through open or osascript", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    const policy: SandboxPolicy = { workspace: workspace.path, allowNetwork: false };
    expect((await runSandboxed(["/usr/bin/open", "-g", "-a", "Finder"], policy)).exitCode).not.toBe(0);
    expect((await runSandboxed(["/usr/bin/osascript", "-e", 'tell application "Finder" to get name'], policy)).exitCode).not.toBe(0);
  });
});
